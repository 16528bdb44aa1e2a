"""Credential-signing keys (sealed at rest) and status-list positions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Address, Base, Hash32, SignatureHex, UTCDateTime, utcnow


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
    """A credential subject's bit in its issuer's status list (assigned once, never reused).

    ``passport_id`` holds a passport id, or an attestation id for a certifier's
    conformity credential (both bytes32, never equal in practice).
    """

    __tablename__ = "credential_status_entries"
    __table_args__ = (UniqueConstraint("org_id", "position"),)

    passport_id: Mapped[str] = mapped_column(Hash32, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AccessGrant(Base):
    """A brand lets another organisation read its passports' restricted sections.

    ``level``: ``legitimate_interest`` or ``authority`` (authority reads both);
    ``passport_id``: one passport, or 32 zero bytes for every passport the issuer
    organisation issues. Signed (EIP-712 ``AccessGrant``) by an issuer key of the
    brand's organisation: ``signer``, ``salt``, ``expires_at`` (unix seconds),
    ``digest`` (recorded once: a replay is refused) and ``signature``. Revoked (by an
    ``AccessGrantRevocation`` its organisation signed) or expired, it stops counting
    at once. Rows from before grants were signed have no signature and count for
    nothing (the migration marks them revoked).
    """

    __tablename__ = "access_grants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuer_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    grantee_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    level: Mapped[str] = mapped_column(String(32))
    passport_id: Mapped[str] = mapped_column(Hash32, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    signer: Mapped[str | None] = mapped_column(Address, nullable=True)
    salt: Mapped[str | None] = mapped_column(Hash32, nullable=True)
    expires_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    digest: Mapped[str | None] = mapped_column(Hash32, nullable=True, unique=True)
    signature: Mapped[str | None] = mapped_column(SignatureHex, nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(Address, nullable=True)
    revocation_signature: Mapped[str | None] = mapped_column(SignatureHex, nullable=True)
