"""Purchase agreements through the API: gasless acceptance, refusals as 409, keeper settlement."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from backend.chain import ChainClient, ShipmentRegistryClient
from backend.chain.organisations import OrganisationRegistryClient, Role
from tests.backend.alliance.support import (
    OPERATOR,
    USD,
    Member,
    action_done,
    deployment_of,
    drive,
    make_member,
    token,
)
from tests.context import workers
from tests.contracts.agreement_world import (
    BOND,
    PER_DAY,
    PRICE,
    AgreementWorld,
    enrol_parties,
)
from tests.contracts.alliance_drivers import AgreementDriver
from tests.contracts.alliance_support import DAY, Party, advance_to
from tests.contracts.shipment_factory import Parties, ShipmentDriver


def _party(m: Member) -> Party:
    return Party(m.account, m.chain)


@pytest.fixture
def world(api: TestClient, tester: ChainClient) -> AgreementWorld:
    dep = deployment_of(api)
    buyer = make_member(api, tester, "buyer", cash=10_000 * USD)
    seller = make_member(api, tester, "seller")
    carrier = make_member(api, tester, "carrier", cash=10_000 * USD)
    arbiter = make_member(api, tester, "arbiter")
    enrol_parties(tester, dep, buyer=buyer.address, bonder=carrier.address, arbiter=arbiter.address)
    registry = ShipmentRegistryClient(tester, dep.address("ShipmentRegistry"))
    driver = ShipmentDriver(
        registry,
        Parties(seller=seller.account, carrier_a=carrier.account),
        consignee=buyer.account,
    )
    return AgreementWorld(
        chain=tester,
        registry=registry,
        agreements=AgreementDriver(tester, dep.address("DeliveryAgreement")),
        token=token(tester, dep),
        buyer=_party(buyer),
        seller=_party(seller),
        carrier=_party(carrier),
        arbiter=_party(arbiter),
        driver=driver,
    )


def _headers(api: TestClient, slug: str) -> dict[str, str]:
    resp = api.post(f"/v1/orgs/{slug}/api-keys", json={"scopes": ["seller"]}, headers=OPERATOR)
    assert resp.status_code == 201, resp.text
    return {"Authorization": f"Bearer {resp.json()['key']}"}


def test_late_delivery_is_settled_by_the_keeper_with_compensation(
    api: TestClient, world: AgreementWorld
) -> None:
    w = world
    seller_key = _headers(api, "seller")
    buyer_key = _headers(api, "buyer")
    aid = w.propose()
    w.as_(w.carrier).post_bond(aid, BOND)
    sid = w.driver.create()
    terms = w.agreements.agreement(aid).terms

    # A signature by anyone but the seller is refused with the contract's reason.
    deadline = w.now() + 3_600
    msg = w.agreements.acceptance_message(aid, terms, sid, deadline=deadline)
    body = {"shipment_id": "0x" + sid.hex(), "deadline": deadline}
    forged = w.agreements.sign_acceptance(w.buyer.key, msg)
    resp = api.post(
        f"/v1/agreements/{aid}/accept",
        json=body | {"signature": "0x" + forged.hex()},
        headers=seller_key,
    )
    assert resp.status_code == 409, resp.text
    assert resp.json()["error"] == "AgreementSignatureInvalid"
    assert resp.json()["arguments"]["signer"].lower() == w.seller.address.lower()

    # The seller signs off line; the service relays (no gas for the seller).
    signature = w.agreements.sign_acceptance(w.seller.key, msg)
    resp = api.post(
        f"/v1/agreements/{aid}/accept",
        json=body | {"signature": "0x" + signature.hex()},
        headers=seller_key,
    )
    action_done(api, resp, seller_key)
    view = api.get(f"/v1/agreements/{aid}", headers=seller_key).json()
    assert view["status"] == "active"
    assert view["shipment_id"] == "0x" + sid.hex()
    assert view["clause"]["compensation_per_day"] == PER_DAY
    assert view["due_at"] == terms.final_deadline + 1

    # Nothing is due before a delivery: 409 with the date it becomes due.
    resp = api.post(f"/v1/agreements/{aid}/settle", headers=seller_key)
    assert resp.status_code == 409, resp.text
    assert resp.json()["error"] == "AgreementNotDue"
    assert resp.json()["arguments"]["dueAt"] == terms.final_deadline + 1

    # Two started days late, with the buyer's proof of delivery.
    w.to_door(sid)
    advance_to(w.chain, terms.promised_by + DAY + 60)
    w.deliver(sid)
    preview = api.get(f"/v1/agreements/{aid}", headers=seller_key).json()["payout"]
    assert (preview["outcome"], preview["days_late"]) == ("late", 2)

    # Nobody asks: the keeper settles it.
    notifier = workers(api).notifier
    assert notifier.settle_agreements() == 1
    assert notifier.settle_agreements() == 0  # already queued, not twice
    drive(api)
    view = api.get(f"/v1/agreements/{aid}", headers=seller_key).json()
    assert view["status"] == "settled"
    assert view["settled_tx"] is not None
    payout = view["payout"]
    assert (payout["outcome"], payout["days_late"]) == ("late", 2)
    assert (payout["to_buyer"], payout["to_seller"], payout["to_bonder"]) == (
        2 * PER_DAY,
        PRICE,
        BOND - 2 * PER_DAY,
    )
    assert "2 started day(s) late" in payout["why"]
    listed = api.get("/v1/agreements", params={"party": w.buyer.address}, headers=seller_key)
    assert [a["agreement_id"] for a in listed.json()["items"]] == [aid]
    assert w.conserved()

    # The buyer's dashboard shows the agreement, what was paid and why.
    board = api.get("/dashboard", headers=buyer_key | {"Accept": "application/json"})
    assert board.status_code == 200, board.text
    (row,) = board.json()["agreements"]
    assert (row["agreement_id"], row["role"], row["outcome"]) == (aid, "buyer", "late")
    assert row["to_buyer"] == 2 * PER_DAY
    page = api.get("/dashboard", headers=buyer_key | {"Accept": "text/html"}).text
    assert f'data-agreement="{aid}"' in page
    assert "started day(s) late" in page


def test_settle_is_refused_to_organisations_outside_the_agreement(
    api: TestClient, tester: ChainClient, world: AgreementWorld
) -> None:
    aid, _sid = world.active()
    outsider = make_member(api, tester, "outsider")
    resp = api.post(f"/v1/agreements/{aid}/settle", headers=outsider.writer)
    assert resp.status_code == 403, resp.text
    assert api.get("/v1/agreements/999", headers=outsider.writer).status_code == 404


def test_accept_naming_an_arbiter_no_longer_accredited_is_refused_with_the_rule(
    api: TestClient, tester: ChainClient, world: AgreementWorld
) -> None:
    w = world
    seller_key = _headers(api, "seller")
    aid = w.propose()
    w.as_(w.carrier).post_bond(aid, BOND)
    sid = w.driver.create()
    # The arbiter's organisation key is revoked after the buyer proposed.
    orgs = OrganisationRegistryClient(tester, deployment_of(api).address("OrganisationRegistry"))
    orgs.revoke_key(w.arbiter.address)
    deadline = w.now() + 3_600
    terms = w.agreements.agreement(aid).terms
    msg = w.agreements.acceptance_message(aid, terms, sid, deadline=deadline)
    signature = w.agreements.sign_acceptance(w.seller.key, msg)
    resp = api.post(
        f"/v1/agreements/{aid}/accept",
        json={
            "shipment_id": "0x" + sid.hex(),
            "deadline": deadline,
            "signature": "0x" + signature.hex(),
        },
        headers=seller_key,
    )
    assert resp.status_code == 409, resp.text
    body = resp.json()
    assert body["error"] == "AgreementPartyNotInRole"
    assert body["arguments"]["party"] == 2
    assert body["arguments"]["account"].lower() == w.arbiter.address.lower()
    assert body["arguments"]["role"] == int(Role.ARBITER)
    drive(api)
    assert api.get(f"/v1/agreements/{aid}", headers=seller_key).json()["status"] == "proposed"


def test_read_model_is_indexed_from_the_logs_and_follows_a_reorg(
    api: TestClient, tester: ChainClient, world: AgreementWorld
) -> None:
    w = world
    key = _headers(api, "buyer")
    # Proposed, bonded and accepted straight on chain: the service only reads the logs.
    aid, sid = w.active()
    drive(api)
    view = api.get(f"/v1/agreements/{aid}", headers=key).json()
    assert (view["status"], view["shipment_id"], view["bond_posted"]) == (
        "active",
        "0x" + sid.hex(),
        BOND,
    )
    assert view["accepted_at"] == w.agreements.agreement(aid).accepted_at
    snap = tester.snapshot()
    w.to_door(sid)
    advance_to(w.chain, w.agreements.agreement(aid).terms.promised_by + DAY + 60)
    w.deliver(sid)
    w.agreements.settle(aid)
    drive(api)
    settled = api.get(f"/v1/agreements/{aid}", headers=key).json()
    assert (settled["status"], settled["payout"]["outcome"]) == ("settled", "late")
    assert settled["settled_tx"] is not None

    # Another fork wins: the delivery and the settlement vanish with their blocks.
    tester.revert(snap)
    for p in (w.buyer, w.seller, w.carrier, w.arbiter):
        p.chain.reset_nonce()
    tester.reset_nonce()
    tester.mine(2)
    drive(api)
    assert workers(api).indexer.reorgs == 1
    assert w.agreements.agreement(aid).status.name == "ACTIVE"
    view = api.get(f"/v1/agreements/{aid}", headers=key).json()
    assert (view["status"], view["settled_tx"]) == ("active", None)
    assert view["payout"] is None
    assert view["due_at"] == view["clause"]["final_deadline"] + 1
    (row,) = api.get("/dashboard", headers=key | {"Accept": "application/json"}).json()[
        "agreements"
    ]
    assert (row["status"], row["settled"]) == ("active", False)
