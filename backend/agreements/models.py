"""Read model of ``DeliveryAgreement``: its logs and one row per agreement, kept by the indexer."""

from __future__ import annotations

from sqlalchemy import BigInteger, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.alliance.models import ChainInt
from backend.db.base import Address, Base, ChainEvent, Hash32


class AgreementEvent(ChainEvent, Base):
    """One ``DeliveryAgreement`` log as indexed; a reorg replays what remains of them."""

    __tablename__ = "agreement_events"
    __table_args__ = (
        UniqueConstraint("tx_hash", "log_index"),
        Index("ix_agreement_events_agreement", "agreement_id", "block_number", "log_index"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agreement_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    name: Mapped[str] = mapped_column(String(40))
    args: Mapped[str] = mapped_column(Text)  # JSON; AgreementProposed carries the full terms
    block_time: Mapped[int] = mapped_column(BigInteger)


class AgreementView(Base):
    """An agreement's terms, state and (once settled) what it paid, as the chain's logs say."""

    __tablename__ = "agreements"

    agreement_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    buyer: Mapped[str] = mapped_column(Address, index=True)
    seller: Mapped[str] = mapped_column(Address, index=True)
    bonder: Mapped[str | None] = mapped_column(Address, index=True, nullable=True)
    arbiter: Mapped[str] = mapped_column(Address, index=True)
    token: Mapped[str] = mapped_column(Address)
    terms: Mapped[str] = mapped_column(Text)  # JSON of AgreementTerms (snake case)
    status: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(16), default="none")
    bond_posted: Mapped[int] = mapped_column(ChainInt, default=0)
    shipment_id: Mapped[str | None] = mapped_column(Hash32, nullable=True)
    accepted_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    dispute_ends_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    to_buyer: Mapped[int | None] = mapped_column(ChainInt, nullable=True)
    to_seller: Mapped[int | None] = mapped_column(ChainInt, nullable=True)
    to_bonder: Mapped[int | None] = mapped_column(ChainInt, nullable=True)
    days_late: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    settled_tx: Mapped[str | None] = mapped_column(Hash32, nullable=True)
    block_number: Mapped[int] = mapped_column(BigInteger)
