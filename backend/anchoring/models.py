"""Anchor batches (a Merkle root over event digests), per-event proofs, indexed anchors."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Address, Base, ChainEvent, Hash32, UTCDateTime, utcnow

# built → anchored → final; orphaned when a reorg dropped its anchor (its events
# are re-queued); failed when the anchor call reverted for good (operator action).
BATCH_STATUSES = ("built", "anchored", "final", "orphaned", "failed")


class AnchorBatch(Base):
    __tablename__ = "anchor_batches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    root: Mapped[str] = mapped_column(Hash32, index=True)
    leaf_count: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="built", index=True)
    relay_id: Mapped[int | None] = mapped_column(ForeignKey("relay_requests.id"), nullable=True)
    tx_hash: Mapped[str | None] = mapped_column(Hash32, nullable=True)
    block_number: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    block_hash: Mapped[str | None] = mapped_column(Hash32, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    anchored_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    final_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class EventProof(Base):
    """The Merkle proof of one event in one batch (JSON list of 0x-hex siblings).

    ``verified_block`` is set when the indexer records the ``Anchored`` event of the
    batch's root and the proof leads from the leaf to that root: ``GET /v1/proofs``
    reads it instead of calling the chain per request.

    The event is a signed supply event (``event_id``) or a captured EPCIS event
    (``epcis_event_id``); exactly one of the two is set.
    """

    __tablename__ = "event_proofs"
    # One proof an event: the batch of its proof is the batch it is in (an orphaned
    # batch's proofs are deleted when its events go back to pending).
    __table_args__ = (UniqueConstraint("event_id"), UniqueConstraint("epcis_event_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("supply_events.id"), nullable=True)
    epcis_event_id: Mapped[int | None] = mapped_column(ForeignKey("epcis_events.id"), nullable=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("anchor_batches.id"), index=True)
    leaf: Mapped[str] = mapped_column(Hash32)
    proof: Mapped[str] = mapped_column(Text)
    # Block of the indexed ``Anchored`` event whose root this proof was verified
    # against (once, when the indexer saw it); cleared by a reorg from that block.
    verified_block: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)


class ChainAnchor(ChainEvent, Base):
    """An ``Anchored`` event of the configured anchorer as the chain reports it.

    ``leaf_count`` is the leaf count of this database's batch with that root (the event
    carries none; ``AnchorRegistry.anchorOf`` has it), 0 for a root the anchorer
    anchored outside the anchoring worker."""

    __tablename__ = "chain_anchors"
    __table_args__ = (UniqueConstraint("tx_hash", "log_index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    root: Mapped[str] = mapped_column(Hash32, index=True)
    anchorer: Mapped[str] = mapped_column(Address)
    leaf_count: Mapped[int] = mapped_column(BigInteger)
