"""Credential-signing keys (sealed at rest) and status-list positions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, Hash32, UTCDateTime, utcnow


class CredentialKey(Base):
    """An organisation's ES256K credential-signing key; the private key only sealed.

    One per organisation, made on first use. ``kid`` is the JWK thumbprint
    (RFC 7638), the fragment of its verification method in the org's did:web.
    """

    __tablename__ = "credential_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), unique=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    public_x: Mapped[str] = mapped_column(String(64))  # base64url, 32 bytes
    public_y: Mapped[str] = mapped_column(String(64))
    sealed_private_key: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StatusEntry(Base):
    """A passport's bit in its issuer's status list (assigned once, never reused)."""

    __tablename__ = "credential_status_entries"
    __table_args__ = (UniqueConstraint("org_id", "position"),)

    passport_id: Mapped[str] = mapped_column(Hash32, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
