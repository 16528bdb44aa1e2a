"""Organisations, API keys and signer keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Address, Base, Hash32, UTCDateTime, utcnow


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiKey(Base):
    """A bearer key ``wm_<prefix>_<secret>``; only its SHA-256 is stored."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[str] = mapped_column(String(200))  # comma-separated
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(s for s in self.scopes.split(",") if s)


class SignerKey(Base):
    """An address allowed to sign for an org from ``valid_from`` until ``revoked_at``.

    Validity is judged at receipt time, never by a time the signer claims:
    a key signs nothing before ``valid_from`` (which cannot lie in the past
    when the key is registered) nor from ``revoked_at`` on.
    """

    __tablename__ = "signer_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    address: Mapped[str] = mapped_column(Address, unique=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Delegation(Base):
    """An issuer organisation lets another organisation add events about its passports.

    Signed (EIP-712 ``SubjectDelegation``) by one of the issuer's signer keys, so
    anyone can check that the issuer granted it; ``subject`` is one passport id,
    or 32 zero bytes for every passport the issuer issues. Revoked, it stops
    counting at once, also for events already stored (the public page and proof
    bundle apply the rule when they are read).
    """

    __tablename__ = "delegations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuer_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    delegate_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    subject: Mapped[str] = mapped_column(Hash32, index=True)
    signer: Mapped[str] = mapped_column(Address)
    salt: Mapped[str] = mapped_column(Hash32)
    digest: Mapped[str] = mapped_column(Hash32, unique=True)
    signature: Mapped[str] = mapped_column(String(132))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
