"""Relay request status as the API shows it."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class RelayAccepted(BaseModel):
    """202 answer of a relayed write: poll ``GET /v1/relay/{relay_id}``."""

    relay_id: int
    status: str
    purpose: str
    subject: str


class RelayPublic(BaseModel):
    id: int
    purpose: str
    status: str
    tx_hash: str | None
    block_number: int | None
    attempts: int
    last_error: str | None
    created_at: datetime
    updated_at: datetime
