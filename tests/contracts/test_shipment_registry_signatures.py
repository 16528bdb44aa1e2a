"""ShipmentRegistry signature checks: every malformed, replayed or foreign signature is refused.

Each rejection is followed by the untouched original going through, which
shows the rejected attempt consumed no nonce and changed no state.
"""

from __future__ import annotations

from typing import Any

import pytest
from eth_account import Account
from eth_utils import keccak

from backend.chain import eip712
from backend.chain.eip712 import SECP256K1_N, Domain, StructType
from backend.chain.shipments import ShipmentRegistryClient
from backend.chain.typed_data import shipments as td
from tests.contracts.shipment_factory import (
    HOUR,
    PARTIES,
    M,
    S,
    ShipmentDriver,
    any_driver,
    driver,
    funded,
    registry,
    tester_registry,
)
from tests.helpers import reverts

__all__ = ["any_driver", "driver", "registry", "tester_registry"]  # fixtures

P = PARTIES


@pytest.fixture
def at_arrived(driver: ShipmentDriver) -> tuple[ShipmentDriver, bytes]:
    sid = driver.create("sig")
    driver.advance(sid, S.ARRIVED)
    return driver, sid


def _base(d: ShipmentDriver, sid: bytes) -> tuple[dict[str, Any], bytes]:
    """A valid CUSTOMS_HOLD by the broker (allowed at ARRIVED)."""
    return d.signed(sid, M.CUSTOMS_HOLD, P.broker, measured_weight_grams=120_300)


def _assert_original_still_valid(d: ShipmentDriver, sid: bytes, msg: dict, sig: bytes) -> None:
    assert d.registry.milestone_count(sid) == 4
    d.registry.record_milestone(msg, sig)
    assert d.registry.status(sid) == S.CUSTOMS_HOLD


def _with_s(sig: bytes, s: int, v: int) -> bytes:
    return sig[:32] + s.to_bytes(32, "big") + bytes([v])


def test_valid_signature_is_accepted_and_consumes_nonce(any_driver: ShipmentDriver) -> None:
    sid = any_driver.create("sig-ok")
    any_driver.advance(sid, S.ARRIVED)
    before = any_driver.registry.nonce(P.broker.address)
    msg, sig = _base(any_driver, sid)
    any_driver.registry.record_milestone(msg, sig)
    assert any_driver.registry.nonce(P.broker.address) == before + 1


def test_replayed_signature_is_rejected_by_nonce(any_driver: ShipmentDriver) -> None:
    sid = any_driver.create("replay")
    msg, sig = any_driver.signed(sid, M.EXCEPTION, P.seller)
    any_driver.registry.record_milestone(msg, sig)
    with reverts("InvalidAccountNonce", account=P.seller.address, currentNonce=msg["nonce"] + 1):
        any_driver.registry.record_milestone(msg, sig)


@pytest.mark.parametrize("where", ["chain-id", "verifying-contract", "name", "version"])
def test_signature_for_another_domain_is_rejected(
    at_arrived: tuple[ShipmentDriver, bytes], where: str
) -> None:
    d, sid = at_arrived
    msg, good = _base(d, sid)
    dom = d.domain
    other = {
        "chain-id": Domain(dom.name, dom.version, dom.chain_id + 1, dom.verifying_contract),
        "verifying-contract": Domain(dom.name, dom.version, dom.chain_id, "0x" + "ab" * 20),
        "name": Domain("Waymark", dom.version, dom.chain_id, dom.verifying_contract),
        "version": Domain(dom.name, "0.9.0", dom.chain_id, dom.verifying_contract),
    }[where]
    with reverts("ShipmentSignatureInvalid", shipmentId=sid, signer=P.broker.address):
        d.registry.record_milestone(msg, eip712.sign(P.broker.key, other, td.MILESTONE, msg))
    _assert_original_still_valid(d, sid, msg, good)


def test_signature_replayed_on_another_registry_deployment_is_rejected(
    driver: ShipmentDriver,
) -> None:
    other = ShipmentRegistryClient(driver.chain, driver.chain.deploy("ShipmentRegistry").address)
    od = ShipmentDriver(other)
    sids = []
    for d in (driver, od):
        sid = d.create("twin")
        d.advance(sid, S.ARRIVED)
        sids.append(sid)
    assert sids[0] == sids[1]
    assert od.registry.nonce(P.broker.address) == driver.registry.nonce(P.broker.address)
    msg, sig = _base(driver, sids[0])
    with reverts("ShipmentSignatureInvalid", signer=P.broker.address):
        od.registry.record_milestone(msg, sig)
    driver.registry.record_milestone(msg, sig)


@pytest.mark.parametrize("variant", ["renamed-type", "reordered-fields", "correction-type"])
def test_signature_over_a_different_struct_type_is_rejected(
    at_arrived: tuple[ShipmentDriver, bytes], variant: str
) -> None:
    d, sid = at_arrived
    msg, good = _base(d, sid)
    if variant == "renamed-type":
        sig = eip712.sign(
            P.broker.key, d.domain, StructType("ShipmentMilestone", td.MILESTONE.fields), msg
        )
    elif variant == "reordered-fields":
        fields = td.MILESTONE.fields
        sig = eip712.sign(
            P.broker.key, d.domain, StructType("Milestone", fields[1:] + fields[:1]), msg
        )
    else:
        correction = td.correction(
            shipment_id=sid,
            corrected_index=0,
            corrected_record_hash=keccak(text="x"),
            reason=1,
            signer=P.broker.address,
            nonce=msg["nonce"],
            deadline=msg["deadline"],
        )
        sig = td.sign_correction(P.broker.key, d.domain, correction)
    with reverts("ShipmentSignatureInvalid", shipmentId=sid, signer=P.broker.address):
        d.registry.record_milestone(msg, sig)
    _assert_original_still_valid(d, sid, msg, good)


def _malformed(sig: bytes, form: str) -> bytes:
    r, s, v = sig[:32], int.from_bytes(sig[32:64], "big"), sig[64]
    if form == "high-s":
        return _with_s(sig, SECP256K1_N - s, 55 - v)  # the other valid (malleable) form
    if form == "v-0-1":
        return sig[:64] + bytes([v - 27])
    if form == "v-29":
        return sig[:64] + bytes([29])
    if form == "eip-2098-compact":
        vs = s | ((v - 27) << 255)
        return r + vs.to_bytes(32, "big")
    if form == "r-zero":
        return bytes(32) + sig[32:]
    if form == "s-zero":
        return _with_s(sig, 0, v)
    if form == "truncated":
        return sig[:64]
    if form == "padded":
        return sig + b"\x00"
    if form == "empty":
        return b""
    raise AssertionError(form)


FORMS = [
    "high-s",
    "v-0-1",
    "v-29",
    "eip-2098-compact",
    "r-zero",
    "s-zero",
    "truncated",
    "padded",
    "empty",
]


@pytest.mark.parametrize("form", FORMS)
def test_malformed_signature_is_rejected(
    at_arrived: tuple[ShipmentDriver, bytes], form: str
) -> None:
    d, sid = at_arrived
    msg, good = _base(d, sid)
    bad = _malformed(good, form)
    with reverts("ShipmentSignatureInvalid", shipmentId=sid, signer=P.broker.address):
        d.registry.record_milestone(msg, bad)
    _assert_original_still_valid(d, sid, msg, good)


def test_high_s_form_is_a_real_signature_that_only_strictness_rejects(
    at_arrived: tuple[ShipmentDriver, bytes],
) -> None:
    d, sid = at_arrived
    msg, good = _base(d, sid)
    bad = _malformed(good, "high-s")
    digest = eip712.digest(d.domain, td.MILESTONE, msg)
    # The non-strict recovery (what a bare ecrecover does) yields the signer...
    assert Account._recover_hash(digest, signature=bad) == P.broker.address
    # ...but the strict rule (OZ ECDSA, eip712.recover) refuses it.
    with pytest.raises(eip712.SignatureInvalid):
        eip712.recover(digest, bad)


def test_signer_not_assigned_to_shipment_is_rejected(
    at_arrived: tuple[ShipmentDriver, bytes],
) -> None:
    d, sid = at_arrived
    with reverts(
        "ShipmentSignerNotAuthorized",
        shipmentId=sid,
        milestone=M.CUSTOMS_HOLD,
        signer=P.outsider.address,
    ):
        d.record(sid, M.CUSTOMS_HOLD, P.outsider)


def test_assigned_party_signing_another_role_milestone_is_rejected(
    at_arrived: tuple[ShipmentDriver, bytes],
) -> None:
    d, sid = at_arrived
    with reverts(
        "ShipmentSignerNotAuthorized",
        shipmentId=sid,
        milestone=M.CUSTOMS_HOLD,
        signer=P.carrier_a.address,
    ):
        d.record(sid, M.CUSTOMS_HOLD, P.carrier_a)
    with reverts(
        "ShipmentSignerNotAuthorized", shipmentId=sid, milestone=M.DEPARTED, signer=P.broker.address
    ):
        d.record(sid, M.DEPARTED, P.broker)


def test_signature_by_another_key_claiming_assigned_signer_is_rejected(
    at_arrived: tuple[ShipmentDriver, bytes],
) -> None:
    d, sid = at_arrived
    msg, good = _base(d, sid)
    with reverts("ShipmentSignatureInvalid", shipmentId=sid, signer=P.broker.address):
        d.registry.record_milestone(msg, d.sign(P.outsider, msg))
    _assert_original_still_valid(d, sid, msg, good)


def test_expired_deadline_is_rejected(at_arrived: tuple[ShipmentDriver, bytes]) -> None:
    d, sid = at_arrived
    past = d.now() - 1
    msg, sig = d.signed(sid, M.CUSTOMS_HOLD, P.broker, deadline=past)
    with reverts("ShipmentSignatureExpired", shipmentId=sid, deadline=past):
        d.registry.record_milestone(msg, sig)


def test_deadline_equal_to_block_time_passes(driver: ShipmentDriver) -> None:
    """ERC-2612 rule: valid while ``now <= deadline``; pinned through the ``_now()`` seam."""
    harness = driver.chain.deploy("ShipmentRegistryHarness")
    clock = driver.chain.contract("ShipmentRegistryHarness", harness.address)
    hd = ShipmentDriver(ShipmentRegistryClient(driver.chain, harness.address))
    sid = hd.create("deadline-edge")
    t = hd.now() + 1_000
    driver.chain.transact(clock, "setNow", t)
    msg, sig = hd.signed(sid, M.EXCEPTION, P.seller, deadline=t)
    hd.registry.record_milestone(msg, sig)
    driver.chain.transact(clock, "setNow", t + 1)
    msg, sig = hd.signed(sid, M.EXCEPTION, P.seller, deadline=t)
    with reverts("ShipmentSignatureExpired", deadline=t, currentTime=t + 1):
        hd.registry.record_milestone(msg, sig)


def test_nonce_reuse_and_gaps_are_rejected(any_driver: ShipmentDriver) -> None:
    d = any_driver
    sid = d.create("nonces")
    n = d.registry.nonce(P.seller.address)
    with reverts("InvalidAccountNonce", account=P.seller.address, currentNonce=n):
        d.record(sid, M.EXCEPTION, P.seller, nonce=n + 1)
    d.record(sid, M.EXCEPTION, P.seller, nonce=n)
    with reverts("InvalidAccountNonce", account=P.seller.address, currentNonce=n + 1):
        d.record(sid, M.EXCEPTION, P.seller, nonce=n)  # a new message reusing the nonce
    d.record(sid, M.EXCEPTION, P.seller, nonce=n + 1)


def test_nonce_is_shared_across_message_types(driver: ShipmentDriver) -> None:
    sid = driver.create("shared-nonce")
    n = driver.registry.nonce(P.seller.address)
    driver.record(sid, M.EXCEPTION, P.seller)
    terms = driver.terms("second")
    deadline = driver.now() + HOUR
    sig = td.sign_create_shipment(P.seller.key, driver.domain, terms, nonce=n, deadline=deadline)
    with reverts("InvalidAccountNonce", account=P.seller.address, currentNonce=n + 1):
        driver.registry.create_shipment_with_sig(terms, nonce=n, deadline=deadline, signature=sig)


def _altered(msg: dict[str, Any], field: str, other_sid: bytes) -> Any:
    changes: dict[str, Any] = {
        "shipmentId": lambda _v: other_sid,
        "milestone": lambda _v: M.IMPORT_CLEARED,
        "reasonCode": lambda _v: 9,
        "occurredAt": lambda v: v - 1,
        "location": lambda _v: b"NLRTM",
        "measuredWeightGrams": lambda v: v + 1,
        "evidenceHash": lambda _v: keccak(text="swapped evidence"),
        "signer": lambda _v: P.carrier_a.address,
        "counterparty": lambda _v: P.carrier_b.address,
        "nonce": lambda v: v + 1,
        "deadline": lambda v: v + 1,
    }
    return changes[field](msg[field])


# Fields whose alteration trips an earlier, more specific check than the signature.
EXPECTED_FOR_FIELD = {
    "signer": ("ShipmentSignerNotAuthorized", {"signer": P.carrier_a.address}),
    "counterparty": ("ShipmentCounterpartyInvalid", {"counterparty": P.carrier_b.address}),
}


@pytest.mark.parametrize("field", [name for _t, name in td.MILESTONE.fields])
def test_relayer_altering_any_signed_field_is_rejected(driver: ShipmentDriver, field: str) -> None:
    sid = driver.create("tamper")
    driver.advance(sid, S.ARRIVED)
    other = sid
    if field == "shipmentId":  # another shipment where the same milestone is legal
        other = driver.create("tamper-other")
        driver.advance(other, S.ARRIVED)
    msg, good = _base(driver, sid)
    altered = {**msg, field: _altered(msg, field, other)}
    error, args = EXPECTED_FOR_FIELD.get(
        field, ("ShipmentSignatureInvalid", {"signer": P.broker.address})
    )
    with reverts(error, **args):
        driver.registry.record_milestone(altered, good)
    _assert_original_still_valid(driver, sid, msg, good)


# ------------------------------------------------------------------ ERC-1271


@pytest.fixture
def wallet(driver: ShipmentDriver) -> tuple[str, Any]:
    owner = Account.from_key(keccak(text="wallet-owner"))
    deployed = driver.chain.deploy("OwnedSigningWallet", owner.address)
    return deployed.address, owner


def test_erc1271_wallet_is_accepted_as_carrier(
    driver: ShipmentDriver, wallet: tuple[str, Any]
) -> None:
    address, owner = wallet
    d = driver
    sid = d.create("wallet", carriers=[address])
    msg, sig = d.signed(sid, M.PICKED_UP, P.seller, counterparty=address)
    nonce, deadline = d.registry.nonce(address), d.now() + HOUR
    acceptance = td.sign_acceptance(owner.key, d.domain, msg, nonce=nonce, deadline=deadline)
    d.registry.record_custody_transfer(
        msg,
        sig,
        acceptance_nonce=nonce,
        acceptance_deadline=deadline,
        acceptance_signature=acceptance,
    )
    assert d.registry.custodian(sid) == address
    d.record(sid, M.EXPORT_CLEARED, P.broker)
    msg = d.message(sid, M.DEPARTED, address)
    result = d.registry.record_milestone(msg, d.sign(owner, msg))
    assert result.event("MilestoneRecorded").args["signer"] == address
    assert d.registry.nonce(address) == nonce + 2


def test_erc1271_wallet_rejects_foreign_key_and_rotated_owner(
    driver: ShipmentDriver, wallet: tuple[str, Any]
) -> None:
    address, owner = wallet
    d = driver
    sid = d.create("wallet-reject", carriers=[address])
    msg, sig = d.signed(sid, M.PICKED_UP, P.seller, counterparty=address)
    nonce, deadline = d.registry.nonce(address), d.now() + HOUR
    foreign = td.sign_acceptance(P.outsider.key, d.domain, msg, nonce=nonce, deadline=deadline)
    with reverts("ShipmentSignatureInvalid", shipmentId=sid, signer=address):
        d.registry.record_custody_transfer(
            msg,
            sig,
            acceptance_nonce=nonce,
            acceptance_deadline=deadline,
            acceptance_signature=foreign,
        )
    signed_before = td.sign_acceptance(owner.key, d.domain, msg, nonce=nonce, deadline=deadline)
    owner_chain = funded(d.chain, owner)
    owner_chain.transact(
        owner_chain.contract("OwnedSigningWallet", address), "setOwner", P.outsider.address
    )
    # Contract signatures are revocable: the old owner's signature no longer counts.
    with reverts("ShipmentSignatureInvalid", shipmentId=sid, signer=address):
        d.registry.record_custody_transfer(
            msg,
            sig,
            acceptance_nonce=nonce,
            acceptance_deadline=deadline,
            acceptance_signature=signed_before,
        )
    d.registry.record_custody_transfer(
        msg, sig, acceptance_nonce=nonce, acceptance_deadline=deadline, acceptance_signature=foreign
    )
    assert d.registry.custodian(sid) == address
