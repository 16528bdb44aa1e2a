"""Webhook tables: subscriptions and their secrets, the outbox of messages, deliveries, attempts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, UTCDateTime, utcnow


class EventType(StrEnum):
    """What a subscription can ask to be told about."""

    SHIPMENT_COLOUR_CHANGED = "shipment.colour_changed"
    SHIPMENT_MILESTONE_LATE = "shipment.milestone_late"
    SHIPMENT_OVERDUE = "shipment.overdue"
    SHIPMENT_WEIGHT_DISCREPANCY = "shipment.weight_discrepancy"
    SHIPMENT_CUSTOMS_HOLD = "shipment.customs_hold"
    SHIPMENT_CUSTOMS_RELEASED = "shipment.customs_released"
    SHIPMENT_CUSTODY_CHANGED = "shipment.custody_changed"
    PASSPORT_RECALLED = "passport.recalled"
    ATTESTATION_REVOKED = "attestation.revoked"
    ESCROW_RELEASED = "escrow.released"
    COMPENSATION_PAID = "compensation.paid"
    # Sent only by ``POST …/test``; every subscription receives it.
    WEBHOOK_TEST = "webhook.test"


class SubscriptionStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # due at next_attempt_at
    DELIVERED = "delivered"  # a 2xx answer
    FAILED = "failed"  # the retry schedule ran out
    CANCELLED = "cancelled"  # its chain event was orphaned by a reorg before delivery


class WebhookSubscription(Base):
    """An organisation's endpoint and the event types it wants."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    event_types: Mapped[list[str]] = mapped_column(JSON)
    description: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default=SubscriptionStatus.ACTIVE)
    disabled_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookSecret(Base):
    """A signing secret; a rotated-out one signs alongside the new one until ``expires_at``."""

    __tablename__ = "webhook_secrets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"), index=True
    )
    # Sealed (backend.webhooks.sealing); never the secret in clear.
    secret: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class WebhookMessage(Base):
    """One notification for one organisation, written in the transaction that caused it.

    ``dedupe_key`` names the cause (a chain log, a colour transition), so replaying
    the cause never writes a second message.
    """

    __tablename__ = "webhook_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    msg_id: Mapped[str] = mapped_column(String(40), unique=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    event_type: Mapped[str] = mapped_column(String(64))
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    block_number: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookDelivery(Base):
    """A message on its way to one subscription; retried on one schedule until delivered."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("message_id", "subscription_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_messages.id", ondelete="CASCADE"), index=True
    )
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookAttempt(Base):
    """The delivery log: every HTTP attempt and how it ended."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    response_excerpt: Mapped[str] = mapped_column(String(500), default="")


class ShipmentColour(Base):
    """The last colour notified per shipment (``shipment.colour_changed`` compares with it)."""

    __tablename__ = "webhook_shipment_colours"

    shipment_id: Mapped[str] = mapped_column(String(66), primary_key=True)
    colour: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[list[str]] = mapped_column(JSON)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
