"""Notifications from the chain: the SLA sweep flags overdue milestones by itself, indexed
events and colour changes reach the organisations involved, signed and exactly once."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from standardwebhooks import Webhook, WebhookVerificationError

from backend.chain.typed_data.shipments import MilestoneType as M
from backend.webhooks.models import EventType
from tests.backend.factories import make_org
from tests.backend.shipments.factories import (
    Parties,
    Service,
    create_body,
    milestone_body,
    post,
)
from tests.backend.webhooks.conftest import Receiver
from tests.context import workers


@pytest.fixture
def parties(api: TestClient) -> Parties:
    return Parties(
        seller=make_org(api, "seller", ("seller",)),
        carrier=make_org(api, "carrier", ("carrier",)),
        broker=make_org(api, "broker", ("supplier",)),
        other=make_org(api, "other", ("seller", "carrier")),
    )


def _subscribe(api: TestClient, headers: dict[str, str], url: str, types: list[str]) -> str:
    resp = api.post(
        "/v1/webhooks/subscriptions", json={"url": url, "event_types": types}, headers=headers
    )
    assert resp.status_code == 201, resp.text
    return str(resp.json()["secret"])


def _timestamp(payload: dict[str, object]) -> datetime:
    return datetime.fromisoformat(str(payload["timestamp"]).replace("Z", "+00:00"))


def _verified_by(secret: str, body: bytes, headers: dict[str, str]) -> bool:
    try:
        Webhook(secret).verify(body, headers)
    except WebhookVerificationError:
        return False
    return True


def test_overdue_pickup_is_flagged_by_the_service_and_every_party_is_told_once(
    api: TestClient, svc: Service, parties: Parties, receiver: Receiver
) -> None:
    p = parties
    receiver.start()
    every = [t.value for t in EventType if t is not EventType.WEBHOOK_TEST]
    seller_secret = _subscribe(api, p.seller.writer, receiver.url, every)
    carrier_secret = _subscribe(
        api, p.carrier.writer, receiver.url, [EventType.SHIPMENT_CUSTODY_CHANGED.value]
    )
    other_secret = _subscribe(api, p.other.writer, receiver.url, every)
    worker = workers(api).notifier

    deadline = svc.now() + 60
    body = create_body(
        svc,
        p.seller.signer,
        [p.carrier.signer.address],
        customs_broker=p.broker.signer.address,
        sla={"picked_up_by": deadline},
    )
    sid = str(body["terms"]["shipmentId"])
    post(svc, "/v1/shipments", body, p.seller)
    svc.settle()
    assert worker.sweep_sla() == 0  # not due yet
    assert worker.watch(svc.now()) == 1  # deadline within 24 h: green → yellow
    assert worker.watch(svc.now()) == 0

    svc.chain.advance_time(120)
    assert worker.sweep_sla() == 1
    assert worker.sweep_sla() == 0  # queued once
    svc.settle()
    detail = api.get(f"/v1/shipments/{sid}", headers=p.seller.writer).json()
    assert detail["overdue_milestones"] == ["picked_up"]
    assert worker.sweep_sla() == 0  # flagged on chain
    assert worker.watch(svc.now()) == 1  # yellow → red
    assert worker.watch(svc.now()) == 0

    pickup = milestone_body(svc, sid, M.PICKED_UP, p.seller.signer, receiver=p.carrier.signer)
    post(svc, f"/v1/shipments/{sid}/milestones", pickup, p.seller)
    svc.settle()
    svc.settle()  # a second pass over the same chain changes nothing

    assert worker.sender.deliver_due() > 0
    assert worker.sender.deliver_due() == 0
    by_org: dict[str, list[str]] = {"seller": [], "carrier": [], "other": []}
    ids = Counter()
    for r in receiver.received:
        ids[r.headers["webhook-id"]] += 1
        payload = json.loads(r.body)
        if _verified_by(seller_secret, r.body, r.headers):
            by_org["seller"].append(payload["type"])
        elif _verified_by(carrier_secret, r.body, r.headers):
            by_org["carrier"].append(payload["type"])
        elif _verified_by(other_secret, r.body, r.headers):
            by_org["other"].append(payload["type"])
        else:
            raise AssertionError(f"unverifiable delivery {r.headers}")
        assert payload["data"]["shipment_id"] == sid
    assert set(ids.values()) == {1}
    assert sorted(by_org["seller"]) == [
        "shipment.colour_changed",
        "shipment.colour_changed",
        "shipment.custody_changed",
        "shipment.milestone_late",
        "shipment.overdue",
    ]
    assert by_org["carrier"] == ["shipment.custody_changed"]
    assert by_org["other"] == []  # not a party to the shipment
    # Attempts run concurrently, so arrival order is not emission order: receivers
    # order by the payload's timestamp (the time the message was written).
    payloads = sorted((json.loads(r.body) for r in receiver.received), key=_timestamp)
    colours = [p["data"] for p in payloads if p["type"] == "shipment.colour_changed"]
    assert [(c["from"], c["to"]) for c in colours] == [("green", "yellow"), ("yellow", "red")]
    assert any("PICKED_UP flagged overdue" in reason for reason in colours[1]["reasons"])


def test_a_deadline_already_past_when_the_shipment_is_created_is_not_swept(
    api: TestClient, svc: Service, parties: Parties
) -> None:
    p = parties
    worker = workers(api).notifier
    past = svc.now() - 3_600
    body = create_body(
        svc,
        p.seller.signer,
        [p.carrier.signer.address],
        customs_broker=p.broker.signer.address,
        sla={"picked_up_by": past},
    )
    sid = str(body["terms"]["shipmentId"])
    post(svc, "/v1/shipments", body, p.seller)
    svc.settle()
    svc.chain.advance_time(120)
    assert worker.sweep_sla() == 0
    detail = api.get(f"/v1/shipments/{sid}", headers=p.seller.writer).json()
    assert detail["overdue_milestones"] == []
