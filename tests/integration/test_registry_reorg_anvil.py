"""The OrganisationRegistry read model under a reorg on anvil: a key added in an
orphaned block is forgotten, and signs nothing once its block left the chain."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from eth_account import Account
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from backend.chain import ChainClient
from backend.chain.organisations import KeyGrant, OrganisationRegistryClient, Role, org_id_for
from backend.indexer.service import Indexer
from backend.main import create_app
from backend.orgs.models import RegistryKey
from tests.backend.conftest import api_settings
from tests.backend.factories import domain_of, make_org, signed_event
from tests.conftest import deployment_for
from tests.context import context, workers

pytestmark = pytest.mark.anvil


@pytest.fixture
def anvil_api(db_url: str, db_engine: Engine, anvil_chain: ChainClient) -> Iterator[TestClient]:
    """The app on anvil (workers driven by the test), rolled back after the test."""
    dep = deployment_for(anvil_chain)
    snap = anvil_chain.snapshot()
    app = create_app(api_settings(db_url), anvil_chain, deployment=dep)
    try:
        with TestClient(app) as client:
            yield client
    finally:
        anvil_chain.revert(snap)


def test_reorg_on_anvil_forgets_a_key_added_in_an_orphaned_block(
    anvil_api: TestClient, anvil_chain: ChainClient
) -> None:
    indexer: Indexer = workers(anvil_api).indexer
    acme = make_org(anvil_api, "acme")
    workers(anvil_api).relay.relayer.drive()
    indexer.step()
    registry = OrganisationRegistryClient(
        anvil_chain, context(anvil_api).loaded().deployment.address("OrganisationRegistry")
    )
    snap = anvil_chain.snapshot()
    added = Account.create()
    registry.add_key(KeyGrant(org_id_for("acme"), added.address, Role.CARRIER))
    indexer.step()
    with context(anvil_api).sessions() as session:
        assert session.get(RegistryKey, added.address) is not None
    accepted = anvil_api.post(
        "/v1/events", json=signed_event(domain_of(anvil_api), added), headers=acme.writer
    )
    assert accepted.status_code == 202, accepted.text

    anvil_chain.revert(snap)  # the fork without the key's addition wins
    anvil_chain.mine(4)
    indexer.step()
    assert indexer.reorgs == 1
    with context(anvil_api).sessions() as session:
        assert session.get(RegistryKey, added.address) is None
        # What was indexed before the fork survives.
        assert session.get(RegistryKey, acme.signer.address) is not None
    refused = anvil_api.post(
        "/v1/events", json=signed_event(domain_of(anvil_api), added), headers=acme.writer
    )
    assert refused.status_code == 403
    assert refused.json()["detail"] == f"{added.address} is not a signer key of this organisation"
