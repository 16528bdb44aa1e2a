"""Shipment read model (filled by the indexer) and the off-chain manifests sellers post."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Address, Base, ChainPosition, Hash32, UTCDateTime, utcnow


class Shipment(ChainPosition, Base):
    """A shipment as ``ShipmentCreated`` declared it, plus its state after every milestone."""

    __tablename__ = "shipments"

    id: Mapped[str] = mapped_column(Hash32, primary_key=True)
    seller: Mapped[str] = mapped_column(Address, index=True)
    origin: Mapped[str] = mapped_column(String(5))
    destination: Mapped[str] = mapped_column(String(5))
    declared_weight_grams: Mapped[int] = mapped_column(BigInteger)
    piece_count: Mapped[int] = mapped_column(BigInteger)
    weight_tolerance_bps: Mapped[int] = mapped_column(Integer)
    manifest_hash: Mapped[str] = mapped_column(Hash32)
    carriers: Mapped[list[str]] = mapped_column(JSON)
    warehouse: Mapped[str | None] = mapped_column(Address, nullable=True)
    customs_broker: Mapped[str | None] = mapped_column(Address, nullable=True)
    sla: Mapped[dict[str, int]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(32))
    custodian: Mapped[str | None] = mapped_column(Address, nullable=True)
    last_measured_weight_grams: Mapped[int] = mapped_column(BigInteger, default=0)
    overdue_flags: Mapped[int] = mapped_column(Integer, default=0)
    history_length: Mapped[int] = mapped_column(Integer, default=0)
    delivered_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class Milestone(ChainPosition, Base):
    """A recorded milestone with every signed field and the flags raised with it."""

    __tablename__ = "milestones"
    __table_args__ = (UniqueConstraint("tx_hash", "log_index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shipment_id: Mapped[str] = mapped_column(Hash32, index=True)
    index: Mapped[int] = mapped_column(Integer)
    kind: Mapped[int] = mapped_column(SmallInteger)
    signer: Mapped[str] = mapped_column(Address)
    counterparty: Mapped[str | None] = mapped_column(Address, nullable=True)
    status: Mapped[str] = mapped_column(String(32))
    custodian: Mapped[str | None] = mapped_column(Address, nullable=True)
    occurred_at: Mapped[int] = mapped_column(BigInteger)
    location: Mapped[str] = mapped_column(String(5))
    measured_weight_grams: Mapped[int] = mapped_column(BigInteger)
    evidence_hash: Mapped[str] = mapped_column(Hash32)
    reason_code: Mapped[int] = mapped_column(Integer)
    record_hash: Mapped[str] = mapped_column(Hash32, index=True)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    planned_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    weight_reference_grams: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    weight_measured_grams: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    corrected_by_index: Mapped[int | None] = mapped_column(Integer, nullable=True)


class MilestoneCorrection(ChainPosition, Base):
    """A signed declaration that history entry ``corrected_index`` was wrong."""

    __tablename__ = "milestone_corrections"
    __table_args__ = (UniqueConstraint("tx_hash", "log_index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shipment_id: Mapped[str] = mapped_column(Hash32, index=True)
    index: Mapped[int] = mapped_column(Integer)
    corrected_index: Mapped[int] = mapped_column(Integer)
    corrected_record_hash: Mapped[str] = mapped_column(Hash32)
    signer: Mapped[str] = mapped_column(Address)
    reason_code: Mapped[int] = mapped_column(Integer)
    evidence_hash: Mapped[str] = mapped_column(Hash32)
    record_hash: Mapped[str] = mapped_column(Hash32, index=True)


class OverdueFlag(ChainPosition, Base):
    """``MilestoneOverdue``: a milestone not reached by its planned deadline."""

    __tablename__ = "shipment_overdue_flags"
    __table_args__ = (UniqueConstraint("tx_hash", "log_index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shipment_id: Mapped[str] = mapped_column(Hash32, index=True)
    milestone: Mapped[int] = mapped_column(SmallInteger)
    planned_by: Mapped[int] = mapped_column(BigInteger)
    flagged_at: Mapped[int] = mapped_column(BigInteger)
    flagged_by: Mapped[str] = mapped_column(Address)


class ShipmentManifest(Base):
    """The off-chain manifest whose keccak the seller signed as ``manifestHash``."""

    __tablename__ = "shipment_manifests"

    shipment_id: Mapped[str] = mapped_column(Hash32, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    manifest_hash: Mapped[str] = mapped_column(Hash32)
    transport_mode: Mapped[str] = mapped_column(String(8))
    # The seller's own PO / booking number: free text, not signed, searchable.
    reference: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    sscc: Mapped[str | None] = mapped_column(String(18), nullable=True, unique=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ManifestLine(Base):
    """One manifest line, indexed by passport id for journey look-ups."""

    __tablename__ = "shipment_manifest_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shipment_id: Mapped[str] = mapped_column(
        ForeignKey("shipment_manifests.shipment_id", ondelete="CASCADE"), index=True
    )
    passport_id: Mapped[str] = mapped_column(Hash32, index=True)
    gtin: Mapped[str | None] = mapped_column(String(14), nullable=True)
    lot: Mapped[str | None] = mapped_column(String(20), nullable=True)
    serial: Mapped[str | None] = mapped_column(String(20), nullable=True)
    quantity: Mapped[int] = mapped_column(BigInteger)


class ShipmentEvidence(Base):
    """A photo a party attached to a shipment, stored under its SHA-256; or the ordered list
    of several photos' hashes a milestone signs (``media_type`` ``application/x-evidence-set``).

    The key is (shipment, hash): the same picture attached to two shipments is
    two rows, each readable by that shipment's parties only.
    """

    __tablename__ = "shipment_evidence"

    shipment_id: Mapped[str] = mapped_column(Hash32, primary_key=True)
    evidence_hash: Mapped[str] = mapped_column(Hash32, primary_key=True)
    media_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    uploaded_by: Mapped[str] = mapped_column(Address)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
