"""EmergencyStockTransfer released by real DELIVERED milestones of the ShipmentRegistry.

Runs once ShipmentRegistry (``backend.chain.shipments`` and its test driver) is
on the branch; until then it is skipped as a whole.
"""

from __future__ import annotations

import pytest

pytest.importorskip("backend.chain.shipments")

from eth_account.signers.local import LocalAccount

from backend.chain import ChainClient
from backend.chain.alliance import (
    EmergencyStockTransferClient,
    StockRequest,
    Terms,
    TransferStatus,
)
from backend.chain.shipments import ShipmentRegistryClient
from backend.chain.typed_data.shipments import Status
from tests.conftest import deployment_for
from tests.contracts.alliance_support import (
    DAY,
    USD,
    Party,
    advance_to,
    deploy_token,
    mint,
    party,
)
from tests.contracts.shipment_factory import Parties, ShipmentDriver
from tests.helpers import reverts

GTIN = 9_506_000_134_352
GRACE = 2 * DAY


def _member(chain: ChainClient, account: LocalAccount) -> Party:
    chain.send_value(account.address, 10**18)
    return Party(account, chain.with_account(account))


@pytest.fixture
def world(tester: ChainClient) -> dict[str, object]:
    registry = ShipmentRegistryClient(tester, deployment_for(tester).address("ShipmentRegistry"))
    token = deploy_token(tester)
    deployed = tester.deploy(
        "EmergencyStockTransfer", tester.address, token.address, registry.address, GRACE
    )
    est = EmergencyStockTransferClient(tester, deployed.address)
    parties = Parties()
    lender = _member(tester, parties.seller)  # ships as the registry's seller of record
    requester = party(tester)
    for p in (lender, requester):
        est.grant_member(p.address)
        mint(token, p.address, 1_000 * USD)
    return {
        "chain": tester,
        "est": est,
        "token": token,
        "lender": lender,
        "requester": requester,
        "driver": ShipmentDriver(registry, parties),
        "return_driver": ShipmentDriver(registry, Parties(seller=requester.account)),
    }


def _accepted(world: dict[str, object], terms: Terms) -> int:
    chain: ChainClient = world["chain"]  # type: ignore[assignment]
    est: EmergencyStockTransferClient = world["est"]  # type: ignore[assignment]
    lender: Party = world["lender"]  # type: ignore[assignment]
    requester: Party = world["requester"]  # type: ignore[assignment]
    now = chain.block()["timestamp"]
    if terms is Terms.CASH:
        req = StockRequest(GTIN, 10, "NLRTM", now + 3 * DAY, terms, 5 * USD)
        price = 4 * USD
    else:
        req = StockRequest(GTIN, 10, "NLRTM", now + 3 * DAY, terms, 0, now + 30 * DAY)
        price = 0
    rid, _ = est.using(requester.chain).request(req)
    offer_id, _ = est.using(lender.chain).offer(rid, price)
    est.using(requester.chain).accept(rid, offer_id)
    return rid


def test_delivered_milestone_releases_escrow_to_lender(world: dict[str, object]) -> None:
    est: EmergencyStockTransferClient = world["est"]  # type: ignore[assignment]
    lender: Party = world["lender"]  # type: ignore[assignment]
    driver: ShipmentDriver = world["driver"]  # type: ignore[assignment]
    rid = _accepted(world, Terms.CASH)
    sid = driver.create()
    est.using(lender.chain).link_shipment(rid, sid)
    with reverts("StockNotDelivered", requestId=rid, shipmentId=sid):
        est.release(rid)
    driver.advance(sid, Status.DELIVERED)
    result = est.release(rid)  # anyone may trigger the release
    assert result.event("TransferReleased").args["byConfirmation"] is False
    assert est.transfer(rid).status is TransferStatus.SETTLED
    assert est.withdrawable(lender.address) == 40 * USD
    est.using(lender.chain).withdraw()
    assert est.token().balance_of(est.address) == est.total_liabilities() == 0


def test_link_shipment_reverts_when_lender_is_not_its_seller(world: dict[str, object]) -> None:
    est: EmergencyStockTransferClient = world["est"]  # type: ignore[assignment]
    lender: Party = world["lender"]  # type: ignore[assignment]
    requester: Party = world["requester"]  # type: ignore[assignment]
    other: ShipmentDriver = world["return_driver"]  # type: ignore[assignment]
    rid = _accepted(world, Terms.CASH)
    sid = other.create()
    with reverts(
        "StockShipmentSellerMismatch",
        shipmentId=sid,
        expected=lender.address,
        actual=requester.address,
    ):
        est.using(lender.chain).link_shipment(rid, sid)


def test_late_delivery_does_not_release_and_escrow_is_refunded(world: dict[str, object]) -> None:
    chain: ChainClient = world["chain"]  # type: ignore[assignment]
    est: EmergencyStockTransferClient = world["est"]  # type: ignore[assignment]
    lender: Party = world["lender"]  # type: ignore[assignment]
    requester: Party = world["requester"]  # type: ignore[assignment]
    driver: ShipmentDriver = world["driver"]  # type: ignore[assignment]
    rid = _accepted(world, Terms.CASH)
    sid = driver.create()
    est.using(lender.chain).link_shipment(rid, sid)
    deadline = est.transfer(rid).request.needed_by + GRACE
    advance_to(chain, deadline + 1)
    driver.advance(sid, Status.DELIVERED)
    with reverts("StockDeliveredLate", requestId=rid, deadline=deadline):
        est.release(rid)
    est.refund(rid)
    assert est.withdrawable(requester.address) == 40 * USD


def test_in_kind_loan_closed_by_delivered_return_shipment(world: dict[str, object]) -> None:
    est: EmergencyStockTransferClient = world["est"]  # type: ignore[assignment]
    lender: Party = world["lender"]  # type: ignore[assignment]
    requester: Party = world["requester"]  # type: ignore[assignment]
    driver: ShipmentDriver = world["driver"]  # type: ignore[assignment]
    return_driver: ShipmentDriver = world["return_driver"]  # type: ignore[assignment]
    rid = _accepted(world, Terms.IN_KIND)
    sid = driver.create()
    est.using(lender.chain).link_shipment(rid, sid)
    driver.advance(sid, Status.DELIVERED)
    est.release(rid)
    assert est.units_owed(requester.address, lender.address, GTIN) == 10
    back = return_driver.create()
    est.using(requester.chain).link_return_shipment(rid, back)
    with reverts("StockNotDelivered", requestId=rid, shipmentId=back):
        est.close_return(rid)
    return_driver.advance(back, Status.DELIVERED)
    result = est.close_return(rid)
    assert result.event("ObligationClosed").args["byConfirmation"] is False
    assert est.transfer(rid).status is TransferStatus.RETURNED
    assert est.net_position(requester.address, lender.address, GTIN).units == 0
