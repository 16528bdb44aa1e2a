"""A live server for the credential tests (did:web resolves over loopback)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from backend.chain import ChainClient
from backend.main import create_app
from tests.backend.conftest import api_settings
from tests.backend.credentials.live import LiveClient
from tests.conftest import deployment_for
from tests.integration.live_server import free_port, serve


@pytest.fixture
def live(db_url: str, db_engine: Engine, tester: ChainClient) -> Iterator[LiveClient]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = create_app(
        api_settings(db_url, public_base_url=base), tester, deployment=deployment_for(tester)
    )
    with serve(app, port) as url, LiveClient(url, app) as client:
        yield client
