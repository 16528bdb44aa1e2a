"""Emergency stock transfers through the API: request, offer, accept, proof of delivery, release."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from backend.chain import ChainClient, ShipmentRegistryClient
from backend.chain.alliance import StockRequest, Terms
from backend.chain.typed_data.shipments import Status
from tests.backend.alliance.support import (
    OPERATOR,
    USD,
    Member,
    action_done,
    deployment_of,
    drive,
    make_member,
    stock_client,
)
from tests.contracts.alliance_support import DAY
from tests.contracts.shipment_factory import Parties, ShipmentDriver

GTIN = 9_506_000_134_352


@pytest.fixture
def parties(api: TestClient, tester: ChainClient) -> dict[str, Member]:
    requester = make_member(api, tester, "requester", cash=1_000 * USD)
    lender = make_member(api, tester, "lender")
    for m in (requester, lender):
        resp = api.post("/v1/alliance/stock-members", json={"address": m.address}, headers=OPERATOR)
        action_done(api, resp, OPERATOR)
    return {"requester": requester, "lender": lender}


def _net(api: TestClient, a: Member, b: Member, gtin: int = GTIN) -> dict[str, Any]:
    resp = api.get(
        "/v1/alliance/net-positions",
        params={"a": a.address, "b": b.address, "gtin": gtin},
        headers=a.writer,
    )
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


def _cross_check(api: TestClient, tester: ChainClient, a: Member, b: Member) -> None:
    view = stock_client(tester, deployment_of(api)).net_position(a.address, b.address, GTIN)
    net = _net(api, a, b)
    assert (net["units"], int(net["amount"])) == (view.units, view.amount)
    reverse = _net(api, b, a)
    assert (reverse["units"], int(reverse["amount"])) == (-view.units, -view.amount)


def test_cash_transfer_released_by_the_requesters_proof_of_delivery(
    api: TestClient, tester: ChainClient, parties: dict[str, Member]
) -> None:
    dep = deployment_of(api)
    requester, lender = parties["requester"], parties["lender"]
    now = tester.block()["timestamp"]
    req = StockRequest(GTIN, 10, "NLRTM", now + 3 * DAY, Terms.CASH, 5 * USD)
    rid, _ = stock_client(requester.chain, dep).request(req)
    drive(api)
    open_ = api.get("/v1/alliance/transfers", params={"status": "open"}, headers=lender.writer)
    assert [t["request_id"] for t in open_.json()["items"]] == [rid]
    assert open_.json()["items"][0]["destination"] == "NLRTM"

    offer_id, _ = stock_client(lender.chain, dep).offer(rid, 4 * USD)
    stock_client(requester.chain, dep).accept(rid, offer_id)
    drive(api)
    t = api.get(f"/v1/alliance/transfers/{rid}", headers=lender.writer).json()
    assert t["status"] == "accepted"
    assert int(t["escrow"]) == 40 * USD
    assert (
        api.get("/v1/alliance/transfers", params={"status": "open"}, headers=lender.writer).json()[
            "items"
        ]
        == []
    )
    _cross_check(api, tester, requester, lender)
    assert int(_net(api, requester, lender)["amount"]) == 40 * USD

    # The lender ships as the registry's seller of record to the requester, who signs
    # the proof of delivery.
    registry = ShipmentRegistryClient(tester, dep.address("ShipmentRegistry"))
    driver = ShipmentDriver(registry, Parties(seller=lender.account), consignee=requester.account)
    sid = driver.create()
    stock_client(lender.chain, dep).link_shipment(rid, sid)
    resp = api.post(f"/v1/alliance/transfers/{rid}/release", headers=requester.writer)
    assert resp.status_code == 409
    assert resp.json()["error"] == "StockNotDelivered"
    driver.advance(sid, Status.DELIVERED)
    resp = api.post(f"/v1/alliance/transfers/{rid}/release", headers=requester.writer)
    action_done(api, resp, requester.writer)
    t = api.get(f"/v1/alliance/transfers/{rid}", headers=lender.writer).json()
    assert t["status"] == "settled"
    assert t["shipment_id"] == "0x" + sid.hex()
    assert int(t["released_amount"]) == 40 * USD
    assert stock_client(tester, dep).withdrawable(lender.address) == 40 * USD
    _cross_check(api, tester, requester, lender)


def test_in_kind_obligations_net_out_both_ways(
    api: TestClient, tester: ChainClient, parties: dict[str, Member]
) -> None:
    dep = deployment_of(api)
    x, y = parties["requester"], parties["lender"]
    now = tester.block()["timestamp"]
    for debtor, creditor, qty in ((x, y, 10), (y, x, 4)):
        req = StockRequest(GTIN, qty, "DEHAM", now + 3 * DAY, Terms.IN_KIND, 0, now + 30 * DAY)
        rid, _ = stock_client(debtor.chain, dep).request(req)
        offer_id, _ = stock_client(creditor.chain, dep).offer(rid, 0)
        stock_client(debtor.chain, dep).accept(rid, offer_id)
        stock_client(debtor.chain, dep).confirm_receipt(rid)
    drive(api)
    assert _net(api, x, y)["units"] == 6
    assert _net(api, x, y, gtin=GTIN + 1)["units"] == 0
    _cross_check(api, tester, x, y)
    outstanding = api.get(
        "/v1/alliance/transfers", params={"status": "outstanding"}, headers=x.writer
    ).json()["items"]
    assert len(outstanding) == 2
