"""Subscriptions and emitted events for the webhook tests, through the API and the service."""

from __future__ import annotations

from fastapi.testclient import TestClient

from backend.webhooks import service
from backend.webhooks.models import EventType
from tests.backend.factories import Org
from tests.backend.webhooks.conftest import org_id
from tests.context import context


def subscribe(api: TestClient, org: Org, url: str, *types: EventType) -> dict[str, object]:
    resp = api.post(
        "/v1/webhooks/subscriptions",
        json={"url": url, "event_types": [str(t) for t in types]},
        headers=org.writer,
    )
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert str(body["secret"]).startswith("whsec_")
    return body  # type: ignore[no-any-return]


def emit(api: TestClient, org: Org, kind: EventType, n: int, tag: str = "") -> None:
    oid = org_id(api, org)
    with context(api).sessions() as session:
        for i in range(n):
            service.emit(
                session,
                org_ids=[oid],
                event_type=kind,
                data={"n": i},
                cause=f"test:{tag}{kind}:{i}",
            )
        session.commit()


def deliveries(api: TestClient, org: Org, sub_id: object) -> list[dict[str, object]]:
    resp = api.get(f"/v1/webhooks/subscriptions/{sub_id}/deliveries", headers=org.writer)
    assert resp.status_code == 200, resp.text
    return resp.json()["items"]  # type: ignore[no-any-return]
