"""Declarative base with a naming convention, and column types shared by every domain."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer, MetaData, String
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from backend.common.types import MAX_WALLET_SIGNATURE_BYTES

# Constraint names are deterministic so Alembic can drop and alter them on
# every backend (SQLite batch mode needs names).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


Hash32 = String(66)  # 0x-prefixed lower-case hex of 32 bytes
Address = String(42)  # EIP-55 checksummed
#: 0x-hex of a key's 65-byte signature or a contract wallet's (ERC-1271, up to the bound).
SignatureHex = String(2 + 2 * MAX_WALLET_SIGNATURE_BYTES)


class ChainPosition:
    """Where the log a read-model row was indexed from sits on chain.

    ``block_number`` is indexed: the indexer's reorg rollback deletes every row
    at or above the fork by it.
    """

    block_number: Mapped[int] = mapped_column(BigInteger, index=True)
    tx_hash: Mapped[str] = mapped_column(Hash32)
    log_index: Mapped[int] = mapped_column(Integer)


class ChainEvent(ChainPosition):
    """A log kept as it was read: its position and the hash of its block."""

    block_hash: Mapped[str] = mapped_column(Hash32)
