"""The passport registry contract of the app under test."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from backend.chain import ChainClient
from backend.chain.passports import PassportRegistryClient
from tests.context import context


@pytest.fixture
def reg(api: TestClient, tester: ChainClient) -> PassportRegistryClient:
    address = context(api).loaded().deployment.address("ProductPassportRegistry")
    return PassportRegistryClient(tester, address)
