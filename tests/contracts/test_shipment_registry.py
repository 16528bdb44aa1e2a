"""ShipmentRegistry: creation, custody, weight reconciliation, SLA, corrections, views."""

from __future__ import annotations

import pytest
from eth_utils import keccak

from backend.chain import ChainClient
from backend.chain.shipments import HistoryMismatch, ShipmentRegistryClient
from backend.chain.typed_data import shipments as td
from backend.chain.typed_data.shipments import CorrectionReason, ExceptionReason, Role
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
    shipment_id,
    tester_registry,
)
from tests.helpers import reverts

__all__ = ["any_driver", "driver", "registry", "tester_registry"]  # fixtures

P = PARTIES
MAX40 = (1 << 40) - 1


# ------------------------------------------------------------------ creation


def test_create_shipment_by_seller_stores_terms_roles_and_emits_created(
    driver: ShipmentDriver,
) -> None:
    seller_chain = funded(driver.chain, P.seller)
    client = driver.registry.with_chain(seller_chain)
    terms = driver.terms("direct", sla=td.service_level(picked_up_by=2_000_000_000))
    result = client.create_shipment(terms)
    sid = terms["shipmentId"]

    event = result.event("ShipmentCreated")
    assert event.args["shipmentId"] == sid
    assert event.args["seller"] == P.seller.address
    emitted = event.args["terms"]
    assert emitted["carriers"] == [P.carrier_a.address, P.carrier_b.address]
    assert emitted["declaredWeightGrams"] == 120_000
    assert emitted["sla"]["pickedUpBy"] == 2_000_000_000

    info = driver.registry.shipment(sid)
    assert info is not None
    assert info.status == S.CREATED
    assert info.seller == P.seller.address
    assert info.custodian is None
    assert info.history_length == 0
    assert (info.origin, info.destination) == ("CNSHA", "NLRTM")
    assert (info.declared_weight_grams, info.piece_count, info.weight_tolerance_bps) == (
        120_000,
        12,
        200,
    )
    assert info.manifest_hash == terms["manifestHash"]
    assert info.sla.picked_up_by == 2_000_000_000
    assert info.delivered_at is None
    reg = driver.registry
    assert reg.roles_of(sid, P.seller.address) == Role.SELLER
    assert reg.roles_of(sid, P.carrier_b.address) == Role.CARRIER
    assert reg.roles_of(sid, P.warehouse.address) == Role.WAREHOUSE
    assert reg.roles_of(sid, P.broker.address) == Role.CUSTOMS_BROKER
    assert reg.roles_of(sid, P.outsider.address) == 0


def test_create_shipment_with_sig_is_relayed_and_consumes_seller_nonce(
    any_driver: ShipmentDriver,
) -> None:
    before = any_driver.registry.nonce(P.seller.address)
    sid = any_driver.create("relayed")
    assert any_driver.registry.status(sid) == S.CREATED
    assert any_driver.registry.nonce(P.seller.address) == before + 1


def test_party_may_hold_several_roles(driver: ShipmentDriver) -> None:
    sid = driver.create("integrated", customsBroker=P.carrier_a.address)
    assert driver.registry.roles_of(sid, P.carrier_a.address) == Role.CARRIER | Role.CUSTOMS_BROKER
    driver.transfer(sid, M.PICKED_UP, P.seller, P.carrier_a)
    driver.record(sid, M.EXPORT_CLEARED, P.carrier_a)
    assert driver.registry.status(sid) == S.EXPORT_CLEARED


def test_create_shipment_reverts_when_caller_is_not_seller(driver: ShipmentDriver) -> None:
    terms = driver.terms("not-seller")
    with reverts(
        "ShipmentCallerNotSeller",
        shipmentId=terms["shipmentId"],
        caller=driver.chain.address,
        seller=P.seller.address,
    ):
        driver.registry.create_shipment(terms)


def test_create_shipment_reverts_when_id_exists_or_zero(driver: ShipmentDriver) -> None:
    sid = driver.create("dup")
    with reverts("ShipmentAlreadyExists", shipmentId=sid):
        driver.create("dup")
    with reverts("ShipmentIdNotSellers", shipmentId=bytes(32), seller=P.seller.address):
        driver.create(shipmentId=bytes(32))


def test_shipment_id_of_another_seller_cannot_be_squatted(any_driver: ShipmentDriver) -> None:
    """Someone who sees the seller's signed creation cannot take its id first: the id
    starts with the seller's address, and only that seller can create it (on each backend)."""
    driver = any_driver
    victim_id = shipment_id("squat")  # the test seller's id
    squatter = P.outsider
    terms = driver.terms("squat", seller=squatter.address, shipmentId=victim_id)
    nonce = driver.registry.nonce(squatter.address)
    deadline = driver.now() + HOUR
    sig = td.sign_create_shipment(
        squatter.key, driver.domain, terms, nonce=nonce, deadline=deadline
    )
    with reverts("ShipmentIdNotSellers", shipmentId=victim_id, seller=squatter.address):
        driver.registry.create_shipment_with_sig(
            terms, nonce=nonce, deadline=deadline, signature=sig
        )
    # The seller's own creation of that id still succeeds.
    assert driver.create("squat") == victim_id
    assert bytes(victim_id[:20]) == bytes.fromhex(P.seller.address[2:])


@pytest.mark.parametrize(
    ("overrides", "error", "args"),
    [
        ({"carriers": []}, "ShipmentCarrierMissing", {}),
        (
            {"carriers": [P.carrier_a.address, td.ZERO_ADDRESS]},
            "ShipmentPartyInvalid",
            {"party": td.ZERO_ADDRESS},
        ),
        ({"declaredWeightGrams": 0}, "ShipmentWeightInvalid", {"weightGrams": 0}),
        ({"declaredWeightGrams": MAX40 + 1}, "ShipmentWeightInvalid", {"weightGrams": MAX40 + 1}),
        ({"weightToleranceBps": 10_001}, "ShipmentToleranceInvalid", {"toleranceBps": 10_001}),
        (
            {"sla": td.service_level(delivered_by=1 << 32)},
            "ShipmentDeadlineInvalid",
            {"deadline": 1 << 32},
        ),
    ],
    ids=["no-carrier", "zero-carrier", "zero-weight", "huge-weight", "tolerance", "sla-deadline"],
)
def test_create_shipment_reverts_when_terms_invalid(
    any_driver: ShipmentDriver, overrides: dict, error: str, args: dict
) -> None:
    sid = shipment_id("bad-terms")
    with reverts(error, shipmentId=sid, **args):
        any_driver.create("bad-terms", **overrides)


def test_create_shipment_reverts_when_seller_is_zero(driver: ShipmentDriver) -> None:
    terms = driver.terms("zero-seller", seller=td.ZERO_ADDRESS)
    sig = td.sign_create_shipment(P.seller.key, driver.domain, terms, nonce=0, deadline=2**40)
    with reverts("ShipmentSignatureInvalid", signer=td.ZERO_ADDRESS):
        driver.registry.create_shipment_with_sig(terms, nonce=0, deadline=2**40, signature=sig)
    zero_client = driver.registry
    with reverts("ShipmentCallerNotSeller", seller=td.ZERO_ADDRESS):
        zero_client.create_shipment(terms)


def test_create_shipment_with_sig_reverts_when_signed_by_other_key_or_expired(
    driver: ShipmentDriver,
) -> None:
    terms = driver.terms("sig-create")
    nonce = driver.registry.nonce(P.seller.address)
    deadline = driver.now() + HOUR
    forged = td.sign_create_shipment(
        P.outsider.key, driver.domain, terms, nonce=nonce, deadline=deadline
    )
    with reverts(
        "ShipmentSignatureInvalid", shipmentId=terms["shipmentId"], signer=P.seller.address
    ):
        driver.registry.create_shipment_with_sig(
            terms, nonce=nonce, deadline=deadline, signature=forged
        )
    past = driver.now() - 1
    sig = td.sign_create_shipment(P.seller.key, driver.domain, terms, nonce=nonce, deadline=past)
    with reverts("ShipmentSignatureExpired", deadline=past):
        driver.registry.create_shipment_with_sig(terms, nonce=nonce, deadline=past, signature=sig)


def test_create_shipment_with_sig_rejects_altered_terms(driver: ShipmentDriver) -> None:
    terms = driver.terms("alter-terms")
    nonce = driver.registry.nonce(P.seller.address)
    deadline = driver.now() + HOUR
    sig = td.sign_create_shipment(
        P.seller.key, driver.domain, terms, nonce=nonce, deadline=deadline
    )
    for altered in (
        {**terms, "carriers": [P.outsider.address]},
        {**terms, "sla": td.service_level(delivered_by=1)},
        {**terms, "declaredWeightGrams": 1},
    ):
        with reverts("ShipmentSignatureInvalid", signer=P.seller.address):
            driver.registry.create_shipment_with_sig(
                altered, nonce=nonce, deadline=deadline, signature=sig
            )
    driver.registry.create_shipment_with_sig(terms, nonce=nonce, deadline=deadline, signature=sig)


# --------------------------------------------------------------- lifecycle


def test_full_route_tracks_status_custodian_delivery_and_history(
    any_driver: ShipmentDriver,
) -> None:
    d, reg = any_driver, any_driver.registry
    sid = d.create("route")
    expected = [
        (S.PICKED_UP, P.carrier_a.address),
        (S.EXPORT_CLEARED, P.carrier_a.address),
        (S.IN_TRANSIT, P.carrier_a.address),
        (S.ARRIVED, P.carrier_a.address),
        (S.IMPORT_CLEARED, P.carrier_a.address),
        (S.IN_WAREHOUSE, P.warehouse.address),
        (S.OUT_FOR_DELIVERY, P.carrier_b.address),
    ]
    d.transfer(sid, M.PICKED_UP, P.seller, P.carrier_a)
    assert (reg.status(sid), reg.custodian(sid)) == expected[0]
    d.record(sid, M.EXPORT_CLEARED, P.broker)
    assert (reg.status(sid), reg.custodian(sid)) == expected[1]
    d.record(sid, M.DEPARTED, P.carrier_a)
    assert (reg.status(sid), reg.custodian(sid)) == expected[2]
    d.record(sid, M.ARRIVED, P.carrier_a)
    assert (reg.status(sid), reg.custodian(sid)) == expected[3]
    d.record(sid, M.IMPORT_CLEARED, P.broker)
    assert (reg.status(sid), reg.custodian(sid)) == expected[4]
    d.record(sid, M.WAREHOUSE_INBOUND, P.warehouse)
    assert (reg.status(sid), reg.custodian(sid)) == expected[5]
    handover = d.transfer(sid, M.HANDOVER, P.warehouse, P.carrier_b)
    assert handover.event("MilestoneRecorded").args["custodian"] == P.carrier_b.address
    assert reg.status(sid) == S.IN_WAREHOUSE
    d.record(sid, M.OUT_FOR_DELIVERY, P.carrier_b)
    assert (reg.status(sid), reg.custodian(sid)) == expected[6]
    assert reg.delivery_of(sid).delivered is False
    msg, sig = d.signed(sid, M.DELIVERED, P.carrier_b, location="NLRTM")
    result = reg.record_milestone(msg, sig)
    ev = result.event("MilestoneRecorded").args
    assert ev["status"] == S.DELIVERED
    assert ev["custodian"] == td.ZERO_ADDRESS
    assert ev["recordHash"] == td.record_hash(msg)

    assert reg.status(sid) == S.DELIVERED
    assert reg.custodian(sid) is None
    delivery = reg.delivery_of(sid)
    assert (delivery.seller, delivery.delivered, delivery.delivered_at) == (
        P.seller.address,
        True,
        msg["occurredAt"],
    )
    history = reg.history(sid)
    assert [e.milestone for e in history] == [
        M.PICKED_UP,
        M.EXPORT_CLEARED,
        M.DEPARTED,
        M.ARRIVED,
        M.IMPORT_CLEARED,
        M.WAREHOUSE_INBOUND,
        M.HANDOVER,
        M.OUT_FOR_DELIVERY,
        M.DELIVERED,
    ]
    assert [e.index for e in history] == list(range(9))
    # Events alone rebuild the state the views report.
    assert [(e.status, e.custodian) for e in history[:-1]] == [
        (S.PICKED_UP, P.carrier_a.address),
        (S.EXPORT_CLEARED, P.carrier_a.address),
        (S.IN_TRANSIT, P.carrier_a.address),
        (S.ARRIVED, P.carrier_a.address),
        (S.IMPORT_CLEARED, P.carrier_a.address),
        (S.IN_WAREHOUSE, P.warehouse.address),
        (S.IN_WAREHOUSE, P.carrier_b.address),
        (S.OUT_FOR_DELIVERY, P.carrier_b.address),
    ]
    assert (history[-1].status, history[-1].custodian) == (reg.status(sid), reg.custodian(sid))
    assert reg.milestone_count(sid) == 9
    assert history[-1].location == "NLRTM"
    assert reg.milestone_at(sid, 2).signer == P.carrier_a.address


def test_milestone_recorded_event_carries_every_signed_field(driver: ShipmentDriver) -> None:
    sid = driver.create("fields")
    driver.advance(sid, S.EXPORT_CLEARED)
    msg, sig = driver.signed(
        sid, M.DEPARTED, P.carrier_a, location="CNNGB", measured_weight_grams=120_100
    )
    ev = driver.registry.record_milestone(msg, sig).event("MilestoneRecorded").args
    assert ev == {
        "shipmentId": sid,
        "milestone": M.DEPARTED,
        "signer": P.carrier_a.address,
        "index": 2,
        "status": S.IN_TRANSIT,
        "custodian": P.carrier_a.address,
        "occurredAt": msg["occurredAt"],
        "location": b"CNNGB",
        "measuredWeightGrams": 120_100,
        "evidenceHash": msg["evidenceHash"],
        "reasonCode": 0,
        "recordHash": td.record_hash(msg),
    }


def test_returned_gives_custody_back_to_seller(driver: ShipmentDriver) -> None:
    sid = driver.create("returned")
    driver.advance(sid, S.RETURNED)
    assert driver.registry.status(sid) == S.RETURNED
    assert driver.registry.custodian(sid) == P.seller.address


def test_exception_lost_closes_shipment_and_keeps_last_custodian(driver: ShipmentDriver) -> None:
    sid = driver.create("lost")
    driver.advance(sid, S.PICKED_UP)
    result = driver.record(sid, M.EXCEPTION, P.carrier_a, reason_code=ExceptionReason.LOST)
    assert result.event("MilestoneRecorded").args["reasonCode"] == ExceptionReason.LOST
    assert driver.registry.status(sid) == S.LOST
    # Who had the goods when they vanished stays on chain.
    assert driver.registry.custodian(sid) == P.carrier_a.address


def test_exception_delayed_and_damaged_keep_status(driver: ShipmentDriver) -> None:
    sid = driver.create("delayed")
    driver.advance(sid, S.IN_TRANSIT)
    for reason in (ExceptionReason.DELAYED, ExceptionReason.DAMAGED, ExceptionReason.OTHER):
        driver.record(sid, M.EXCEPTION, P.broker, reason_code=reason)
        assert driver.registry.status(sid) == S.IN_TRANSIT


@pytest.mark.parametrize(
    ("kind", "reason"),
    [(M.EXCEPTION, 0), (M.EXCEPTION, 5), (M.EXPORT_CLEARED, 1)],
    ids=["exception-without-reason", "exception-unknown-reason", "reason-on-plain-milestone"],
)
def test_record_milestone_reverts_when_reason_code_invalid(
    driver: ShipmentDriver, kind: M, reason: int
) -> None:
    sid = driver.create("reason")
    driver.advance(sid, S.PICKED_UP)
    with reverts("ShipmentReasonInvalid", shipmentId=sid, milestone=kind, reasonCode=reason):
        driver.record(sid, kind, P.broker, reason_code=reason)


def test_customs_hold_carries_a_free_customs_code(driver: ShipmentDriver) -> None:
    sid = driver.create("hold")
    driver.advance(sid, S.ARRIVED)
    result = driver.record(sid, M.CUSTOMS_HOLD, P.broker, reason_code=4242)
    assert result.event("MilestoneRecorded").args["reasonCode"] == 4242
    driver.record(sid, M.CUSTOMS_RELEASED, P.broker)
    assert driver.registry.status(sid) == S.IMPORT_CLEARED


def test_record_milestone_reverts_when_shipment_unknown(driver: ShipmentDriver) -> None:
    sid = shipment_id("never-created")
    with reverts("ShipmentUnknown", shipmentId=sid):
        driver.record(sid, M.EXCEPTION, P.seller)


def test_record_milestone_reverts_when_occurred_beyond_the_clock_skew(
    driver: ShipmentDriver,
) -> None:
    sid = driver.create("future")
    skew = driver.registry.chain.call(driver.registry.contract, "MAX_CLOCK_SKEW")
    assert skew == 300
    # The next block's time is at least now + 1: a stamp `skew` ahead of it is still accepted.
    within = driver.now() + 1 + skew
    driver.record(sid, M.EXCEPTION, P.seller, occurred_at=within)
    beyond = driver.now() + 2 + skew + 60
    with reverts("ShipmentMilestoneInFuture", shipmentId=sid, occurredAt=beyond):
        driver.record(sid, M.EXCEPTION, P.seller, occurred_at=beyond)


def test_record_milestone_reverts_when_measured_weight_overflows(driver: ShipmentDriver) -> None:
    sid = driver.create("overweight")
    with reverts("ShipmentWeightInvalid", shipmentId=sid, weightGrams=MAX40 + 1):
        driver.record(sid, M.EXCEPTION, P.seller, measured_weight_grams=MAX40 + 1)


def test_custody_milestones_need_the_cosigned_entry_point(driver: ShipmentDriver) -> None:
    sid = driver.create("cosign")
    with reverts("ShipmentCosignatureRequired", shipmentId=sid, milestone=M.PICKED_UP):
        driver.record(sid, M.PICKED_UP, P.seller, counterparty=P.carrier_a.address)
    driver.advance(sid, S.PICKED_UP)
    with reverts("ShipmentCosignatureRequired", shipmentId=sid, milestone=M.HANDOVER):
        driver.record(sid, M.HANDOVER, P.carrier_a, counterparty=P.carrier_b.address)
    with reverts("ShipmentCosignatureUnexpected", shipmentId=sid, milestone=M.EXPORT_CLEARED):
        driver.transfer(sid, M.EXPORT_CLEARED, P.broker, P.carrier_b)


def test_record_milestone_reverts_when_counterparty_set_on_plain_milestone(
    driver: ShipmentDriver,
) -> None:
    sid = driver.create("plain-cp")
    with reverts(
        "ShipmentCounterpartyInvalid",
        shipmentId=sid,
        milestone=M.EXCEPTION,
        counterparty=P.carrier_a.address,
    ):
        driver.record(sid, M.EXCEPTION, P.seller, counterparty=P.carrier_a.address)


@pytest.mark.parametrize(
    ("kind", "status", "receiver"),
    [
        (M.PICKED_UP, S.CREATED, "warehouse"),
        (M.PICKED_UP, S.CREATED, "outsider"),
        (M.HANDOVER, S.PICKED_UP, "broker"),
        (M.HANDOVER, S.PICKED_UP, "carrier_a"),  # the releasing custodian itself
    ],
)
def test_custody_transfer_reverts_when_receiver_not_eligible(
    driver: ShipmentDriver, kind: M, status: S, receiver: str
) -> None:
    sid = driver.create("receiver")
    driver.advance(sid, status)
    releaser = P.seller if kind == M.PICKED_UP else P.carrier_a
    acct = getattr(P, receiver)
    with reverts(
        "ShipmentCounterpartyInvalid", shipmentId=sid, milestone=kind, counterparty=acct.address
    ):
        driver.transfer(sid, kind, releaser, acct)


def test_custody_transfer_reverts_when_acceptance_is_bad(driver: ShipmentDriver) -> None:
    sid = driver.create("acceptance")
    msg, sig = driver.signed(sid, M.PICKED_UP, P.seller, counterparty=P.carrier_a.address)
    nonce = driver.registry.nonce(P.carrier_a.address)
    deadline = driver.now() + HOUR
    reg = driver.registry
    forged = td.sign_acceptance(P.carrier_b.key, driver.domain, msg, nonce=nonce, deadline=deadline)
    with reverts("ShipmentSignatureInvalid", shipmentId=sid, signer=P.carrier_a.address):
        reg.record_custody_transfer(
            msg,
            sig,
            acceptance_nonce=nonce,
            acceptance_deadline=deadline,
            acceptance_signature=forged,
        )
    # An acceptance of a different milestone (other evidence) does not count.
    other = {**msg, "evidenceHash": keccak(text="other")}
    wrong = td.sign_acceptance(
        P.carrier_a.key, driver.domain, other, nonce=nonce, deadline=deadline
    )
    with reverts("ShipmentSignatureInvalid", signer=P.carrier_a.address):
        reg.record_custody_transfer(
            msg,
            sig,
            acceptance_nonce=nonce,
            acceptance_deadline=deadline,
            acceptance_signature=wrong,
        )
    past = driver.now() - 1
    expired = td.sign_acceptance(P.carrier_a.key, driver.domain, msg, nonce=nonce, deadline=past)
    with reverts("ShipmentSignatureExpired", shipmentId=sid, deadline=past):
        reg.record_custody_transfer(
            msg, sig, acceptance_nonce=nonce, acceptance_deadline=past, acceptance_signature=expired
        )
    gap = td.sign_acceptance(
        P.carrier_a.key, driver.domain, msg, nonce=nonce + 1, deadline=deadline
    )
    with reverts("InvalidAccountNonce", account=P.carrier_a.address, currentNonce=nonce):
        reg.record_custody_transfer(
            msg,
            sig,
            acceptance_nonce=nonce + 1,
            acceptance_deadline=deadline,
            acceptance_signature=gap,
        )
    good = td.sign_acceptance(P.carrier_a.key, driver.domain, msg, nonce=nonce, deadline=deadline)
    reg.record_custody_transfer(
        msg, sig, acceptance_nonce=nonce, acceptance_deadline=deadline, acceptance_signature=good
    )
    assert reg.custodian(sid) == P.carrier_a.address
    assert reg.nonce(P.carrier_a.address) == nonce + 1


def test_handover_between_carriers_moves_custody(any_driver: ShipmentDriver) -> None:
    sid = any_driver.create("carrier-handover")
    any_driver.advance(sid, S.ARRIVED)
    result = any_driver.transfer(sid, M.HANDOVER, P.carrier_a, P.carrier_b)
    ev = result.event("MilestoneRecorded").args
    assert (ev["signer"], ev["custodian"]) == (P.carrier_a.address, P.carrier_b.address)
    assert any_driver.registry.custodian(sid) == P.carrier_b.address
    with reverts("ShipmentSignerNotAuthorized", signer=P.carrier_a.address):
        any_driver.record(sid, M.DEPARTED, P.carrier_a)
    any_driver.record(sid, M.DEPARTED, P.carrier_b)


# ------------------------------------------------------------------ batches


def test_record_milestones_batch_records_across_shipments(any_driver: ShipmentDriver) -> None:
    d = any_driver
    sids = [d.create(f"batch-{i}") for i in range(3)]
    for sid in sids:
        d.advance(sid, S.EXPORT_CLEARED)
    nonce = d.registry.nonce(P.carrier_a.address)
    items = [d.signed(sid, M.DEPARTED, P.carrier_a, nonce=nonce + i) for i, sid in enumerate(sids)]
    result = d.registry.record_milestones(items)
    assert [e.args["shipmentId"] for e in result.events if e.name == "MilestoneRecorded"] == sids
    assert all(d.registry.status(sid) == S.IN_TRANSIT for sid in sids)


def test_record_milestones_batch_is_atomic(driver: ShipmentDriver) -> None:
    sids = [driver.create(f"atomic-{i}") for i in range(2)]
    driver.advance(sids[0], S.EXPORT_CLEARED)
    nonce = driver.registry.nonce(P.carrier_a.address)
    items = [
        driver.signed(sids[0], M.DEPARTED, P.carrier_a, nonce=nonce),
        driver.signed(sids[1], M.DEPARTED, P.carrier_a, nonce=nonce + 1),
    ]
    with reverts("ShipmentMilestoneNotAllowed", shipmentId=sids[1], status=S.CREATED):
        driver.registry.record_milestones(items)
    assert driver.registry.status(sids[0]) == S.EXPORT_CLEARED
    assert driver.registry.nonce(P.carrier_a.address) == nonce


def test_record_milestones_reverts_when_empty(driver: ShipmentDriver) -> None:
    with reverts("ShipmentBatchEmpty"):
        driver.registry.record_milestones([])


# -------------------------------------------------------- weight reconciliation


def _discrepancies(result) -> list[tuple[int, int]]:  # type: ignore[no-untyped-def]
    return [
        (e.args["referenceGrams"], e.args["measuredGrams"])
        for e in result.events
        if e.name == "WeightDiscrepancy"
    ]


def test_weight_within_tolerance_emits_nothing_and_boundary_is_inclusive(
    driver: ShipmentDriver,
) -> None:
    # 120 000 g ± 2 % = ± 2 400 g; each shipment is weighed once at the edge.
    for label, grams in (("hi", 122_400), ("lo", 117_600), ("exact", 120_000)):
        sid = driver.create(f"weight-ok-{label}")
        result = driver.record(sid, M.EXCEPTION, P.seller, measured_weight_grams=grams)
        assert _discrepancies(result) == []
    sid = driver.create("weight-just-over")
    result = driver.record(sid, M.EXCEPTION, P.seller, measured_weight_grams=122_401)
    assert _discrepancies(result) == [(120_000, 122_401)]


def test_weight_beyond_tolerance_of_declared_and_previous_emits_discrepancy(
    driver: ShipmentDriver,
) -> None:
    sid = driver.create("weight-bad")
    driver.advance(sid, S.PICKED_UP)
    r1 = driver.record(sid, M.EXCEPTION, P.carrier_a, measured_weight_grams=122_000)
    assert _discrepancies(r1) == []
    # Within 2 % of the declared weight, but 3.3 % below the previous measurement.
    r2 = driver.record(sid, M.EXCEPTION, P.carrier_a, measured_weight_grams=118_000)
    assert _discrepancies(r2) == [(122_000, 118_000)]
    event = r2.event("WeightDiscrepancy").args
    assert (event["shipmentId"], event["signer"]) == (sid, P.carrier_a.address)
    # Off against both references.
    r3 = driver.record(sid, M.EXCEPTION, P.carrier_a, measured_weight_grams=130_000)
    assert _discrepancies(r3) == [(120_000, 130_000), (118_000, 130_000)]
    # Not weighed: nothing compared, last measurement kept.
    driver.record(sid, M.EXCEPTION, P.carrier_a)
    info = driver.registry.shipment(sid)
    assert info is not None
    assert info.last_measured_weight_grams == 130_000


def test_weight_compared_once_when_previous_equals_declared(driver: ShipmentDriver) -> None:
    sid = driver.create("weight-same")
    driver.record(sid, M.EXCEPTION, P.seller, measured_weight_grams=120_000)
    result = driver.record(sid, M.EXCEPTION, P.seller, measured_weight_grams=100_000)
    assert _discrepancies(result) == [(120_000, 100_000)]


# ----------------------------------------------------------------------- SLA


def test_milestone_after_planned_deadline_emits_late(driver: ShipmentDriver) -> None:
    now = driver.now()
    sid = driver.create(
        "late", sla=td.service_level(picked_up_by=now + 100, departed_by=now + 10**6)
    )
    driver.chain.advance_time(200)
    occurred = driver.now()
    result = driver.transfer(sid, M.PICKED_UP, P.seller, P.carrier_a, occurred_at=occurred)
    late = result.event("MilestoneLate").args
    assert late == {
        "shipmentId": sid,
        "milestone": M.PICKED_UP,
        "plannedBy": now + 100,
        "occurredAt": occurred,
    }
    on_time = driver.record(sid, M.EXPORT_CLEARED, P.broker)
    assert all(e.name != "MilestoneLate" for e in on_time.events)


def test_milestone_exactly_at_deadline_is_on_time(driver: ShipmentDriver) -> None:
    now = driver.now()
    sid = driver.create("edge", sla=td.service_level(picked_up_by=now))
    driver.chain.advance_time(50)
    result = driver.transfer(sid, M.PICKED_UP, P.seller, P.carrier_a, occurred_at=now)
    assert all(e.name != "MilestoneLate" for e in result.events)


def test_flag_overdue_after_deadline_emits_once(any_driver: ShipmentDriver) -> None:
    d = any_driver
    now = d.now()
    sid = d.create(
        "overdue", sla=td.service_level(picked_up_by=now + 100, delivered_by=now + 50_000)
    )
    with reverts("ShipmentNotOverdue", shipmentId=sid, milestone=M.PICKED_UP, plannedBy=now + 100):
        d.registry.flag_overdue(sid, M.PICKED_UP)
    d.chain.advance_time(150)
    outsider = d.registry.with_chain(funded(d.chain, P.outsider))
    result = outsider.flag_overdue(sid, M.PICKED_UP)
    ev = result.event("MilestoneOverdue").args
    assert (ev["shipmentId"], ev["milestone"], ev["plannedBy"], ev["flaggedBy"]) == (
        sid,
        M.PICKED_UP,
        now + 100,
        P.outsider.address,
    )
    assert ev["flaggedAt"] == d.chain.block(result.block_number)["timestamp"]
    with reverts("ShipmentOverdueAlreadyFlagged", shipmentId=sid, milestone=M.PICKED_UP):
        d.registry.flag_overdue(sid, M.PICKED_UP)
    info = d.registry.shipment(sid)
    assert info is not None
    assert info.overdue_flags == 0b1


def test_flag_overdue_reverts_when_deadline_not_strictly_passed(driver: ShipmentDriver) -> None:
    harness = driver.chain.deploy("ShipmentRegistryHarness")
    reg = ShipmentRegistryClient(driver.chain, harness.address)
    hd = ShipmentDriver(reg)
    clock = driver.chain.contract("ShipmentRegistryHarness", harness.address)
    now = hd.now()
    sid = hd.create("clock", sla=td.service_level(picked_up_by=now + 500))
    driver.chain.transact(clock, "setNow", now + 500)
    with reverts("ShipmentNotOverdue", plannedBy=now + 500, currentTime=now + 500):
        reg.flag_overdue(sid, M.PICKED_UP)
    driver.chain.transact(clock, "setNow", now + 501)
    assert (
        reg.flag_overdue(sid, M.PICKED_UP).event("MilestoneOverdue").args["flaggedAt"] == now + 501
    )


def test_flag_overdue_reverts_when_milestone_reached_or_without_deadline(
    driver: ShipmentDriver,
) -> None:
    now = driver.now()
    sid = driver.create("reached", sla=td.service_level(picked_up_by=now + 10, arrived_by=now + 10))
    driver.advance(sid, S.EXPORT_CLEARED)
    driver.chain.advance_time(100)
    with reverts(
        "ShipmentMilestoneReached", shipmentId=sid, milestone=M.PICKED_UP, status=S.EXPORT_CLEARED
    ):
        driver.registry.flag_overdue(sid, M.PICKED_UP)
    for kind in (M.DEPARTED, M.HANDOVER, M.EXCEPTION, M.WAREHOUSE_INBOUND, 0, 14):
        with reverts("ShipmentNoDeadline", shipmentId=sid, milestone=int(kind)):
            driver.registry.flag_overdue(sid, kind)
    driver.registry.flag_overdue(sid, M.ARRIVED)


def test_flag_overdue_reverts_when_shipment_unknown_or_closed(driver: ShipmentDriver) -> None:
    with reverts("ShipmentUnknown", shipmentId=shipment_id("nope")):
        driver.registry.flag_overdue(shipment_id("nope"), M.PICKED_UP)
    now = driver.now()
    sid = driver.create("closed", sla=td.service_level(delivered_by=now + 10))
    driver.advance(sid, S.RETURNED)
    driver.chain.advance_time(100)
    with reverts("ShipmentClosed", shipmentId=sid, status=S.RETURNED):
        driver.registry.flag_overdue(sid, M.DELIVERED)
    lost = driver.create("closed-lost", sla=td.service_level(delivered_by=driver.now() + 10))
    driver.advance(lost, S.LOST)
    driver.chain.advance_time(100)
    with reverts("ShipmentClosed", shipmentId=lost, status=S.LOST):
        driver.registry.flag_overdue(lost, M.DELIVERED)


# --------------------------------------------------------------- corrections


def _correction(d: ShipmentDriver, sid: bytes, signer, **fields) -> tuple[dict, bytes]:  # type: ignore[no-untyped-def]
    values = {
        "shipment_id": sid,
        "corrected_index": 0,
        "corrected_record_hash": keccak(text="x"),
        "reason": CorrectionReason.INCORRECT_DATA,
        "signer": signer.address,
        "nonce": d.registry.nonce(signer.address),
        "deadline": d.now() + HOUR,
        "evidence_hash": keccak(text="corrected scan"),
    }
    values.update(fields)
    msg = td.correction(**values)
    return msg, td.sign_correction(signer.key, d.domain, msg)


def test_correction_appends_to_history_and_keeps_state(any_driver: ShipmentDriver) -> None:
    d, reg = any_driver, any_driver.registry
    sid = d.create("correct")
    d.advance(sid, S.EXPORT_CLEARED)
    original = reg.history(sid)[1]
    msg, sig = _correction(
        d, sid, P.broker, corrected_index=1, corrected_record_hash=original.record_hash
    )
    result = reg.correct(msg, sig)
    ev = result.event("MilestoneCorrected").args
    assert ev == {
        "shipmentId": sid,
        "correctedIndex": 1,
        "signer": P.broker.address,
        "index": 2,
        "correctedRecordHash": original.record_hash,
        "reasonCode": CorrectionReason.INCORRECT_DATA,
        "evidenceHash": msg["evidenceHash"],
        "recordHash": td.CORRECTION.hash_struct(msg),
    }
    assert reg.status(sid) == S.EXPORT_CLEARED
    assert reg.custodian(sid) == P.carrier_a.address
    history = reg.history(sid)
    assert [e.kind for e in history] == ["milestone", "milestone", "correction"]
    assert history[1] == original  # never rewritten
    assert history[2].corrected_index == 1
    d.record(sid, M.DEPARTED, P.carrier_a)
    assert reg.milestone_count(sid) == 4


def test_correction_reverts_when_index_reason_or_signer_invalid(driver: ShipmentDriver) -> None:
    sid = driver.create("bad-correct")
    driver.advance(sid, S.PICKED_UP)
    msg, sig = _correction(driver, sid, P.seller, corrected_index=1)
    with reverts(
        "ShipmentCorrectionIndexInvalid", shipmentId=sid, correctedIndex=1, historyLength=1
    ):
        driver.registry.correct(msg, sig)
    for reason in (0, 4):
        msg, sig = _correction(driver, sid, P.seller, reason=reason)
        with reverts("ShipmentCorrectionReasonInvalid", shipmentId=sid, reasonCode=reason):
            driver.registry.correct(msg, sig)
    msg, sig = _correction(driver, sid, P.outsider)
    with reverts("ShipmentCorrectionSignerNotParty", shipmentId=sid, signer=P.outsider.address):
        driver.registry.correct(msg, sig)
    msg, sig = _correction(driver, sid, P.seller, deadline=driver.now() - 1)
    with reverts("ShipmentSignatureExpired", shipmentId=sid):
        driver.registry.correct(msg, sig)
    msg, _ = _correction(driver, sid, P.seller)
    with reverts("ShipmentSignatureInvalid", shipmentId=sid, signer=P.seller.address):
        driver.registry.correct(msg, td.sign_correction(P.outsider.key, driver.domain, msg))
    msg, sig = _correction(driver, sid, P.seller)
    driver.registry.correct(msg, sig)
    with reverts("InvalidAccountNonce", account=P.seller.address):
        driver.registry.correct(msg, sig)
    with reverts("ShipmentUnknown", shipmentId=shipment_id("ghost")):
        driver.registry.correct(*_correction(driver, shipment_id("ghost"), P.seller))


def test_correction_allowed_after_delivery(driver: ShipmentDriver) -> None:
    sid = driver.create("late-correct")
    driver.advance(sid, S.DELIVERED)
    count = driver.registry.milestone_count(sid)
    driver.registry.correct(
        *_correction(
            driver,
            sid,
            P.carrier_b,
            corrected_index=count - 1,
            reason=CorrectionReason.DID_NOT_OCCUR,
        )
    )
    assert driver.registry.status(sid) == S.DELIVERED
    assert driver.registry.milestone_count(sid) == count + 1


# --------------------------------------------------------------------- views


def test_verify_history_rejects_tampered_reordered_or_partial_lists(driver: ShipmentDriver) -> None:
    sid = driver.create("verify")
    driver.advance(sid, S.IN_TRANSIT)
    hashes = [e.record_hash for e in driver.registry.history(sid)]
    reg = driver.registry
    assert reg.verify_history(sid, hashes)
    assert not reg.verify_history(sid, hashes[:-1])
    assert not reg.verify_history(sid, list(reversed(hashes)))
    assert not reg.verify_history(sid, [*hashes[:-1], keccak(text="forged")])
    assert reg.verify_history(shipment_id("unknown"), [])


def test_history_raises_when_events_are_missing(driver: ShipmentDriver) -> None:
    sid = driver.create("missing")
    driver.advance(sid, S.EXPORT_CLEARED)
    last_block = driver.chain.block_number()
    with pytest.raises(HistoryMismatch):
        driver.registry.history(sid, from_block=last_block)


def test_views_of_unknown_shipment_are_empty(driver: ShipmentDriver) -> None:
    sid = shipment_id("unknown-view")
    reg = driver.registry
    assert reg.shipment(sid) is None
    assert reg.status(sid) == S.NONE
    assert reg.custodian(sid) is None
    assert reg.milestone_count(sid) == 0
    delivery = reg.delivery_of(sid)
    assert (delivery.seller, delivery.delivered, delivery.delivered_at) == (
        td.ZERO_ADDRESS,
        False,
        0,
    )


def test_deployment_plan_includes_registry(
    tester_registry: ShipmentRegistryClient, tester: ChainClient
) -> None:
    assert tester.call(tester_registry.contract, "VERSION") == "2.0.0"
    assert tester_registry.domain().version == "2.0.0"
    assert tester_registry.domain().name == "Waymark ShipmentRegistry"
