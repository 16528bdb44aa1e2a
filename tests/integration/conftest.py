"""Integration fixtures: the database fixtures shared with the backend tests, the seeded story."""

from collections.abc import Iterator

import pytest

from backend.chain import make_chain
from backend.chain.anvil import start_anvil
from backend.chain.compiler import Artifact
from backend.config import Settings
from tests.db_fixtures import db_engine, db_url  # noqa: F401 - fixtures
from tests.integration.proof_cases import ProofCase, build_cases
from tests.integration.world import World, seed_world


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The member-day story, seeded afresh for each module that reads it.

    Fresh per module: the service's SLA sweep acts on the chain's clock while a
    seeded world ages, so modules do not see each other's elapsed time.
    """
    yield from seed_world(tmp_path_factory.mktemp("scenario"))


@pytest.fixture(scope="module")
def proof_cases(artifacts: dict[str, Artifact]) -> Iterator[dict[str, ProofCase]]:
    """The eight proof cases of issue 14 on a private anvil node (stopped after the module)."""
    node = start_anvil()
    try:
        chain = make_chain(
            Settings(chain_backend="anvil", rpc_url=node.url, receipt_timeout_seconds=30),
            artifacts,
        )
        yield {case.name: case for case in build_cases(chain, node.url)}
    finally:
        node.stop()
