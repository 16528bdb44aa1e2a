"""Passport read model (filled by the indexer) and the documents issuers post."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Address, Base, ChainPosition, Hash32, UTCDateTime, utcnow


class Passport(ChainPosition, Base):
    """A passport head: issuer, latest version and status (active / recalled / revoked)."""

    __tablename__ = "passports"

    id: Mapped[str] = mapped_column(Hash32, primary_key=True)
    issuer: Mapped[str] = mapped_column(Address, index=True)
    gtin: Mapped[str | None] = mapped_column(String(14), nullable=True, index=True)
    lot: Mapped[str | None] = mapped_column(String(20), nullable=True)
    serial: Mapped[str | None] = mapped_column(String(20), nullable=True)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    reason_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class PassportVersion(ChainPosition, Base):
    """One immutable passport version (``PassportIssued`` is version 1)."""

    __tablename__ = "passport_versions"
    __table_args__ = (UniqueConstraint("passport_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    passport_id: Mapped[str] = mapped_column(Hash32, index=True)
    version: Mapped[int] = mapped_column(Integer)
    document_hash: Mapped[str] = mapped_column(Hash32, index=True)
    uri: Mapped[str] = mapped_column(Text)
    origin_country: Mapped[str] = mapped_column(String(2))
    recycled_content_bps: Mapped[int] = mapped_column(Integer)
    carbon_grams_co2e: Mapped[int] = mapped_column(BigInteger)
    water_litres: Mapped[int] = mapped_column(BigInteger)


class PassportStatusChange(ChainPosition, Base):
    """A recall or revocation; the head's status is the latest of these."""

    __tablename__ = "passport_status_changes"
    __table_args__ = (UniqueConstraint("tx_hash", "log_index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    passport_id: Mapped[str] = mapped_column(Hash32, index=True)
    status: Mapped[str] = mapped_column(String(16))
    by: Mapped[str] = mapped_column(Address)
    reason_code: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)


class Attestation(ChainPosition, Base):
    """A certifier's claim about one passport version."""

    __tablename__ = "passport_attestations"

    id: Mapped[str] = mapped_column(Hash32, primary_key=True)
    passport_id: Mapped[str] = mapped_column(Hash32, index=True)
    certifier: Mapped[str] = mapped_column(Address, index=True)
    version: Mapped[int] = mapped_column(Integer)
    document_hash: Mapped[str] = mapped_column(Hash32)
    claim: Mapped[str] = mapped_column(Hash32)
    valid_until: Mapped[int] = mapped_column(BigInteger)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    revoked_reason_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    revoked_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    revoked_block: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    revoked_tx_hash: Mapped[str | None] = mapped_column(Hash32, nullable=True)


class PassportDocumentRecord(Base):
    """A posted passport document, keyed by its canonical hash (what the chain stores)."""

    __tablename__ = "passport_documents"

    document_hash: Mapped[str] = mapped_column(Hash32, primary_key=True)
    passport_id: Mapped[str] = mapped_column(Hash32, index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
