"""Subscriptions, the outbox, and what the API shows of deliveries.

``emit`` writes a message and one delivery per matching active subscription in
the caller's transaction, so a notification exists exactly when the change that
caused it is committed. The delivery worker (:mod:`backend.webhooks.delivery`)
sends them.
"""

from __future__ import annotations

import ipaddress
import secrets
import socket
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from backend.config import Settings
from backend.db.base import utcnow
from backend.errors import InvalidInput, NotFound
from backend.orgs.schemas import Scope
from backend.orgs.service import Principal
from backend.webhooks import signing
from backend.webhooks.models import (
    DeliveryStatus,
    EventType,
    SubscriptionStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookMessage,
    WebhookSecret,
    WebhookSubscription,
)
from backend.webhooks.schemas import (
    AttemptPublic,
    DeliveryPublic,
    Queued,
    SecretIssued,
    SecretRotate,
    SubscriptionCreate,
    SubscriptionIssued,
    SubscriptionPublic,
    SubscriptionUpdate,
)
from backend.webhooks.sealing import SecretBox

MANAGE_SCOPES = frozenset({Scope.SELLER, Scope.CARRIER, Scope.SUPPLIER, Scope.CERTIFIER})


class TargetRefused(InvalidInput):
    """The webhook URL is not one the service will call."""


# -- targets ----------------------------------------------------------------------------


def private_targets_allowed(settings: Settings) -> bool:
    """Loopback and private addresses are refused in production unless explicitly allowed."""
    if settings.webhook_allow_private_targets is not None:
        return settings.webhook_allow_private_targets
    return settings.environment != "production"


Resolver = Callable[[str, int], list[str]]


def resolve_host(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (the system resolver)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        raise TargetRefused(f"url: host {host!r} does not resolve") from None
    return [str(info[4][0]) for info in infos]


def check_target(
    url: str, settings: Settings, *, resolver: Resolver | None = resolve_host
) -> str | None:
    """Refuse URLs the service must not call (wrong scheme, credentials, internal hosts).

    Returns the address to connect to: for a host name, the one vetted address it
    was resolved to here, so the connection cannot be sent elsewhere by a second
    lookup answering differently (DNS rebinding); ``None`` for an address literal,
    or when ``resolver`` is ``None`` (checking syntax only).
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TargetRefused(f"url: {exc}") from None
    allowed = ("https",) if settings.environment == "production" else ("https", "http")
    if parts.scheme not in allowed:
        raise TargetRefused(f"url: scheme must be one of {', '.join(allowed)}")
    if not parts.hostname:
        raise TargetRefused("url: no host")
    if parts.username or parts.password:
        raise TargetRefused("url: credentials in the URL are not accepted")
    private_ok = private_targets_allowed(settings)
    try:
        literal = ipaddress.ip_address(parts.hostname)
    except ValueError:
        literal = None
    if literal is not None:
        if not (private_ok or literal.is_global):
            raise TargetRefused(f"url: {parts.hostname} is a non-public address ({literal})")
        return None
    if not private_ok and (
        parts.hostname.lower() == "localhost" or parts.hostname.endswith(".localhost")
    ):
        raise TargetRefused("url: loopback hosts are not accepted")
    if resolver is None:
        return None
    default_port = 443 if parts.scheme == "https" else 80
    addresses = resolver(parts.hostname, port or default_port)
    if not addresses:
        raise TargetRefused(f"url: host {parts.hostname!r} does not resolve")
    for address in addresses:
        ip = ipaddress.ip_address(address)
        if not (private_ok or ip.is_global):
            raise TargetRefused(f"url: {parts.hostname} is a non-public address ({ip})")
    return addresses[0]


# -- subscriptions ------------------------------------------------------------------------


def _org(principal: Principal) -> int:
    if principal.org_id is None:
        raise InvalidInput("webhook subscriptions belong to an organisation; use its API key")
    principal.require_any(MANAGE_SCOPES)
    return principal.org_id


def _public(sub: WebhookSubscription) -> SubscriptionPublic:
    return SubscriptionPublic.model_validate(sub)


def _own(session: Session, principal: Principal, sub_id: int) -> WebhookSubscription:
    org_id = _org(principal)
    sub = session.get(WebhookSubscription, sub_id)
    if sub is None or sub.org_id != org_id:
        raise NotFound(f"webhook subscription {sub_id} not found")
    return sub


def create(
    *, session: Session, settings: Settings, principal: Principal, data: SubscriptionCreate
) -> SubscriptionIssued:
    """A new subscription with a fresh ``whsec_`` secret (shown once)."""
    org_id = _org(principal)
    check_target(data.url, settings)
    sub = WebhookSubscription(
        org_id=org_id,
        url=data.url,
        event_types=data.event_types,
        description=data.description,
        status=SubscriptionStatus.ACTIVE,
    )
    session.add(sub)
    session.flush()
    secret = signing.new_secret()
    _store_secret(session, settings, sub.id, secret)
    session.commit()
    return SubscriptionIssued(**_public(sub).model_dump(), secret=secret)


def list_subscriptions(
    *, session: Session, principal: Principal, after: int, limit: int
) -> tuple[list[SubscriptionPublic], int | None]:
    org_id = _org(principal)
    rows = session.scalars(
        select(WebhookSubscription)
        .where(WebhookSubscription.org_id == org_id, WebhookSubscription.id > after)
        .order_by(WebhookSubscription.id)
        .limit(limit + 1)
    ).all()
    items = [_public(s) for s in rows[:limit]]
    return items, (rows[limit - 1].id if len(rows) > limit else None)


def get(*, session: Session, principal: Principal, sub_id: int) -> SubscriptionPublic:
    return _public(_own(session, principal, sub_id))


def update(
    *,
    session: Session,
    settings: Settings,
    principal: Principal,
    sub_id: int,
    data: SubscriptionUpdate,
) -> SubscriptionPublic:
    """Change URL, event types or description; ``enabled: true`` re-enables."""
    sub = _own(session, principal, sub_id)
    if data.url is not None:
        check_target(data.url, settings)
        sub.url = data.url
    if data.event_types is not None:
        sub.event_types = data.event_types
    if data.description is not None:
        sub.description = data.description
    if data.enabled is True and sub.status == SubscriptionStatus.DISABLED:
        sub.status = SubscriptionStatus.ACTIVE
        sub.disabled_reason = None
        sub.disabled_at = None
        now = utcnow()
        # What was waiting when it was disabled goes out again now.
        for d in session.scalars(
            select(WebhookDelivery).where(
                WebhookDelivery.subscription_id == sub.id,
                WebhookDelivery.status == DeliveryStatus.PENDING,
            )
        ):
            d.next_attempt_at = now
    elif data.enabled is False and sub.status == SubscriptionStatus.ACTIVE:
        disable(sub, reason="disabled by the organisation")
    session.commit()
    return _public(sub)


def remove(*, session: Session, principal: Principal, sub_id: int) -> SubscriptionPublic:
    """Delete a subscription with its secrets and delivery log."""
    sub = _own(session, principal, sub_id)
    out = _public(sub)
    deliveries = select(WebhookDelivery.id).where(WebhookDelivery.subscription_id == sub.id)
    session.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(deliveries)))
    session.execute(delete(WebhookDelivery).where(WebhookDelivery.subscription_id == sub.id))
    session.execute(delete(WebhookSecret).where(WebhookSecret.subscription_id == sub.id))
    session.delete(sub)
    session.commit()
    return out


def _store_secret(session: Session, settings: Settings, sub_id: int, secret: str) -> None:
    sealed = SecretBox.from_settings(settings).seal(secret, subscription_id=sub_id)
    session.add(WebhookSecret(subscription_id=sub_id, secret=sealed))


def rotate_secret(
    *,
    session: Session,
    settings: Settings,
    principal: Principal,
    sub_id: int,
    data: SecretRotate,
) -> SecretIssued:
    """A new secret; the current ones keep signing for ``grace_seconds`` more."""
    sub = _own(session, principal, sub_id)
    now = utcnow()
    until = now + timedelta(seconds=data.grace_seconds)
    for old in _live_rows(session, sub.id, now=now):
        if old.expires_at is None or old.expires_at > until:
            old.expires_at = until
    secret = signing.new_secret()
    _store_secret(session, settings, sub.id, secret)
    session.commit()
    return SecretIssued(
        subscription_id=sub.id,
        secret=secret,
        previous_expires_at=until if data.grace_seconds else now,
    )


def _live_rows(session: Session, sub_id: int, *, now: datetime) -> list[WebhookSecret]:
    return list(
        session.scalars(
            select(WebhookSecret)
            .where(
                WebhookSecret.subscription_id == sub_id,
                or_(WebhookSecret.expires_at.is_(None), WebhookSecret.expires_at > now),
            )
            .order_by(WebhookSecret.id.desc())
        )
    )


def live_secrets(session: Session, sub_id: int, *, now: datetime, box: SecretBox) -> list[str]:
    """Secrets that sign now, newest first, opened; raises :class:`SecretUnavailable`."""
    rows = _live_rows(session, sub_id, now=now)
    return [box.open(row.secret, subscription_id=sub_id) for row in rows]


def disable(sub: WebhookSubscription, *, reason: str) -> None:
    sub.status = SubscriptionStatus.DISABLED
    sub.disabled_reason = reason
    sub.disabled_at = utcnow()


# -- the outbox ---------------------------------------------------------------------------


def new_msg_id() -> str:
    return "msg_" + secrets.token_urlsafe(18)


def emit(
    session: Session,
    *,
    org_ids: Iterable[int],
    event_type: EventType,
    data: dict[str, Any],
    cause: str,
    block_number: int | None = None,
) -> int:
    """Queue ``event_type`` for each organisation's matching subscriptions; messages written.

    ``cause`` identifies what happened (a chain log, a colour transition); the
    same cause never yields a second message for one organisation.
    """
    written = 0
    for org_id in sorted(set(org_ids)):
        subs = [
            s
            for s in session.scalars(
                select(WebhookSubscription).where(
                    WebhookSubscription.org_id == org_id,
                    WebhookSubscription.status == SubscriptionStatus.ACTIVE,
                )
            )
            if event_type in s.event_types or event_type is EventType.WEBHOOK_TEST
        ]
        if not subs:
            continue
        key = f"{cause}:{event_type}:{org_id}"
        if session.scalar(select(WebhookMessage.id).where(WebhookMessage.dedupe_key == key)):
            continue
        now = utcnow()
        msg = WebhookMessage(
            msg_id=new_msg_id(),
            org_id=org_id,
            event_type=event_type,
            dedupe_key=key,
            payload={
                "type": str(event_type),
                "timestamp": now.isoformat().replace("+00:00", "Z"),
                "data": data,
            },
            block_number=block_number,
        )
        session.add(msg)
        session.flush()
        for sub in subs:
            session.add(
                WebhookDelivery(
                    message_id=msg.id,
                    subscription_id=sub.id,
                    status=DeliveryStatus.PENDING,
                    next_attempt_at=now,
                )
            )
        session.flush()
        written += 1
    return written


def forget_orphaned(session: Session, fork: int) -> None:
    """A reorg removed blocks ≥ ``fork``: drop what of their notifications was never sent.

    A message delivered to some subscription already stays (receivers have it),
    its other pending deliveries are cancelled; a message nobody received is
    deleted, so the event re-indexed from its new block notifies afresh.
    """
    for msg in session.scalars(
        select(WebhookMessage).where(WebhookMessage.block_number >= fork)
    ).all():
        deliveries = session.scalars(
            select(WebhookDelivery).where(WebhookDelivery.message_id == msg.id)
        ).all()
        if any(d.status == DeliveryStatus.DELIVERED for d in deliveries):
            for d in deliveries:
                if d.status == DeliveryStatus.PENDING:
                    d.status = DeliveryStatus.CANCELLED
                    d.next_attempt_at = None
            continue
        ids = [d.id for d in deliveries]
        if ids:
            session.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(ids)))
            session.execute(delete(WebhookDelivery).where(WebhookDelivery.id.in_(ids)))
        session.delete(msg)
    session.flush()


def send_test(*, session: Session, principal: Principal, sub_id: int) -> Queued:
    """Queue a ``webhook.test`` message to one subscription."""
    sub = _own(session, principal, sub_id)
    now = utcnow()
    msg = WebhookMessage(
        msg_id=new_msg_id(),
        org_id=sub.org_id,
        event_type=EventType.WEBHOOK_TEST,
        dedupe_key=f"test:{secrets.token_hex(16)}",
        payload={
            "type": str(EventType.WEBHOOK_TEST),
            "timestamp": now.isoformat().replace("+00:00", "Z"),
            "data": {"subscription_id": sub.id},
        },
    )
    session.add(msg)
    session.flush()
    d = WebhookDelivery(
        message_id=msg.id,
        subscription_id=sub.id,
        status=DeliveryStatus.PENDING,
        next_attempt_at=now,
    )
    session.add(d)
    session.commit()
    return Queued(delivery_id=d.id, status=d.status, next_attempt_at=d.next_attempt_at)


# -- the delivery log ---------------------------------------------------------------------


def _delivery_public(
    d: WebhookDelivery, msg: WebhookMessage, log: list[WebhookAttempt]
) -> DeliveryPublic:
    return DeliveryPublic(
        id=d.id,
        subscription_id=d.subscription_id,
        msg_id=msg.msg_id,
        event_type=msg.event_type,
        status=d.status,
        attempts=d.attempts,
        next_attempt_at=d.next_attempt_at,
        last_status_code=d.last_status_code,
        last_error=d.last_error,
        delivered_at=d.delivered_at,
        created_at=d.created_at,
        payload=msg.payload,
        log=[AttemptPublic.model_validate(a) for a in log],
    )


def list_deliveries(
    *,
    session: Session,
    principal: Principal,
    sub_id: int,
    status: DeliveryStatus | None,
    after: int,
    limit: int,
) -> tuple[list[DeliveryPublic], int | None]:
    """A subscription's deliveries, oldest first, each with its attempts."""
    sub = _own(session, principal, sub_id)
    query = (
        select(WebhookDelivery, WebhookMessage)
        .join(WebhookMessage, WebhookMessage.id == WebhookDelivery.message_id)
        .where(WebhookDelivery.subscription_id == sub.id, WebhookDelivery.id > after)
    )
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    rows = session.execute(query.order_by(WebhookDelivery.id).limit(limit + 1)).all()
    page = rows[:limit]
    ids = [d.id for d, _ in page]
    attempts: dict[int, list[WebhookAttempt]] = {i: [] for i in ids}
    if ids:
        for a in session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id.in_(ids))
            .order_by(WebhookAttempt.id)
        ):
            attempts[a.delivery_id].append(a)
    items = [_delivery_public(d, m, attempts[d.id]) for d, m in page]
    return items, (page[-1][0].id if len(rows) > limit else None)


def redeliver(*, session: Session, principal: Principal, delivery_id: int) -> Queued:
    """Send a delivery again now (same ``webhook-id``), whatever its state; a fresh schedule."""
    org_id = _org(principal)
    d = session.get(WebhookDelivery, delivery_id)
    sub = session.get(WebhookSubscription, d.subscription_id) if d is not None else None
    if d is None or sub is None or sub.org_id != org_id:
        raise NotFound(f"webhook delivery {delivery_id} not found")
    d.status = DeliveryStatus.PENDING
    d.attempts = 0
    d.next_attempt_at = datetime.now(UTC)
    d.claimed_by = None
    d.lease_until = None
    session.commit()
    return Queued(delivery_id=d.id, status=d.status, next_attempt_at=d.next_attempt_at)
