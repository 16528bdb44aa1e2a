"""Relay request status as the API shows it."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from backend.common.schemas import RowModel
from backend.relayer.models import RelayStatus


class RelayAccepted(BaseModel):
    """202 answer of a relayed write: poll ``GET /v1/relay/{relay_id}``."""

    relay_id: int
    status: RelayStatus
    purpose: str
    subject: str


class RelayPublic(RowModel):
    id: int
    purpose: str
    status: RelayStatus
    tx_hash: str | None
    block_number: int | None
    attempts: int
    last_error: str | None
    indexed: bool = Field(
        default=False,
        description="Mined, and the indexer has read its block: the API's reads "
        "(shipments, passports, pages) show this write. Wait for this, not for "
        "`mined`, before reading what the write changed.",
    )
    created_at: datetime
    updated_at: datetime
