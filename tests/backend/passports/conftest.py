"""The passport registry contract of the app under test, and the organisations that speak
about passports: a brand owning the sample GS1 prefix, a certifier, and another org that is
both (a stranger to the brand's products)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from backend.chain import ChainClient
from backend.chain.passports import PassportRegistryClient
from tests.backend.factories import SAMPLE_PREFIX, Org, make_org
from tests.context import context


@pytest.fixture
def reg(api: TestClient, tester: ChainClient) -> PassportRegistryClient:
    address = context(api).loaded().deployment.address("ProductPassportRegistry")
    return PassportRegistryClient(tester, address)


@dataclass
class Orgs:
    brand: Org
    certifier: Org
    other: Org


@pytest.fixture
def orgs(api: TestClient) -> Orgs:
    return Orgs(
        brand=make_org(api, "brand", ("seller",), prefixes=(SAMPLE_PREFIX,)),
        certifier=make_org(api, "certifier", ("certifier",)),
        other=make_org(api, "other", ("seller", "certifier")),
    )
