"""Indexer cursor, recent block hashes (reorg detection) and the chain read model."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Address, Base, Hash32, UTCDateTime, utcnow


class ChainCursor(Base):
    """The last block fully indexed for one contract set on one chain."""

    __tablename__ = "chain_cursors"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    chain_id: Mapped[int] = mapped_column(BigInteger)
    last_block: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class IndexedBlock(Base):
    """Hash of a recently indexed block, re-checked to detect reorgs."""

    __tablename__ = "indexed_blocks"

    cursor: Mapped[str] = mapped_column(String(64), primary_key=True)
    number: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    hash: Mapped[str] = mapped_column(Hash32)


class ChainAnchor(Base):
    """An ``Anchored`` event as the chain reports it."""

    __tablename__ = "chain_anchors"
    __table_args__ = (UniqueConstraint("tx_hash", "log_index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    root: Mapped[str] = mapped_column(Hash32, index=True)
    anchorer: Mapped[str] = mapped_column(Address)
    leaf_count: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(Hash32)
    log_index: Mapped[int] = mapped_column(Integer)
    block_number: Mapped[int] = mapped_column(BigInteger, index=True)
    block_hash: Mapped[str] = mapped_column(Hash32)
