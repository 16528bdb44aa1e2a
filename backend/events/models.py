"""Accepted supply events and the outbox that feeds the anchoring worker."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Address, Base, Hash32, UTCDateTime, utcnow

# pending → batched → anchored → final; a reorg sends anchored events back to pending.
EVENT_STATUSES = ("pending", "batched", "anchored", "final")


class SupplyEvent(Base):
    __tablename__ = "supply_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    digest: Mapped[str] = mapped_column(Hash32, unique=True)
    event_id: Mapped[str] = mapped_column(Hash32, unique=True)
    subject: Mapped[str] = mapped_column(Hash32, index=True)
    kind: Mapped[int] = mapped_column(SmallInteger)
    occurred_at: Mapped[int] = mapped_column(BigInteger)
    location: Mapped[str] = mapped_column(String(8))
    payload_hash: Mapped[str] = mapped_column(Hash32)
    signer: Mapped[str] = mapped_column(Address)
    # The signer key that was active when the event was received.
    signer_key_id: Mapped[int | None] = mapped_column(
        ForeignKey("signer_keys.id"), nullable=True, index=True
    )
    signature: Mapped[str] = mapped_column(String(132))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("anchor_batches.id"), nullable=True, index=True
    )


class Outbox(Base):
    """Work written in the same transaction as the state that needs it.

    ``topic`` names the consumer (``anchor``: an event waiting for a batch).
    Consumers claim rows with ``FOR UPDATE SKIP LOCKED`` (PostgreSQL) or an
    atomic lease ``UPDATE`` (SQLite) and delete them when the work is recorded.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_topic_id", "topic", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    topic: Mapped[str] = mapped_column(String(32))
    ref_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
