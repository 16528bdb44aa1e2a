"""Webhook delivery to a real receiver on loopback: outage and recovery, signatures checked
by the independent ``standardwebhooks`` implementation, disabling, redelivery, rotation.

The retry schedule is the production default; the sender's scheduling clock is
moved forward instead of waiting hours (signatures still carry the wall clock).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from standardwebhooks import Webhook, WebhookVerificationError

from backend.db.base import utcnow
from backend.webhooks.delivery import Sender
from backend.webhooks.models import EventType, WebhookDelivery, WebhookMessage
from tests.backend.factories import Org, make_org
from tests.backend.webhooks.conftest import Receiver
from tests.backend.webhooks.factories import deliveries, emit, subscribe
from tests.context import context


@dataclass
class Clock:
    """The wall clock moved forward by ``offset``."""

    offset: timedelta = timedelta(0)

    def __call__(self) -> datetime:
        return utcnow() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sender(api: TestClient, clock: Clock) -> Sender:
    s = Sender(
        sessions=context(api).sessions,
        settings=context(api).settings,
        owner="test-sender",
        clock=clock,
        client=httpx.Client(timeout=2.0, follow_redirects=False),
    )
    yield s  # type: ignore[misc]
    s.close()


@pytest.fixture
def seller(api: TestClient) -> Org:
    return make_org(api, "seller", ("seller",))


def test_receiver_outage_loses_nothing_and_each_id_arrives_exactly_once(
    api: TestClient, seller: Org, receiver: Receiver, sender: Sender, clock: Clock
) -> None:
    sub = subscribe(api, seller, receiver.url, EventType.SHIPMENT_CUSTOMS_HOLD)
    emit(api, seller, EventType.SHIPMENT_CUSTOMS_HOLD, 20)
    emit(api, seller, EventType.SHIPMENT_OVERDUE, 3)  # not subscribed: never sent
    # Down for the first five attempts (about 2.6 hours of the schedule).
    for wait in (0, 5, 300, 1800, 7200):
        clock.advance(wait)
        assert sender.deliver_due() == 20
        assert receiver.received == []
    clock.advance(17_000)
    assert sender.deliver_due() == 0  # not due before the 5 h step has passed
    receiver.start()
    clock.advance(1_000)
    assert sender.deliver_due() == 20
    for wait in (0, 5, 36_000, 200_000):
        clock.advance(wait)
        assert sender.deliver_due() == 0

    ids = Counter(r.headers["webhook-id"] for r in receiver.received)
    with context(api).sessions() as session:
        msg_ids = set(session.scalars(select(WebhookMessage.msg_id)))
    assert len(msg_ids) == 20
    assert set(ids) == msg_ids
    assert set(ids.values()) == {1}
    hook = Webhook(str(sub["secret"]))
    numbers = set()
    for r in receiver.received:
        payload = hook.verify(r.body, r.headers)
        assert payload["type"] == "shipment.customs_hold"
        numbers.add(payload["data"]["n"])
    assert numbers == set(range(20))

    log = deliveries(api, seller, sub["id"])
    assert [d["status"] for d in log] == ["delivered"] * 20
    first = log[0]
    assert first["attempts"] == 6
    assert [a["status_code"] for a in first["log"]] == [None] * 5 + [204]  # type: ignore[union-attr]
    assert "ConnectError" in str(first["log"][0]["error"])  # type: ignore[index]


def test_persistent_failure_disables_the_subscription_with_the_reason_and_redelivery_recovers(
    api: TestClient, seller: Org, receiver: Receiver, sender: Sender, clock: Clock
) -> None:
    receiver.status = 503
    receiver.start()
    sub = subscribe(api, seller, receiver.url, EventType.PASSPORT_RECALLED)
    emit(api, seller, EventType.PASSPORT_RECALLED, 1)
    schedule = context(api).settings.webhook_retry_schedule
    assert sum(schedule) >= 24 * 3600
    assert sender.deliver_due() == 1
    for wait in schedule:
        clock.advance(wait)
        assert sender.deliver_due() == 1
    clock.advance(10 * 24 * 3600)
    assert sender.deliver_due() == 0
    assert len(receiver.received) == len(schedule) + 1

    got = api.get(f"/v1/webhooks/subscriptions/{sub['id']}", headers=seller.writer).json()
    assert got["status"] == "disabled"
    assert f"after {len(schedule) + 1} attempts" in got["disabled_reason"]
    assert "HTTP 503" in got["disabled_reason"]
    [failed] = deliveries(api, seller, sub["id"])
    assert failed["status"] == "failed"

    # While disabled nothing new is queued for it.
    emit(api, seller, EventType.PASSPORT_RECALLED, 1, tag="later")
    assert len(deliveries(api, seller, sub["id"])) == 1

    receiver.status = 200
    resp = api.patch(
        f"/v1/webhooks/subscriptions/{sub['id']}", json={"enabled": True}, headers=seller.writer
    )
    assert resp.json()["status"] == "active"
    assert resp.json()["disabled_reason"] is None
    again = api.post(f"/v1/webhooks/deliveries/{failed['id']}/redeliver", headers=seller.writer)
    assert again.status_code == 202, again.text
    assert sender.deliver_due() == 1
    [done] = deliveries(api, seller, sub["id"])
    assert done["status"] == "delivered"
    assert {r.headers["webhook-id"] for r in receiver.received} == {failed["msg_id"]}
    Webhook(str(sub["secret"])).verify(receiver.received[-1].body, receiver.received[-1].headers)


def test_rotated_secret_signs_next_to_the_old_one_until_the_grace_period_ends(
    api: TestClient, seller: Org, receiver: Receiver, sender: Sender, clock: Clock
) -> None:
    receiver.start()
    sub = subscribe(api, seller, receiver.url, EventType.ESCROW_RELEASED)
    resp = api.post(
        f"/v1/webhooks/subscriptions/{sub['id']}/rotate-secret",
        json={"grace_seconds": 3600},
        headers=seller.writer,
    )
    assert resp.status_code == 200, resp.text
    new = resp.json()["secret"]
    assert new != sub["secret"]
    emit(api, seller, EventType.ESCROW_RELEASED, 1, tag="a")
    assert sender.deliver_due() == 1
    during = receiver.received[-1]
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    Webhook(str(sub["secret"])).verify(during.body, during.headers)
    Webhook(new).verify(during.body, during.headers)

    # The grace period is measured on the server's clock.
    with context(api).sessions() as session:
        from backend.webhooks.models import WebhookSecret

        for s in session.scalars(
            select(WebhookSecret).where(WebhookSecret.expires_at.is_not(None))
        ):
            s.expires_at = utcnow() - timedelta(seconds=1)
        session.commit()
    emit(api, seller, EventType.ESCROW_RELEASED, 1, tag="b")
    assert sender.deliver_due() == 1
    after = receiver.received[-1]
    Webhook(new).verify(after.body, after.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(str(sub["secret"])).verify(after.body, after.headers)


def test_tampered_body_or_replayed_old_timestamp_fails_independent_verification(
    api: TestClient, seller: Org, receiver: Receiver, sender: Sender
) -> None:
    receiver.start()
    sub = subscribe(api, seller, receiver.url, EventType.COMPENSATION_PAID)
    emit(api, seller, EventType.COMPENSATION_PAID, 1)
    assert sender.deliver_due() == 1
    got = receiver.received[0]
    hook = Webhook(str(sub["secret"]))
    payload = json.loads(got.body)
    payload["data"]["n"] = 999
    with pytest.raises(WebhookVerificationError):
        hook.verify(json.dumps(payload).encode(), got.headers)
    old = {**got.headers, "webhook-timestamp": str(int(got.headers["webhook-timestamp"]) - 600)}
    with pytest.raises(WebhookVerificationError):
        hook.verify(got.body, old)


def test_a_redirect_is_not_followed_and_counts_as_a_failed_attempt(
    api: TestClient, seller: Org, receiver: Receiver, sender: Sender
) -> None:
    receiver.status = 302
    receiver.start()
    sub = subscribe(api, seller, receiver.url, EventType.SHIPMENT_OVERDUE)
    emit(api, seller, EventType.SHIPMENT_OVERDUE, 1)
    assert sender.deliver_due() == 1
    [d] = deliveries(api, seller, sub["id"])
    assert d["status"] == "pending"
    assert "not followed" in str(d["last_error"])
    with context(api).sessions() as session:
        row = session.scalar(select(WebhookDelivery))
        assert row is not None
        assert row.attempts == 1
