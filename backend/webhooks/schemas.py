"""Webhook API bodies and answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from backend.common.schemas import RowModel
from backend.webhooks.models import EventType

SUBSCRIBABLE = tuple(t for t in EventType if t is not EventType.WEBHOOK_TEST)


def _event_types(values: list[str]) -> list[str]:
    allowed = {t.value for t in SUBSCRIBABLE}
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise ValueError(f"unknown event types {unknown}; known: {sorted(allowed)}")
    return sorted(set(values))


class SubscriptionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=8, max_length=2048)
    event_types: list[str] = Field(min_length=1, max_length=len(SUBSCRIBABLE))
    description: str = Field(default="", max_length=200)

    _check_types = field_validator("event_types")(_event_types)


class SubscriptionUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, min_length=8, max_length=2048)
    event_types: list[str] | None = Field(default=None, min_length=1, max_length=len(SUBSCRIBABLE))
    description: str | None = Field(default=None, max_length=200)
    # true re-enables a disabled subscription (its pending deliveries resume)
    enabled: bool | None = None

    @field_validator("event_types")
    @classmethod
    def _types(cls, values: list[str] | None) -> list[str] | None:
        return None if values is None else _event_types(values)


class SecretRotate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # How long the old secret keeps signing next to the new one.
    grace_seconds: int = Field(default=86_400, ge=0, le=7 * 86_400)


class SubscriptionPublic(RowModel):
    id: int
    url: str
    event_types: list[str]
    description: str
    status: str
    disabled_reason: str | None
    disabled_at: datetime | None
    created_at: datetime


class SubscriptionIssued(SubscriptionPublic):
    """A subscription with its signing secret (shown in this answer only)."""

    secret: str


class SecretIssued(BaseModel):
    subscription_id: int
    secret: str
    previous_expires_at: datetime | None


class SubscriptionsPublic(BaseModel):
    items: list[SubscriptionPublic]
    next_cursor: int | None


class AttemptPublic(RowModel):
    attempted_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int
    response_excerpt: str


class DeliveryPublic(BaseModel):
    id: int
    subscription_id: int
    msg_id: str
    event_type: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime
    payload: dict[str, Any]
    log: list[AttemptPublic]


class DeliveriesPublic(BaseModel):
    items: list[DeliveryPublic]
    next_cursor: int | None


class EventTypesPublic(BaseModel):
    event_types: list[str]


class Queued(BaseModel):
    delivery_id: int
    status: str
    next_attempt_at: datetime | None
