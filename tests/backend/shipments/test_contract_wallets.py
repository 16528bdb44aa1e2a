"""Contract wallets (ERC-1271) as parties of a shipment.

A wallet registered as an organisation's key signs shipments, milestones and
custody acceptances through its owner key, exactly as the contracts accept them;
a signature its owner did not make, a wallet that answers yes to everything and
a key rotated out of (or a wallet revoked from) the registry are refused before
anything is queued.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from backend.chain.typed_data import shipments as td
from backend.chain.typed_data.shipments import MilestoneType as M
from backend.common.types import to_hex
from tests.backend.factories import Org, make_org
from tests.backend.shipments.factories import (
    HOUR,
    Service,
    create_body,
    milestone_body,
    milestone_json,
    milestone_message,
    post,
)
from tests.backend.wallets import WalletKey, as_signer, register_key, revoke_in_registry


@dataclass
class Parties:
    seller: Org
    carrier: Org
    broker: Org
    wallet: WalletKey
    owner: LocalAccount


def _register(svc: Service, org: Org, address: str) -> None:
    register_key(svc.api, svc.settle, org, address)


def _owned_wallet(svc: Service, org: Org) -> tuple[WalletKey, LocalAccount]:
    owner = Account.create()
    address = svc.chain.deploy("OwnedSigningWallet", owner.address).address
    _register(svc, org, address)
    return WalletKey(address, bytes(owner.key)), owner


@pytest.fixture
def parties(svc: Service) -> Parties:
    seller = make_org(svc.api, "seller", ("seller",))
    carrier = make_org(svc.api, "carrier", ("carrier",))
    broker = make_org(svc.api, "broker", ("supplier",))
    wallet, owner = _owned_wallet(svc, carrier)
    return Parties(seller, carrier, broker, wallet, owner)


def _shipment(svc: Service, p: Parties) -> str:
    body = create_body(
        svc, p.seller.signer, [p.wallet.address], customs_broker=p.broker.signer.address
    )
    post(svc, "/v1/shipments", body, p.seller)
    svc.settle()
    return str(body["terms"]["shipmentId"])


def _state(svc: Service, p: Parties, sid: str) -> dict[str, Any]:
    resp = svc.api.get(f"/v1/shipments/{sid}", headers=p.seller.writer)
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


def _picked_up(svc: Service, p: Parties) -> str:
    sid = _shipment(svc, p)
    pickup = milestone_body(svc, sid, M.PICKED_UP, p.seller.signer, receiver=as_signer(p.wallet))
    post(svc, f"/v1/shipments/{sid}/milestones", pickup, p.seller)
    svc.settle()
    return sid


# -- what a wallet may do ------------------------------------------------------------


def test_wallet_co_signs_a_pickup_and_records_a_departure_through_erc1271(
    svc: Service, parties: Parties
) -> None:
    p = parties
    sid = _picked_up(svc, p)
    state = _state(svc, p, sid)
    assert state["status"] == "picked_up"
    assert state["custodian"] == p.wallet.address
    cleared = milestone_body(svc, sid, M.EXPORT_CLEARED, p.broker.signer)
    post(svc, f"/v1/shipments/{sid}/milestones", cleared, p.broker)
    svc.settle()
    departed = milestone_body(svc, sid, M.DEPARTED, as_signer(p.wallet))
    post(svc, f"/v1/shipments/{sid}/milestones", departed, p.carrier)
    svc.settle()
    state = _state(svc, p, sid)
    assert state["status"] == "in_transit"
    assert state["milestones"][-1]["signer"] == p.wallet.address


def test_wallet_seller_creates_a_shipment_through_erc1271(svc: Service, parties: Parties) -> None:
    p = parties
    seller_wallet, _owner = _owned_wallet(svc, p.seller)
    body = create_body(svc, as_signer(seller_wallet), [p.carrier.signer.address])
    post(svc, "/v1/shipments", body, p.seller)
    svc.settle()
    state = _state(svc, p, str(body["terms"]["shipmentId"]))
    assert state["seller"] == seller_wallet.address


def test_two_key_wallet_signs_with_a_signature_longer_than_one_key(
    svc: Service, parties: Parties
) -> None:
    """A multi-owner wallet's 130-byte signature is accepted for an acceptance and a milestone."""
    p = parties
    first, second = Account.create(), Account.create()
    wallet = svc.chain.deploy("TwoKeyWallet", first.address, second.address).address
    _register(svc, p.carrier, wallet)
    body = create_body(svc, p.seller.signer, [wallet], customs_broker=p.broker.signer.address)
    post(svc, "/v1/shipments", body, p.seller)
    svc.settle()
    sid = str(body["terms"]["shipmentId"])
    domain = svc.registry.domain()
    # The pickup, countersigned by both of the wallet's keys.
    msg = milestone_message(svc, sid, M.PICKED_UP, p.seller.signer, counterparty=wallet)
    nonce, deadline = svc.registry.nonce(wallet), svc.now() + HOUR
    halves = [
        td.sign_acceptance(k.key, domain, msg, nonce=nonce, deadline=deadline)
        for k in (first, second)
    ]
    pickup = {
        "milestone": milestone_json(msg),
        "signature": to_hex(td.sign_milestone(p.seller.signer.key, domain, msg)),
        "acceptance": {"nonce": nonce, "deadline": deadline, "signature": to_hex(b"".join(halves))},
    }
    # One key alone is not the wallet's signature.
    alone = {**pickup, "acceptance": {**pickup["acceptance"], "signature": to_hex(halves[0])}}
    resp = svc.api.post(f"/v1/shipments/{sid}/milestones", json=alone, headers=p.seller.writer)
    assert resp.status_code == 422, resp.text
    assert f"contract wallet {wallet} does not accept it" in resp.json()["detail"]
    post(svc, f"/v1/shipments/{sid}/milestones", pickup, p.seller)
    svc.settle()
    assert _state(svc, p, sid)["custodian"] == wallet
    cleared = milestone_body(svc, sid, M.EXPORT_CLEARED, p.broker.signer)
    post(svc, f"/v1/shipments/{sid}/milestones", cleared, p.broker)
    svc.settle()
    # The departure, signed by the wallet itself.
    msg = milestone_message(svc, sid, M.DEPARTED, cast(LocalAccount, WalletKey(wallet, b"")))
    both = b"".join(td.sign_milestone(k.key, domain, msg) for k in (first, second))
    departed = {"milestone": milestone_json(msg), "signature": to_hex(both)}
    post(svc, f"/v1/shipments/{sid}/milestones", departed, p.carrier)
    svc.settle()
    state = _state(svc, p, sid)
    assert state["status"] == "in_transit"
    assert state["milestones"][-1]["signer"] == wallet


# -- attacks ----------------------------------------------------------------------------


def test_wallet_signature_its_owner_did_not_make_is_refused(svc: Service, parties: Parties) -> None:
    p = parties
    sid = _picked_up(svc, p)
    stranger = Account.create()
    forged = milestone_body(svc, sid, M.DEPARTED, as_signer(p.wallet), sign_with=stranger)
    resp = svc.api.post(f"/v1/shipments/{sid}/milestones", json=forged, headers=p.carrier.writer)
    assert resp.status_code == 422, resp.text
    assert f"contract wallet {p.wallet.address} does not accept it" in resp.json()["detail"]
    # A pickup accepted "for" the wallet by a key that is not its owner.
    sid = _shipment(svc, p)
    fake = WalletKey(p.wallet.address, bytes(stranger.key))
    pickup = milestone_body(svc, sid, M.PICKED_UP, p.seller.signer, receiver=as_signer(fake))
    resp = svc.api.post(f"/v1/shipments/{sid}/milestones", json=pickup, headers=p.seller.writer)
    assert resp.status_code == 422, resp.text
    assert "acceptance counterparty" in resp.json()["detail"]
    assert _state(svc, p, sid)["status"] == "created"


def test_wallet_that_accepts_everything_speaks_only_for_itself(
    svc: Service, parties: Parties
) -> None:
    p = parties
    mallory = make_org(svc.api, "mallory", ("seller", "carrier"))
    yes = svc.chain.deploy("AcceptAllWallet").address
    _register(svc, mallory, yes)
    sid = _picked_up(svc, p)
    # Its "signature" on a milestone that names the carrier's wallet as signer...
    junk = WalletKey(p.wallet.address, bytes(mallory.signer.key))
    claimed = milestone_body(svc, sid, M.DEPARTED, as_signer(junk))
    for org in (mallory, p.carrier):
        resp = svc.api.post(f"/v1/shipments/{sid}/milestones", json=claimed, headers=org.writer)
        assert resp.status_code in (403, 422), resp.text
    # ...or the carrier's plain key: neither is its to give.
    as_carrier = milestone_body(svc, sid, M.DEPARTED, p.carrier.signer, sign_with=mallory.signer)
    resp = svc.api.post(
        f"/v1/shipments/{sid}/milestones", json=as_carrier, headers=p.carrier.writer
    )
    assert resp.status_code == 422, resp.text
    assert f"it was made by {mallory.signer.address}" in resp.json()["detail"]
    # Speaking for itself it is only a stranger to the shipment.
    itself = milestone_body(svc, sid, M.DEPARTED, as_signer(WalletKey(yes, bytes(32 * b"\x01"))))
    resp = svc.api.post(f"/v1/shipments/{sid}/milestones", json=itself, headers=mallory.writer)
    assert resp.status_code == 404, resp.text
    assert _state(svc, p, sid)["status"] == "picked_up"


def test_key_rotated_out_of_a_wallet_or_wallet_revoked_is_refused(
    svc: Service, parties: Parties
) -> None:
    p = parties
    sid = _picked_up(svc, p)
    # The owner rotates the wallet's key: what the old key signs no longer counts.
    new_owner = Account.create()
    svc.chain.send_value(p.owner.address, 10**18)
    svc.chain.with_account(p.owner).transact(
        svc.chain.contract("OwnedSigningWallet", p.wallet.address), "setOwner", new_owner.address
    )
    stale = milestone_body(svc, sid, M.DEPARTED, as_signer(p.wallet))
    resp = svc.api.post(f"/v1/shipments/{sid}/milestones", json=stale, headers=p.carrier.writer)
    assert resp.status_code == 422, resp.text
    fresh_key = WalletKey(p.wallet.address, bytes(new_owner.key))
    fresh = milestone_body(svc, sid, M.DEPARTED, as_signer(fresh_key))
    # The organisation revokes the wallet in the registry: nothing it signs counts.
    revoke_in_registry(svc.chain, p.wallet.address)
    svc.settle()
    resp = svc.api.post(f"/v1/shipments/{sid}/milestones", json=fresh, headers=p.carrier.writer)
    assert resp.status_code == 403, resp.text
    assert _state(svc, p, sid)["status"] == "picked_up"


def test_wallet_signature_past_the_bound_is_a_clear_422(svc: Service, parties: Parties) -> None:
    p = parties
    sid = _picked_up(svc, p)
    departed = milestone_body(svc, sid, M.DEPARTED, as_signer(p.wallet))
    departed["signature"] = to_hex(bytes(2048))
    resp = svc.api.post(f"/v1/shipments/{sid}/milestones", json=departed, headers=p.carrier.writer)
    assert resp.status_code == 422, resp.text
    assert "signature must be 0 to 2047 bytes, got 2048" in resp.json()["detail"]
    departed["signature"] = "0x" + "zz" * 65
    resp = svc.api.post(f"/v1/shipments/{sid}/milestones", json=departed, headers=p.carrier.writer)
    assert resp.status_code == 422, resp.text
    assert "signature must be 0x followed by hex digits" in resp.json()["detail"]
    assert _state(svc, p, sid)["status"] == "picked_up"
