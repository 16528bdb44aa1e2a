"""EmergencyStockTransfer released by real proofs of delivery of the ShipmentRegistry."""

from __future__ import annotations

import pytest

from backend.chain import ChainClient
from backend.chain.alliance import Terms, TransferStatus
from backend.chain.typed_data.shipments import DeliveryCondition, Status
from tests.contracts.alliance_support import USD, advance_to
from tests.contracts.stock_world import GRACE, GTIN, StockWorld, stock_world
from tests.helpers import reverts


@pytest.fixture
def world(tester: ChainClient) -> StockWorld:
    return stock_world(tester)


def test_proof_of_delivery_releases_escrow_to_lender(world: StockWorld) -> None:
    rid = world.accepted(Terms.CASH)
    outbound = world.outbound()
    sid = outbound.create()
    world.as_(world.lender).link_shipment(rid, sid)
    with reverts("StockNotDelivered", requestId=rid, shipmentId=sid):
        world.est.release(rid)
    outbound.advance(sid, Status.DELIVERED)
    result = world.est.release(rid)  # anyone may trigger the release
    assert result.event("TransferReleased").args["byConfirmation"] is False
    assert world.est.transfer(rid).status is TransferStatus.SETTLED
    assert world.est.withdrawable(world.lender.address) == 40 * USD
    world.as_(world.lender).withdraw()
    assert world.token.balance_of(world.est.address) == world.est.total_liabilities() == 0


def test_link_shipment_reverts_when_lender_is_not_its_seller(world: StockWorld) -> None:
    rid = world.accepted(Terms.CASH)
    sid = world.inbound().create()
    with reverts(
        "StockShipmentSellerMismatch",
        shipmentId=sid,
        expected=world.lender.address,
        actual=world.requester.address,
    ):
        world.as_(world.lender).link_shipment(rid, sid)


@pytest.mark.parametrize("condition", [DeliveryCondition.DAMAGED, DeliveryCondition.REFUSED])
def test_damaged_or_refused_delivery_releases_nothing_until_the_requester_confirms(
    world: StockWorld, condition: DeliveryCondition
) -> None:
    rid = world.accepted(Terms.CASH)
    outbound = world.outbound()
    sid = outbound.create()
    world.as_(world.lender).link_shipment(rid, sid)
    outbound.advance(sid, Status.OUT_FOR_DELIVERY)
    outbound.deliver(sid, world.requester.account, condition)
    with reverts("StockDeliveryNotAccepted", requestId=rid, shipmentId=sid, condition=condition):
        world.est.release(rid)
    world.as_(world.requester).confirm_receipt(rid)  # the confirmed-receipt path stays
    assert world.est.withdrawable(world.lender.address) == 40 * USD


def test_late_delivery_does_not_release_and_escrow_is_refunded(world: StockWorld) -> None:
    rid = world.accepted(Terms.CASH)
    outbound = world.outbound()
    sid = outbound.create()
    world.as_(world.lender).link_shipment(rid, sid)
    deadline = world.est.transfer(rid).request.needed_by + GRACE
    advance_to(world.chain, deadline + 1)
    outbound.advance(sid, Status.DELIVERED)
    with reverts("StockDeliveredLate", requestId=rid, deadline=deadline):
        world.est.release(rid)
    world.est.refund(rid)
    assert world.est.withdrawable(world.requester.address) == 40 * USD


def test_in_kind_loan_closed_by_delivered_return_shipment(world: StockWorld) -> None:
    rid = world.accepted(Terms.IN_KIND)
    outbound = world.outbound()
    sid = outbound.create()
    world.as_(world.lender).link_shipment(rid, sid)
    outbound.advance(sid, Status.DELIVERED)
    world.est.release(rid)
    assert world.est.units_owed(world.requester.address, world.lender.address, GTIN) == 10
    inbound = world.inbound()
    back = inbound.create()
    world.as_(world.requester).link_return_shipment(rid, back)
    with reverts("StockNotDelivered", requestId=rid, shipmentId=back):
        world.est.close_return(rid)
    inbound.advance(back, Status.DELIVERED)
    result = world.est.close_return(rid)
    assert result.event("ObligationClosed").args["byConfirmation"] is False
    assert world.est.transfer(rid).status is TransferStatus.RETURNED
    assert world.est.net_position(world.requester.address, world.lender.address, GTIN).units == 0
