"""Relay requests (the transaction outbox) and every transaction hash sent for them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Address, Base, Hash32, UTCDateTime, utcnow


class RelayStatus(StrEnum):
    """Where a relay request is: queued → sent → mined → final.

    ``failed``: reverted for good; ``orphaned``: its block left the chain (reorg).
    """

    QUEUED = "queued"
    SENT = "sent"
    MINED = "mined"
    FINAL = "final"
    FAILED = "failed"
    ORPHANED = "orphaned"


RELAY_STATUSES = tuple(RelayStatus)


class RelayRequest(Base):
    __tablename__ = "relay_requests"
    __table_args__ = (
        Index("ix_relay_requests_status_id", "status", "id"),
        # A resent signed call is found by its calldata's hash, not by scanning every row.
        Index("ix_relay_requests_org_data_hash", "org_id", "data_hash"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    purpose: Mapped[str] = mapped_column(String(32))
    ref_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), nullable=True)
    to_address: Mapped[str] = mapped_column(Address)
    data: Mapped[str] = mapped_column(Text)
    data_hash: Mapped[str | None] = mapped_column(Hash32, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default=RelayStatus.QUEUED)
    nonce: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    tx_hash: Mapped[str | None] = mapped_column(Hash32, nullable=True)
    block_number: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    block_hash: Mapped[str | None] = mapped_column(Hash32, nullable=True)
    gas_used: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SentTransaction(Base):
    """One signed transaction, recorded before it is handed to the node; replacements share the nonce."""

    __tablename__ = "sent_transactions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    relay_id: Mapped[int] = mapped_column(ForeignKey("relay_requests.id"), index=True)
    nonce: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(Hash32, unique=True)
    # The gas limit it was signed with; replacements reuse it instead of estimating again.
    gas: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    max_fee_per_gas: Mapped[int] = mapped_column(BigInteger)
    max_priority_fee_per_gas: Mapped[int] = mapped_column(BigInteger)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RelayWrite(Base):
    """A relayed write of an organisation: what it is about and its typed effect.

    ``kind`` and ``effect`` are a :class:`backend.relayer.effects.Effect` (its
    kind and fields); the relay handler looks the effect up before sending again.
    """

    __tablename__ = "relay_writes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    relay_id: Mapped[int] = mapped_column(ForeignKey("relay_requests.id"), unique=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(Hash32, index=True)
    effect: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
