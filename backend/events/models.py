"""Accepted supply events, captured EPCIS events, and the outbox that feeds the anchoring worker."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    case,
    column,
    func,
    literal,
    select,
    table,
)
from sqlalchemy.orm import Mapped, column_property, mapped_column

from backend.db.base import Address, Base, Hash32, SignatureHex, UTCDateTime, utcnow

# pending → batched → anchored → final; a reorg sends anchored events back to pending.
EVENT_STATUSES = ("pending", "batched", "anchored", "final")

# The anchoring package's tables by name: it sits above this one.
_PROOFS = table(
    "event_proofs",
    column("event_id", Integer),
    column("epcis_event_id", Integer),
    column("batch_id", Integer),
)
_BATCHES = table("anchor_batches", column("id", Integer), column("status", String))
# The batch statuses its events share; the events of any other batch read ``batched``.
SHARED_BATCH_STATUSES = ("anchored", "final")


def anchoring_status(proof_of: ColumnElement[int | None], event: Mapped[int]) -> ColumnElement[str]:
    """An event's status, read off the batch it is in rather than stored on its row.

    An event is in the batch whose proof row names it (``event_proofs``, one row an
    event). No such row: ``pending``. Its batch ``anchored`` or ``final``: the same. Any
    other batch (built, or failed and parked for an operator): ``batched``. A batch
    orphaned by a reorg deletes its proofs, so its events read ``pending`` again.

    So an event row is written once, when it is received: building a batch, its anchor
    landing and turning final write the proofs and one batch row, never the events.
    """
    status = _BATCHES.c.status
    batch = (
        select(case((status.in_(SHARED_BATCH_STATUSES), status), else_=literal("batched")))
        .select_from(_PROOFS.join(_BATCHES, _BATCHES.c.id == _PROOFS.c.batch_id))
        .where(proof_of == event)
        .correlate_except(_PROOFS, _BATCHES)  # always to the event's row, never a lone scalar
        .scalar_subquery()
    )
    return func.coalesce(batch, literal("pending"))


def event_status(batch_status: str | None) -> str:
    """:func:`anchoring_status` of an event whose batch's status is already read (``None``:
    it is in no batch)."""
    if batch_status is None:
        return "pending"
    return batch_status if batch_status in SHARED_BATCH_STATUSES else "batched"


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
    signature: Mapped[str] = mapped_column(SignatureHex)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = column_property(anchoring_status(_PROOFS.c.event_id, id))


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


class EpcisCapture(Base):
    """One EPCIS 2.0 capture job: a document POSTed to ``/epcis/capture`` and its outcome.

    ``errors`` is a JSON list of ``{"eventIndex", "path", "message"}`` (per-event or
    document problems); ``success`` is null while running.
    """

    __tablename__ = "epcis_captures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    capture_id: Mapped[str] = mapped_column(String(36), unique=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    error_behaviour: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    running: Mapped[bool] = mapped_column(Boolean, default=True)
    success: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    event_count: Mapped[int] = mapped_column(Integer, default=0)
    captured_count: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[str] = mapped_column(Text, default="[]")


class EpcisEvent(Base):
    """A captured EPCIS 2.0 event, keyed by its CBV 2.0 event hash id.

    ``digest`` is the SHA-256 of the CBV pre-hash string as 0x-hex: it is the Merkle
    leaf input when the event is anchored (``ni:///sha-256;<digest>?ver=CBV2.0``).
    The event is stored as captured (``document``), with the columns the standard
    queries filter on.
    """

    __tablename__ = "epcis_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    capture_id: Mapped[int] = mapped_column(ForeignKey("epcis_captures.id"), index=True)
    digest: Mapped[str] = mapped_column(Hash32, unique=True)
    hash_id: Mapped[str] = mapped_column(String(100), unique=True)
    client_event_id: Mapped[str | None] = mapped_column(String(512), nullable=True, index=True)
    event_type: Mapped[str] = mapped_column(String(32), index=True)
    event_time: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    record_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    biz_step: Mapped[str | None] = mapped_column(String(512), nullable=True, index=True)
    disposition: Mapped[str | None] = mapped_column(String(512), nullable=True, index=True)
    read_point: Mapped[str | None] = mapped_column(String(512), nullable=True, index=True)
    biz_location: Mapped[str | None] = mapped_column(String(512), nullable=True, index=True)
    document: Mapped[str] = mapped_column(Text)
    # EIP-712 signature of the hash id by a signer key of the organisation, if given.
    signer: Mapped[str | None] = mapped_column(Address, nullable=True)
    signature: Mapped[str | None] = mapped_column(SignatureHex, nullable=True)
    status: Mapped[str] = column_property(anchoring_status(_PROOFS.c.epcis_event_id, id))


class EpcisEventObject(Base):
    """One identifier an EPCIS event names, canonicalised, for MATCH_epc / MATCH_anyEPC.

    ``role``: ``epc`` (epcList, childEPCs), ``parent``, ``input``, ``output``, ``class``
    (an epcClass of a quantity list).
    """

    __tablename__ = "epcis_event_objects"
    __table_args__ = (Index("ix_epcis_event_objects_uri_role", "uri", "role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("epcis_events.id"), index=True)
    uri: Mapped[str] = mapped_column(String(512))
    role: Mapped[str] = mapped_column(String(8))
