"""Escrow attacks on EmergencyStockTransfer, on eth-tester and anvil.

Each test is an attack that used to pay: a lender delivering to himself in
seconds, one old delivery settling two requests, and the same two tricks on the
in-kind return leg. Escrow now moves only on a shipment consigned to the
receiving member, created after the obligation began, delivered with that
member's proof of delivery, and linked to one request only.
"""

from __future__ import annotations

import pytest

from backend.chain import ChainClient
from backend.chain.alliance import StockRequest, Terms, TransferStatus
from backend.chain.typed_data import shipments as td
from backend.chain.typed_data.shipments import DeliveryCondition, MilestoneType, Status
from tests.contracts.alliance_support import DAY, HOUR, USD, advance_to
from tests.contracts.shipment_factory import account
from tests.contracts.stock_world import GRACE, GTIN, StockWorld, stock_world
from tests.helpers import reverts

ZERO = td.ZERO_ADDRESS


@pytest.fixture
def world(chain: ChainClient) -> StockWorld:
    return stock_world(chain)


def test_lender_delivering_to_himself_in_seconds_takes_no_escrow(world: StockWorld) -> None:
    rid = world.accepted(Terms.CASH)
    # Every key on the route is the lender's; no consignee (the carrier's word alone)...
    unconsigned = world.self_dealt(world.lender, "mallory", consignee=None)
    sid = unconsigned.create()
    unconsigned.advance(sid, Status.DELIVERED)
    with reverts(
        "StockShipmentConsigneeMismatch",
        shipmentId=sid,
        expected=world.requester.address,
        actual=ZERO,
    ):
        world.as_(world.lender).link_shipment(rid, sid)
    # ...or consigned to a key the lender holds.
    puppet = account("mallory-consignee")
    to_self = world.self_dealt(world.lender, "mallory-2", consignee=puppet)
    sid2 = to_self.create()
    to_self.advance(sid2, Status.DELIVERED)
    with reverts(
        "StockShipmentConsigneeMismatch",
        shipmentId=sid2,
        expected=world.requester.address,
        actual=puppet.address,
    ):
        world.as_(world.lender).link_shipment(rid, sid2)
    assert world.est.withdrawable(world.lender.address) == 0
    assert world.est.transfer(rid).escrow == 40 * USD


def test_lender_cannot_deliver_to_the_requester_without_the_requesters_proof(
    world: StockWorld,
) -> None:
    rid = world.accepted(Terms.CASH)
    route = world.self_dealt(world.lender, "mallory-3", consignee=world.requester.account)
    sid = route.create()
    world.as_(world.lender).link_shipment(rid, sid)
    route.advance(sid, Status.OUT_FOR_DELIVERY)
    carrier = route.parties.carrier_b
    with reverts(
        "ShipmentProofOfDeliveryRequired", shipmentId=sid, consignee=world.requester.address
    ):
        route.record(sid, MilestoneType.DELIVERED, carrier)
    # A receipt signed with the lender's own key in the requester's name does not verify.
    msg, sig = route.signed(
        sid, MilestoneType.DELIVERED, carrier, counterparty=world.requester.address
    )
    nonce = world.registry.nonce(world.requester.address)
    deadline = route.now() + 3600
    forged = td.sign_proof_of_delivery(
        world.lender.key,
        world.registry.domain(),
        msg,
        condition=DeliveryCondition.ACCEPTED,
        nonce=nonce,
        deadline=deadline,
    )
    with reverts("ShipmentSignatureInvalid", shipmentId=sid, signer=world.requester.address):
        world.registry.record_delivery(
            msg,
            sig,
            condition=DeliveryCondition.ACCEPTED,
            receipt_nonce=nonce,
            receipt_deadline=deadline,
            receipt_signature=forged,
        )
    with reverts("StockNotDelivered", requestId=rid, shipmentId=sid):
        world.est.release(rid)
    # The escrow goes back to the requester after the grace period.
    deadline_at = world.est.transfer(rid).request.needed_by + GRACE
    advance_to(world.chain, deadline_at + 1)
    world.est.refund(rid)
    assert world.est.withdrawable(world.requester.address) == 40 * USD
    assert world.est.withdrawable(world.lender.address) == 0


def test_one_old_delivery_cannot_release_two_requests(world: StockWorld) -> None:
    outbound = world.outbound()
    old = outbound.create()
    outbound.advance(old, Status.DELIVERED)  # a genuine delivery, before any request existed
    advance_to(world.chain, world.chain.block()["timestamp"] + HOUR)
    first = world.accepted(Terms.CASH)
    second = world.accepted(Terms.CASH)
    accepted_at = world.est.transfer(first).accepted_at
    created_at = world.registry.delivery_facts(old).created_at
    with reverts(
        "StockShipmentPredatesObligation",
        requestId=first,
        shipmentId=old,
        createdAt=created_at,
        since=accepted_at,
    ):
        world.as_(world.lender).link_shipment(first, old)
    # A fresh shipment settles the first request and nothing else.
    fresh = outbound.create()
    world.as_(world.lender).link_shipment(first, fresh)
    with reverts("StockShipmentAlreadyUsed", shipmentId=fresh, requestId=first):
        world.as_(world.lender).link_shipment(second, fresh)
    outbound.advance(fresh, Status.DELIVERED)
    world.est.release(first)
    with reverts("StockShipmentNotLinked", requestId=second):
        world.est.release(second)
    assert world.est.transfer(second).status is TransferStatus.ACCEPTED
    assert world.est.withdrawable(world.lender.address) == 40 * USD
    assert world.conserved()


def test_in_kind_return_cannot_be_self_delivered_or_reused(world: StockWorld) -> None:
    first = world.accepted(Terms.IN_KIND)
    second = world.accepted(Terms.IN_KIND)
    outbound = world.outbound()
    for rid in (first, second):
        sid = outbound.create()
        world.as_(world.lender).link_shipment(rid, sid)
        outbound.advance(sid, Status.DELIVERED)
        world.est.release(rid)
    assert world.est.units_owed(world.requester.address, world.lender.address, GTIN) == 20

    # The requester "returns" the stock to himself through his own keys.
    self_return = world.self_dealt(world.requester, "trudy", consignee=None)
    fake = self_return.create()
    self_return.advance(fake, Status.DELIVERED)
    with reverts(
        "StockShipmentConsigneeMismatch",
        shipmentId=fake,
        expected=world.lender.address,
        actual=ZERO,
    ):
        world.as_(world.requester).link_return_shipment(first, fake)

    # One genuine return closes one obligation, not two.
    inbound = world.inbound()
    back = inbound.create()
    world.as_(world.requester).link_return_shipment(first, back)
    with reverts("StockShipmentAlreadyUsed", shipmentId=back, requestId=first):
        world.as_(world.requester).link_return_shipment(second, back)
    inbound.advance(back, Status.DELIVERED)
    world.est.close_return(first)
    assert world.est.transfer(first).status is TransferStatus.RETURNED
    assert world.est.transfer(second).status is TransferStatus.OUTSTANDING
    assert world.est.units_owed(world.requester.address, world.lender.address, GTIN) == 10


def test_return_shipped_before_the_obligation_does_not_close_it(world: StockWorld) -> None:
    inbound = world.inbound()
    early = inbound.create()  # before the loan existed
    inbound.advance(early, Status.DELIVERED)
    advance_to(world.chain, world.chain.block()["timestamp"] + HOUR)
    rid = world.accepted(Terms.IN_KIND)
    outbound = world.outbound()
    sid = outbound.create()
    world.as_(world.lender).link_shipment(rid, sid)
    outbound.advance(sid, Status.DELIVERED)
    world.est.release(rid)
    since = world.est.transfer(rid).outstanding_at
    with reverts("StockShipmentPredatesObligation", requestId=rid, shipmentId=early, since=since):
        world.as_(world.requester).link_return_shipment(rid, early)


@pytest.mark.parametrize(
    "case",
    ["quantity", "needed-by", "cash-no-price", "cash-return", "in-kind-price", "in-kind-return"],
)
def test_an_invalid_request_names_the_broken_rule(world: StockWorld, case: str) -> None:
    now = world.chain.block()["timestamp"]
    later = now + DAY
    bad = {
        "quantity": (StockRequest(GTIN, 0, "NLRTM", later, Terms.CASH, 1), "StockQuantityZero", {}),
        "needed-by": (
            StockRequest(GTIN, 1, "NLRTM", now - 1, Terms.CASH, 1),
            "StockNeededByNotInFuture",
            {"neededBy": now - 1},
        ),
        "cash-no-price": (
            StockRequest(GTIN, 1, "NLRTM", later, Terms.CASH, 0),
            "StockCashTermsInvalid",
            {"maxPricePerUnit": 0, "returnBy": 0},
        ),
        "cash-return": (
            StockRequest(GTIN, 1, "NLRTM", later, Terms.CASH, 5, later + DAY),
            "StockCashTermsInvalid",
            {"maxPricePerUnit": 5, "returnBy": later + DAY},
        ),
        "in-kind-price": (
            StockRequest(GTIN, 1, "NLRTM", later, Terms.IN_KIND, 5, later + DAY),
            "StockInKindTermsInvalid",
            {"maxPricePerUnit": 5, "returnBy": later + DAY, "neededBy": later},
        ),
        "in-kind-return": (
            StockRequest(GTIN, 1, "NLRTM", later, Terms.IN_KIND, 0, later),
            "StockInKindTermsInvalid",
            {"maxPricePerUnit": 0, "returnBy": later, "neededBy": later},
        ),
    }
    request, error, args = bad[case]
    with reverts(error, **args) as info:
        world.as_(world.requester).request(request)
    if error == "StockNeededByNotInFuture":
        assert info.value.arguments["now"] >= now
    assert world.est.request_count() == 0
