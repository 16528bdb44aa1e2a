"""Who may speak for a product: each attack, tried through the API on eth-tester and anvil.

The same app, relayer and indexer run over each chain backend in turn (the ``chain``
fixture), so a refusal that depends on the chain (a simulated revert, the indexed
OrganisationRegistry read model, a block window) is shown on both.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from eth_account import Account
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from backend.chain import ChainClient
from backend.chain.organisations import KeyGrant, OrganisationRegistryClient, Role, org_id_for
from backend.chain.passports import PassportRegistryClient, claim_type
from backend.chain.typed_data.shipments import MilestoneType as M
from backend.common.types import to_hex
from backend.gs1.keys import passport_id
from backend.main import create_app
from tests.backend.conftest import api_settings
from tests.backend.factories import SAMPLE_PREFIX, domain_of, make_org, signed_event
from tests.backend.passports.api_factories import attest_body, issue_body, sample_document
from tests.backend.qr.flow import Flow, make_flow
from tests.backend.shipments.factories import Service, create_body, milestone_body, post
from tests.conftest import deployment_for
from tests.context import context


@pytest.fixture
def any_api(db_url: str, db_engine: Engine, chain: ChainClient) -> Iterator[TestClient]:
    """The app over each chain backend (workers driven by the test)."""
    app = create_app(api_settings(db_url), chain, deployment=deployment_for(chain))
    with TestClient(app) as client:
        yield client


@pytest.fixture
def flow(any_api: TestClient, chain: ChainClient) -> Flow:
    return make_flow(any_api, chain)


def _passports(flow: Flow) -> PassportRegistryClient:
    return flow.passports()


def test_issue_for_another_brands_gtin_is_refused(flow: Flow) -> None:
    rival = make_org(flow.api, "rival", ("seller",))
    flow.svc.settle()
    reg = _passports(flow)
    body = issue_body(reg, rival.signer, sample_document(), deadline=flow.svc.now() + 3600)
    resp = flow.api.post("/v1/passports", json=body, headers=rival.writer)
    assert resp.status_code == 409, resp.text
    assert resp.json()["error"] == "PassportPrefixNotOwned"
    assert resp.json()["arguments"]["ownerOrg"] == "0x" + org_id_for(flow.seller.slug).hex()


def test_event_about_another_brands_passport_is_refused(flow: Flow) -> None:
    link, _ = flow.issue(lot="AT1", serial="SN-AT1")
    mallory = make_org(flow.api, "mallory")
    body = signed_event(
        domain_of(flow.api), mallory.signer, subject=passport_id(link.gtin, link.lot, link.serial)
    )
    resp = flow.api.post("/v1/events", json=body, headers=mallory.writer)
    assert resp.status_code == 403, resp.text
    assert resp.json()["detail"].startswith("subject rule: organisation 'mallory' may not")


def test_revoked_key_cannot_back_date_and_no_key_is_registered_in_the_past(
    any_api: TestClient,
) -> None:
    acme = make_org(any_api, "acme")
    rotated = any_api.post(
        f"/v1/orgs/acme/signers/{acme.signer_id}/rotate",
        json={"address": Account.create().address},
        headers=acme.admin,
    )
    assert rotated.status_code == 200, rotated.text
    revoked_at = int(datetime.fromisoformat(rotated.json()[0]["revoked_at"]).timestamp())
    back_dated = signed_event(domain_of(any_api), acme.signer, occurred_at=revoked_at - 3600)
    refused = any_api.post("/v1/events", json=back_dated, headers=acme.writer)
    assert refused.status_code == 403
    assert refused.json()["detail"].startswith("key validity rule:")
    past = (datetime.now(UTC) - timedelta(days=365)).isoformat()
    resp = any_api.post(
        "/v1/orgs/acme/signers",
        json={"address": Account.create().address, "valid_from": past},
        headers=acme.admin,
    )
    assert resp.status_code == 422
    assert resp.json()["detail"].startswith("key validity rule: valid_from")


def test_attestation_by_an_organisation_that_is_no_certifier_is_refused(flow: Flow) -> None:
    link, _ = flow.issue(lot="AT2", serial="SN-AT2")
    pid = passport_id(link.gtin, link.lot, link.serial)
    rogue = make_org(flow.api, "rogue", ("certifier",), roles=("seller",))
    flow.svc.settle()
    now = flow.svc.now()
    version = _passports(flow).version(pid, 1)
    body = attest_body(
        _passports(flow),
        rogue.signer,
        pid,
        version.document_hash,
        claim_type("fsc"),
        valid_until=now + 100,
        deadline=now + 60,
    )
    resp = flow.api.post(
        f"/v1/passports/{to_hex(pid)}/attestations", json=body, headers=rogue.writer
    )
    assert resp.status_code == 403, resp.text
    assert "does not hold the role certifier in OrganisationRegistry" in resp.json()["detail"]


def test_milestone_by_an_organisation_outside_the_milestones_trade_is_refused(
    any_api: TestClient, chain: ChainClient
) -> None:
    svc = Service(any_api, chain)
    seller = make_org(any_api, "seller", ("seller",), prefixes=(SAMPLE_PREFIX,))
    courier = make_org(any_api, "courier", ("carrier",), roles=("supplier",))
    svc.settle()
    body = create_body(svc, seller.signer, [courier.signer.address])
    post(svc, "/v1/shipments", body, seller)
    svc.settle()
    sid = str(body["terms"]["shipmentId"])
    # rolesOf names the courier as this shipment's carrier; the registry says it is none.
    assert svc.registry.roles_of(bytes.fromhex(sid[2:]), courier.signer.address)
    pickup = milestone_body(svc, sid, M.PICKED_UP, seller.signer, receiver=courier.signer)
    post(svc, f"/v1/shipments/{sid}/milestones", pickup, seller)
    svc.settle()
    exception = milestone_body(svc, sid, M.EXCEPTION, courier.signer, reason_code=1)
    resp = any_api.post(f"/v1/shipments/{sid}/milestones", json=exception, headers=courier.writer)
    assert resp.status_code == 403, resp.text
    assert resp.json()["detail"].startswith(
        f"key validity rule: signer {courier.signer.address} does not hold any of the roles "
        "seller, carrier, warehouse, customs_broker in OrganisationRegistry, which EXCEPTION needs"
    )


def test_bundle_shows_the_registry_window_of_a_key_added_on_chain_only(
    flow: Flow, chain: ChainClient
) -> None:
    link, _ = flow.issue(lot="AT3", serial="SN-AT3")
    pid = passport_id(link.gtin, link.lot, link.serial)
    registry = OrganisationRegistryClient(
        chain,
        context(flow.api).loaded().deployment.address("OrganisationRegistry"),
    )
    direct = Account.create()
    added = registry.add_key(KeyGrant(org_id_for(flow.seller.slug), direct.address, Role.ISSUER))
    flow.svc.settle()
    flow.sign_events(pid, count=1, by=replace(flow.seller, signer=direct))
    flow.anchor()
    bundle: dict[str, Any] = flow.api.get(f"/proof-bundle/0x{pid.hex()}.json").json()
    (event,) = [e for e in bundle["events"] if e["signer"] == direct.address]
    window = event["signer_validity"]["registry"]
    assert event["signer_validity"]["source"] == "OrganisationRegistry"
    assert window["valid_from_block"] == added.block_number
    assert window["revoked_at_block"] is None
    assert window["valid_from_block"] <= event["anchor"]["block_number"]
    assert registry.was_active_at(direct.address, Role.ISSUER, event["anchor"]["block_number"])
