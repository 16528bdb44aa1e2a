"""ShipmentRegistry proof of delivery: the consignee co-signs DELIVERED or refuses it."""

from __future__ import annotations

import pytest

from backend.chain.shipments import ShipmentRegistryClient
from backend.chain.typed_data import shipments as td
from backend.chain.typed_data.shipments import DeliveryCondition, MilestoneType, Status
from tests.contracts.shipment_factory import (
    PARTIES,
    ShipmentDriver,
    account,
    driver,
    tester_registry,
)
from tests.helpers import reverts

__all__ = ["driver", "tester_registry"]  # fixtures

M = MilestoneType
BUYER = account("consignee")


@pytest.fixture
def pod(tester_registry: ShipmentRegistryClient) -> ShipmentDriver:
    return ShipmentDriver(tester_registry, consignee=BUYER)


def _out_for_delivery(pod: ShipmentDriver) -> bytes:
    sid = pod.create()
    pod.advance(sid, Status.OUT_FOR_DELIVERY)
    return sid


def test_consignee_proof_delivers_and_clears_custody(pod: ShipmentDriver) -> None:
    sid = _out_for_delivery(pod)
    result = pod.deliver(sid, BUYER)
    event = result.event("DeliveryReceipted").args
    assert event["consignee"] == BUYER.address
    assert event["condition"] == DeliveryCondition.ACCEPTED
    info = pod.registry.shipment(sid)
    assert info is not None
    assert info.status is Status.DELIVERED
    assert info.custodian is None
    assert info.consignee == BUYER.address
    assert info.delivery_condition is DeliveryCondition.ACCEPTED
    facts = pod.registry.delivery_facts(sid)
    assert facts.consignee == BUYER.address
    assert facts.condition is DeliveryCondition.ACCEPTED
    assert facts.condition_at == info.delivered_at == event["occurredAt"]
    assert 0 < facts.created_at <= facts.condition_at
    assert pod.registry.delivery_of(sid).delivered is True


def test_damage_exception_is_delivered_with_its_condition(pod: ShipmentDriver) -> None:
    sid = _out_for_delivery(pod)
    pod.deliver(sid, BUYER, DeliveryCondition.DAMAGED)
    facts = pod.registry.delivery_facts(sid)
    assert facts.status is Status.DELIVERED
    assert facts.condition is DeliveryCondition.DAMAGED


def test_refusal_keeps_goods_with_carrier_and_only_return_may_follow(pod: ShipmentDriver) -> None:
    sid = _out_for_delivery(pod)
    pod.deliver(sid, BUYER, DeliveryCondition.REFUSED)
    facts = pod.registry.delivery_facts(sid)
    assert facts.status is Status.OUT_FOR_DELIVERY
    assert facts.condition is DeliveryCondition.REFUSED
    assert pod.registry.custodian(sid) == PARTIES.carrier_b.address
    assert pod.registry.delivery_of(sid).delivered is False
    with reverts("ShipmentDeliveryRefused", shipmentId=sid):
        pod.deliver(sid, BUYER)
    pod.record(sid, M.RETURNED, PARTIES.seller)
    assert pod.registry.status(sid) is Status.RETURNED


def test_carrier_alone_cannot_deliver_a_consigned_shipment(pod: ShipmentDriver) -> None:
    sid = _out_for_delivery(pod)
    with reverts("ShipmentProofOfDeliveryRequired", shipmentId=sid, consignee=BUYER.address):
        pod.record(sid, M.DELIVERED, PARTIES.carrier_b)


def test_record_delivery_reverts_without_a_consignee(driver: ShipmentDriver) -> None:
    sid = driver.create()
    driver.advance(sid, Status.OUT_FOR_DELIVERY)
    with reverts("ShipmentNoConsignee", shipmentId=sid):
        driver.deliver(sid, BUYER)


def test_record_delivery_reverts_when_counterparty_is_not_the_consignee(
    pod: ShipmentDriver,
) -> None:
    sid = _out_for_delivery(pod)
    stranger = account("stranger")
    with reverts(
        "ShipmentCounterpartyInvalid",
        shipmentId=sid,
        milestone=int(M.DELIVERED),
        counterparty=stranger.address,
    ):
        pod.deliver(sid, stranger)


@pytest.mark.parametrize("condition", [0, 4])
def test_record_delivery_reverts_on_unknown_condition(pod: ShipmentDriver, condition: int) -> None:
    sid = _out_for_delivery(pod)
    with reverts("ShipmentDeliveryConditionInvalid", shipmentId=sid, condition=condition):
        pod.deliver(sid, BUYER, condition)  # type: ignore[arg-type]


def test_record_delivery_reverts_when_signed_by_someone_not_holding_the_goods(
    pod: ShipmentDriver,
) -> None:
    sid = _out_for_delivery(pod)
    with reverts(
        "ShipmentSignerNotAuthorized",
        shipmentId=sid,
        milestone=int(M.DELIVERED),
        signer=PARTIES.carrier_a.address,
    ):
        pod.deliver(sid, BUYER, carrier=PARTIES.carrier_a)


def test_receipt_signed_over_another_milestone_is_rejected(pod: ShipmentDriver) -> None:
    sid = _out_for_delivery(pod)
    msg, sig = pod.signed(sid, M.DELIVERED, PARTIES.carrier_b, counterparty=BUYER.address)
    nonce = pod.registry.nonce(BUYER.address)
    deadline = pod.now() + 3600
    other = dict(msg, measuredWeightGrams=1)  # the consignee saw a different record
    receipt = td.sign_proof_of_delivery(
        BUYER.key,
        pod.domain,
        other,
        condition=DeliveryCondition.ACCEPTED,
        nonce=nonce,
        deadline=deadline,
    )
    with reverts("ShipmentSignatureInvalid", shipmentId=sid, signer=BUYER.address):
        pod.registry.record_delivery(
            msg,
            sig,
            condition=DeliveryCondition.ACCEPTED,
            receipt_nonce=nonce,
            receipt_deadline=deadline,
            receipt_signature=receipt,
        )


def test_weight_measured_at_delivery_is_reconciled(pod: ShipmentDriver) -> None:
    sid = _out_for_delivery(pod)
    result = pod.deliver(sid, BUYER, measured_weight_grams=100_000)  # declared 120 kg, 2 %
    assert result.event("WeightDiscrepancy").args["measuredGrams"] == 100_000
    facts = pod.registry.delivery_facts(sid)
    assert facts.last_measured_weight_grams == 100_000
    assert facts.declared_weight_grams == 120_000
    assert facts.weight_tolerance_bps == 200
