"""Session-scoped compile, chains and deployments; snapshot/revert per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from backend.chain import ChainClient, make_chain
from backend.chain.anvil import AnvilNode, start_anvil
from backend.chain.compiler import Artifact, compile_contracts
from backend.chain.deployments import Deployment, deploy_all
from backend.config import Settings
from tests.scheduling import (  # noqa: F401 - the xdist hooks of make test
    pytest_collection_modifyitems,
    pytest_configure_node,
    pytest_unconfigure,
    pytest_xdist_make_scheduler,
)

CHAIN_BACKENDS = ["tester", pytest.param("anvil", marks=pytest.mark.anvil)]


@pytest.fixture(scope="session")
def artifacts() -> dict[str, Artifact]:
    return compile_contracts()


@pytest.fixture(scope="session")
def tester_chain(artifacts: dict[str, Artifact]) -> ChainClient:
    return make_chain(Settings(chain_backend="tester"), artifacts)


@pytest.fixture(scope="session")
def anvil_node() -> Iterator[AnvilNode]:
    node = start_anvil()
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture(scope="session")
def anvil_chain(anvil_node: AnvilNode, artifacts: dict[str, Artifact]) -> ChainClient:
    return make_chain(
        Settings(chain_backend="anvil", rpc_url=anvil_node.url, receipt_timeout_seconds=30),
        artifacts,
    )


_DEPLOYMENTS: dict[int, Deployment] = {}


def deployment_for(chain: ChainClient) -> Deployment:
    """Deploy the contract set once per chain for the whole session.

    A test that reverts to a snapshot taken before the first deployment rolls the
    contracts back; the set is deployed again then, so no test depends on which ran first.
    """
    key = id(chain)
    known = _DEPLOYMENTS.get(key)
    if known is None or not chain.has_code(known.address("OrganisationRegistry")):
        _DEPLOYMENTS[key] = deploy_all(chain)
    return _DEPLOYMENTS[key]


@pytest.fixture
def tester(tester_chain: ChainClient) -> Iterator[ChainClient]:
    """The tester chain, rolled back after the test."""
    deployment_for(tester_chain)
    snap = tester_chain.snapshot()
    yield tester_chain
    tester_chain.revert(snap)


@pytest.fixture(params=CHAIN_BACKENDS)
def chain(request: pytest.FixtureRequest) -> Iterator[ChainClient]:
    """Each chain backend in turn (tester, anvil), rolled back after the test."""
    client: ChainClient = request.getfixturevalue(f"{request.param}_chain")
    deployment_for(client)
    snap = client.snapshot()
    yield client
    client.revert(snap)


@pytest.fixture
def deployment(chain: ChainClient) -> Deployment:
    return deployment_for(chain)
