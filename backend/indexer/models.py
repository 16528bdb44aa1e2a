"""Indexer cursor and recent block hashes (reorg detection)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, Hash32, UTCDateTime, utcnow


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
