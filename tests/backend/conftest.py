"""Backend fixtures: database per backend, and the API app over the tester chain."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from backend.chain import ChainClient
from backend.config import Settings
from backend.main import create_app
from tests.conftest import deployment_for
from tests.db_fixtures import db_engine, db_url  # noqa: F401 - fixtures

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


@pytest.fixture
def svc(api: TestClient, tester: ChainClient) -> Service:
    """The API and the chain driven together: post signed writes, then mine and index them."""
    from tests.backend.shipments.factories import Service  # it imports this module's names

    return Service(api, tester)
