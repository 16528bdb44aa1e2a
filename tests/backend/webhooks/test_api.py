"""Webhook API refusals: other organisations, bad targets, unknown types; orphaned notifications."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from backend.errors import InvalidInput
from backend.webhooks import service
from backend.webhooks.models import (
    DeliveryStatus,
    EventType,
    WebhookDelivery,
    WebhookMessage,
)
from tests.backend.conftest import api_settings
from tests.backend.factories import OPERATOR, make_org
from tests.backend.webhooks.conftest import org_id
from tests.context import context

URL = "http://127.0.0.1:9/hooks"


def _sub(api: TestClient, headers: dict[str, str], **body: object) -> dict[str, object]:
    resp = api.post(
        "/v1/webhooks/subscriptions",
        json={"url": URL, "event_types": ["shipment.overdue"], **body},
        headers=headers,
    )
    assert resp.status_code == 201, resp.text
    return resp.json()  # type: ignore[no-any-return]


def test_another_organisation_can_neither_see_nor_touch_a_subscription(api: TestClient) -> None:
    victim = make_org(api, "victim", ("seller",))
    attacker = make_org(api, "attacker", ("seller",))
    sub = _sub(api, victim.writer)
    oid = sub["id"]
    with context(api).sessions() as session:
        service.emit(
            session,
            org_ids=[org_id(api, victim)],
            event_type=EventType.SHIPMENT_OVERDUE,
            data={},
            cause="t",
        )
        session.commit()
        delivery = session.scalar(select(WebhookDelivery.id))
    calls = [
        ("GET", f"/v1/webhooks/subscriptions/{oid}", None),
        ("PATCH", f"/v1/webhooks/subscriptions/{oid}", {"url": "http://127.0.0.1:1/x"}),
        ("DELETE", f"/v1/webhooks/subscriptions/{oid}", None),
        ("POST", f"/v1/webhooks/subscriptions/{oid}/rotate-secret", {}),
        ("POST", f"/v1/webhooks/subscriptions/{oid}/test", None),
        ("GET", f"/v1/webhooks/subscriptions/{oid}/deliveries", None),
        ("POST", f"/v1/webhooks/deliveries/{delivery}/redeliver", None),
    ]
    for headers in (attacker.writer, attacker.admin):
        for method, path, body in calls:
            resp = api.request(method, path, json=body, headers=headers)
            assert resp.status_code == 404, (method, path, resp.text)
    listed = api.get("/v1/webhooks/subscriptions", headers=attacker.writer).json()
    assert listed["items"] == []
    mine = api.get(f"/v1/webhooks/subscriptions/{oid}", headers=victim.writer).json()
    assert mine["url"] == URL
    assert mine["status"] == "active"


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"url": "ftp://example.com/x"}, "scheme"),
        ({"url": "http://user:pw@example.com/x"}, "credentials"),
        ({"url": "http://[::1"}, "url"),
        ({"event_types": ["shipment.teleported"]}, "unknown event types"),
        ({"event_types": []}, "event_types"),
        ({"event_types": ["webhook.test"]}, "unknown event types"),
    ],
)
def test_bad_subscription_is_422_naming_the_field(
    api: TestClient, body: dict[str, object], needle: str
) -> None:
    org = make_org(api, "acme", ("seller",))
    resp = api.post(
        "/v1/webhooks/subscriptions",
        json={"url": URL, "event_types": ["shipment.overdue"], **body},
        headers=org.writer,
    )
    assert resp.status_code == 422, resp.text
    assert needle in resp.text


def test_operator_token_has_no_subscriptions(api: TestClient) -> None:
    resp = api.post(
        "/v1/webhooks/subscriptions",
        json={"url": URL, "event_types": ["shipment.overdue"]},
        headers=OPERATOR,
    )
    assert resp.status_code == 422
    assert "organisation" in resp.json()["detail"]


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/hooks",  # https only
        "https://127.0.0.1/hooks",
        "https://localhost/hooks",
        "https://10.1.2.3/hooks",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hooks",
        "https://[fd00::1]/hooks",
    ],
)
def test_production_refuses_plain_http_and_internal_targets(url: str) -> None:
    settings = api_settings(
        "sqlite://", environment="production", admin_token="s3cret-token-" + "x" * 32
    )
    with pytest.raises(InvalidInput):
        service.check_target(url, settings)


def test_production_accepts_a_public_https_literal() -> None:
    settings = api_settings(
        "sqlite://", environment="production", admin_token="s3cret-token-" + "x" * 32
    )
    service.check_target("https://93.184.215.14/hooks", settings)


def test_orphaned_notifications_are_forgotten_unless_someone_received_them(
    api: TestClient,
) -> None:
    org = make_org(api, "acme", ("seller",))
    _sub(api, org.writer)
    _sub(api, org.writer)
    oid = org_id(api, org)
    with context(api).sessions() as session:
        for n, block in ((1, 5), (2, 9), (3, 12)):
            service.emit(
                session,
                org_ids=[oid],
                event_type=EventType.SHIPMENT_OVERDUE,
                data={"n": n},
                cause=f"log:{n}",
                block_number=block,
            )
        session.commit()
        received = session.scalars(
            select(WebhookDelivery)
            .join(WebhookMessage, WebhookMessage.id == WebhookDelivery.message_id)
            .where(WebhookMessage.block_number == 12)
        ).all()
        received[0].status = DeliveryStatus.DELIVERED
        session.commit()

        service.forget_orphaned(session, 8)
        session.commit()
        blocks = sorted(session.scalars(select(WebhookMessage.block_number)))
        assert blocks == [5, 12]
        states = sorted(
            d.status
            for d in session.scalars(
                select(WebhookDelivery)
                .join(WebhookMessage, WebhookMessage.id == WebhookDelivery.message_id)
                .where(WebhookMessage.block_number == 12)
            )
        )
        assert states == ["cancelled", "delivered"]
