"""Organisations, API keys and signer keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import Mapped, mapped_column

from backend.chain.organisations import org_id_for
from backend.common.types import to_hex
from backend.db.base import (
    Address,
    Base,
    ChainPosition,
    Hash32,
    SignatureHex,
    UTCDateTime,
    utcnow,
)


def _chain_org_id(context: DefaultExecutionContext) -> str:
    return to_hex(org_id_for(context.get_current_parameters()["slug"]))


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # As registered in OrganisationRegistry (``roles`` 0: registered before the registry
    # existed, so not on chain).
    country: Mapped[str] = mapped_column(String(2), server_default="XX")
    web_domain: Mapped[str] = mapped_column(String(253), server_default="")
    roles: Mapped[int] = mapped_column(Integer, server_default="0")
    # Its id in OrganisationRegistry (``org_id_for(slug)``), so registry keys map back to it.
    chain_org_id: Mapped[str] = mapped_column(Hash32, unique=True, default=_chain_org_id)


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


class RateBucket(Base):
    """A rate limit shared by every replica: the GCRA's theoretical arrival time of a key.

    ``tat`` is in Unix seconds; a key is limited while ``tat`` lies more than the
    burst allowance ahead of now.
    """

    __tablename__ = "rate_buckets"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    tat: Mapped[float] = mapped_column(Float)


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
    signature: Mapped[str] = mapped_column(SignatureHex)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


# -- OrganisationRegistry read model (filled by the indexer; the chain is the authority) --


class RegistryOrganisation(ChainPosition, Base):
    """An organisation as ``OrganisationRegistered`` declared it, with its granted roles."""

    __tablename__ = "registry_organisations"

    org_id: Mapped[str] = mapped_column(Hash32, primary_key=True)
    legal_name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    web_domain: Mapped[str] = mapped_column(String(253), default="")
    registered_roles: Mapped[int] = mapped_column(Integer)
    roles: Mapped[int] = mapped_column(Integer)
    registrar: Mapped[str] = mapped_column(Address)


class RegistryRoleGrant(ChainPosition, Base):
    """``OrganisationRolesGranted``: kept so a reorg can recompute an organisation's roles."""

    __tablename__ = "registry_role_grants"
    __table_args__ = (UniqueConstraint("tx_hash", "log_index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[str] = mapped_column(Hash32, index=True)
    granted: Mapped[int] = mapped_column(Integer)


class RegistryKey(ChainPosition, Base):
    """A signer key on chain: valid from ``added_block`` until ``revoked_block`` (exclusive)."""

    __tablename__ = "registry_keys"

    key: Mapped[str] = mapped_column(Address, primary_key=True)
    org_id: Mapped[str] = mapped_column(Hash32, index=True)
    roles: Mapped[int] = mapped_column(Integer)
    added_by: Mapped[str] = mapped_column(Address)
    added_block: Mapped[int] = mapped_column(BigInteger)
    revoked_block: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    revoked_by: Mapped[str | None] = mapped_column(Address, nullable=True)
    revoked_tx_hash: Mapped[str | None] = mapped_column(Hash32, nullable=True)


class RegistryPrefix(ChainPosition, Base):
    """A GS1 company prefix assigned to an organisation (until ``released_block``)."""

    __tablename__ = "registry_prefixes"
    __table_args__ = (UniqueConstraint("tx_hash", "log_index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prefix: Mapped[str] = mapped_column(String(12), index=True)
    org_id: Mapped[str] = mapped_column(Hash32, index=True)
    released_block: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
