"""Webhook subscriptions, secret rotation, the delivery log and manual redelivery."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from backend.deps import PageDep, SessionDep, SettingsDep
from backend.orgs.auth import PrincipalDep
from backend.webhooks import service
from backend.webhooks.models import DeliveryStatus
from backend.webhooks.schemas import (
    SUBSCRIBABLE,
    DeliveriesPublic,
    EventTypesPublic,
    Queued,
    SecretIssued,
    SecretRotate,
    SubscriptionCreate,
    SubscriptionIssued,
    SubscriptionPublic,
    SubscriptionsPublic,
    SubscriptionUpdate,
)

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])

RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/event-types", response_model=EventTypesPublic)
def event_types() -> EventTypesPublic:
    """Every event type a subscription may ask for."""
    return EventTypesPublic(event_types=[t.value for t in SUBSCRIBABLE])


@router.post(
    "/subscriptions", response_model=SubscriptionIssued, status_code=status.HTTP_201_CREATED
)
def create_subscription(
    body: SubscriptionCreate, principal: PrincipalDep, session: SessionDep, settings: SettingsDep
) -> SubscriptionIssued:
    """Subscribe an endpoint to event types; the ``whsec_`` secret is in this answer only."""
    return service.create(session=session, settings=settings, principal=principal, data=body)


@router.get("/subscriptions", response_model=SubscriptionsPublic)
def list_subscriptions(
    principal: PrincipalDep, session: SessionDep, page: PageDep
) -> SubscriptionsPublic:
    items, nxt = service.list_subscriptions(
        session=session, principal=principal, after=page.after, limit=page.limit
    )
    return SubscriptionsPublic(items=items, next_cursor=nxt)


@router.get("/subscriptions/{sub_id}", response_model=SubscriptionPublic)
def get_subscription(
    sub_id: RowId, principal: PrincipalDep, session: SessionDep
) -> SubscriptionPublic:
    """One subscription; a disabled one names why."""
    return service.get(session=session, principal=principal, sub_id=sub_id)


@router.patch("/subscriptions/{sub_id}", response_model=SubscriptionPublic)
def update_subscription(
    sub_id: RowId,
    body: SubscriptionUpdate,
    principal: PrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
) -> SubscriptionPublic:
    """Change URL, event types or description; ``{"enabled": true}`` re-enables."""
    return service.update(
        session=session, settings=settings, principal=principal, sub_id=sub_id, data=body
    )


@router.delete("/subscriptions/{sub_id}", response_model=SubscriptionPublic)
def delete_subscription(
    sub_id: RowId, principal: PrincipalDep, session: SessionDep
) -> SubscriptionPublic:
    return service.remove(session=session, principal=principal, sub_id=sub_id)


@router.post("/subscriptions/{sub_id}/rotate-secret", response_model=SecretIssued)
def rotate_secret(
    sub_id: RowId,
    body: SecretRotate,
    principal: PrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
) -> SecretIssued:
    """A new secret; the old one keeps signing alongside it for ``grace_seconds``."""
    return service.rotate_secret(
        session=session, settings=settings, principal=principal, sub_id=sub_id, data=body
    )


@router.post(
    "/subscriptions/{sub_id}/test", response_model=Queued, status_code=status.HTTP_202_ACCEPTED
)
def send_test(sub_id: RowId, principal: PrincipalDep, session: SessionDep) -> Queued:
    """Queue a ``webhook.test`` message to this subscription."""
    return service.send_test(session=session, principal=principal, sub_id=sub_id)


@router.get("/subscriptions/{sub_id}/deliveries", response_model=DeliveriesPublic)
def list_deliveries(
    sub_id: RowId,
    principal: PrincipalDep,
    session: SessionDep,
    page: PageDep,
    status_: Annotated[DeliveryStatus | None, Query(alias="status")] = None,
) -> DeliveriesPublic:
    """The delivery log: each message with its attempts (status, error, duration)."""
    items, nxt = service.list_deliveries(
        session=session,
        principal=principal,
        sub_id=sub_id,
        status=status_,
        after=page.after,
        limit=page.limit,
    )
    return DeliveriesPublic(items=items, next_cursor=nxt)


@router.post(
    "/deliveries/{delivery_id}/redeliver",
    response_model=Queued,
    status_code=status.HTTP_202_ACCEPTED,
)
def redeliver(delivery_id: RowId, principal: PrincipalDep, session: SessionDep) -> Queued:
    """Send a delivery again now, with the same ``webhook-id`` and a fresh retry schedule."""
    return service.redeliver(session=session, principal=principal, delivery_id=delivery_id)
