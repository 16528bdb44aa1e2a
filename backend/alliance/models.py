"""Alliance tables: member addresses, relayed actions, the event log and its projections.

The read model is event-sourced: every ``CapacityPool`` / ``EmergencyStockTransfer``
log is kept in ``alliance_events`` (with the few immutable facts the events do
not carry, read from the contract once) and applied to the projection tables.
A reorg deletes the orphaned events and replays the remaining ones of the
affected pools and requests, so the projections never hold orphaned state.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from backend.db.base import Address, Base, ChainEvent, Hash32, UTCDateTime, utcnow


class ChainInt(TypeDecorator[int]):
    """An unsigned integer up to 2**256 - 1 stored as decimal text (exact on every backend)."""

    impl = String(78)
    cache_ok = True

    def process_bind_param(self, value: int | None, dialect: Dialect) -> str | None:
        return None if value is None else str(int(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> int | None:
        return None if value is None else int(value)


class AllianceMember(Base):
    """An address an organisation proved it controls and acts for in the alliance."""

    __tablename__ = "alliance_members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    address: Mapped[str] = mapped_column(Address, unique=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AllianceAction(Base):
    """A contract call the relayer sends for an organisation (one relay request)."""

    __tablename__ = "alliance_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id"), index=True, nullable=True
    )
    action: Mapped[str] = mapped_column(String(32))
    contract: Mapped[str] = mapped_column(String(32))
    params: Mapped[str] = mapped_column(Text)  # JSON
    relay_id: Mapped[int | None] = mapped_column(ForeignKey("relay_requests.id"), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    tx_hash: Mapped[str | None] = mapped_column(Hash32, nullable=True)
    block_number: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class AllianceEvent(ChainEvent, Base):
    """One alliance contract log, as indexed (args as JSON, big integers as numbers)."""

    __tablename__ = "alliance_events"
    __table_args__ = (
        UniqueConstraint("tx_hash", "log_index"),
        Index("ix_alliance_events_pool", "pool_id", "block_number", "log_index"),
        Index("ix_alliance_events_request", "request_id", "block_number", "log_index"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(40))
    pool_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    request_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    args: Mapped[str] = mapped_column(Text)


class PoolView(Base):
    __tablename__ = "alliance_pools"

    pool_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    token: Mapped[str] = mapped_column(Address)
    operator: Mapped[str] = mapped_column(Address, index=True)
    admin: Mapped[str] = mapped_column(Address)
    lease_per_period: Mapped[int] = mapped_column(ChainInt)
    rate_per_unit: Mapped[int] = mapped_column(ChainInt)
    dispute_window: Mapped[int] = mapped_column(BigInteger)
    report_window: Mapped[int] = mapped_column(BigInteger)
    cancel_penalty_bps: Mapped[int] = mapped_column(Integer)
    tx_hash: Mapped[str] = mapped_column(Hash32)
    block_number: Mapped[int] = mapped_column(BigInteger)


class PoolMemberView(Base):
    __tablename__ = "alliance_pool_members"

    pool_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    member: Mapped[str] = mapped_column(Address, primary_key=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class PeriodView(Base):
    __tablename__ = "alliance_periods"

    pool_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    period_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    start_at: Mapped[int] = mapped_column(ChainInt)
    end_at: Mapped[int] = mapped_column(ChainInt)
    cutoff_at: Mapped[int] = mapped_column(ChainInt)
    capacity: Mapped[int] = mapped_column(ChainInt)
    booked: Mapped[int] = mapped_column(ChainInt, default=0)


class BookingView(Base):
    """A member's booking in a period, its usage status and, once settled, its charges."""

    __tablename__ = "alliance_bookings"

    pool_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    period_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    member: Mapped[str] = mapped_column(Address, primary_key=True)
    units: Mapped[int] = mapped_column(ChainInt, default=0)
    locked: Mapped[int] = mapped_column(ChainInt, default=0)
    status: Mapped[str] = mapped_column(String(16), default="none")
    used_units: Mapped[int] = mapped_column(ChainInt, default=0)
    reported_at: Mapped[int | None] = mapped_column(ChainInt, nullable=True)
    claimed_units: Mapped[int | None] = mapped_column(ChainInt, nullable=True)
    evidence_hash: Mapped[str | None] = mapped_column(Hash32, nullable=True)
    penalty: Mapped[int] = mapped_column(ChainInt, default=0)
    transfer_paid: Mapped[int] = mapped_column(ChainInt, default=0)
    transfer_received: Mapped[int] = mapped_column(ChainInt, default=0)
    lease_charge: Mapped[int | None] = mapped_column(ChainInt, nullable=True)
    usage_charge: Mapped[int | None] = mapped_column(ChainInt, nullable=True)
    released: Mapped[int | None] = mapped_column(ChainInt, nullable=True)
    settled_tx: Mapped[str | None] = mapped_column(Hash32, nullable=True)


class TransferView(Base):
    """An emergency stock request through its life (open … settled / refunded)."""

    __tablename__ = "alliance_transfers"

    request_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    requester: Mapped[str] = mapped_column(Address, index=True)
    gtin: Mapped[int] = mapped_column(ChainInt, index=True)
    quantity: Mapped[int] = mapped_column(ChainInt)
    destination: Mapped[str] = mapped_column(String(16))
    needed_by: Mapped[int] = mapped_column(ChainInt)
    terms: Mapped[str] = mapped_column(String(8))
    max_price_per_unit: Mapped[int] = mapped_column(ChainInt)
    return_by: Mapped[int] = mapped_column(ChainInt)
    status: Mapped[str] = mapped_column(String(16), index=True)
    lender: Mapped[str | None] = mapped_column(Address, nullable=True, index=True)
    price_per_unit: Mapped[int] = mapped_column(ChainInt, default=0)
    escrow: Mapped[int] = mapped_column(ChainInt, default=0)
    released_amount: Mapped[int] = mapped_column(ChainInt, default=0)
    offer_count: Mapped[int] = mapped_column(Integer, default=0)
    shipment_id: Mapped[str | None] = mapped_column(Hash32, nullable=True)
    return_shipment_id: Mapped[str | None] = mapped_column(Hash32, nullable=True)
    obligation_open: Mapped[bool] = mapped_column(Boolean, default=False)
    block_number: Mapped[int] = mapped_column(BigInteger)


class OfferView(Base):
    __tablename__ = "alliance_offers"

    request_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    offer_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    lender: Mapped[str] = mapped_column(Address)
    price_per_unit: Mapped[int] = mapped_column(ChainInt)
