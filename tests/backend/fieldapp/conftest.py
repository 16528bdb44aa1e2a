"""Field app pages answer with links on the public base URL the tests browse."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from backend.chain import ChainClient
from tests.backend.shipments.factories import Service
from tests.context import context


@pytest.fixture
def svc(api: TestClient, tester: ChainClient) -> Service:
    context(api).settings.public_base_url = "http://testserver"
    return Service(api, tester)
