"""The app for anchoring tests: without the registry mirror, so anchor relays can be counted."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from backend.chain import ChainClient
from backend.main import create_app
from tests.backend.conftest import api_settings
from tests.conftest import deployment_for


@pytest.fixture
def api(db_url: str, db_engine: Engine, tester: ChainClient) -> Iterator[TestClient]:
    """The worker tests count relay requests exactly; the mirror's relays are tested in orgs/."""
    settings = api_settings(db_url, registry_mirror=False)
    app = create_app(settings, tester, deployment=deployment_for(tester))
    with TestClient(app) as client:
        yield client
