"""Backend fixtures: database per backend, and the API app over the tester chain."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from backend.chain import ChainClient
from backend.config import Settings
from backend.db.engine import make_engine
from backend.main import create_app
from tests.conftest import deployment_for
from tests.db_fixtures import clean, db_engine, db_url  # noqa: F401 - fixtures

if TYPE_CHECKING:
    from tests.backend.shipments.factories import Service

OPERATOR_TOKEN = "operator-test-token"


def api_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "chain_backend": "tester",
        "database_url": database_url,
        "admin_token": OPERATOR_TOKEN,
        "environment": "test",
        "anchor_worker_enabled": False,
        "indexer_enabled": False,
        "webhook_worker_enabled": False,
        "migrate_on_startup": False,
        "rate_limit_per_second": 1000.0,
        "rate_limit_burst": 1000,
        "auth_failure_burst": 100_000,
        "confirmations": 0,
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def api(db_url: str, db_engine: Engine, tester: ChainClient) -> Iterator[TestClient]:  # noqa: F811
    """The app on a clean database and the tester chain (workers driven by the test)."""
    app = create_app(api_settings(db_url), tester, deployment=deployment_for(tester))
    with TestClient(app) as client:
        yield client


@pytest.fixture(scope="module")
def module_api(db_url: str, tester_chain: ChainClient) -> Iterator[TestClient]:  # noqa: F811
    """One app, cleaned database and chain snapshot for a whole module.

    For modules whose tests only read or are refused (a refusal changes nothing), so
    the set-up of :func:`api` is paid once per module and database instead of per test.
    A module using it must not also use :func:`api` or ``db_engine`` (they empty the
    tables under it); the xdist scheduler keeps such a module on one worker.
    """
    engine = make_engine(db_url)
    clean(engine)
    engine.dispose()
    deployment = deployment_for(tester_chain)
    snap = tester_chain.snapshot()
    try:
        app = create_app(api_settings(db_url), tester_chain, deployment=deployment)
        with TestClient(app) as client:
            yield client
    finally:
        tester_chain.revert(snap)


@pytest.fixture
def svc(api: TestClient, tester: ChainClient) -> Service:
    """The API and the chain driven together: post signed writes, then mine and index them."""
    from tests.backend.shipments.factories import Service  # it imports this module's names

    return Service(api, tester)
