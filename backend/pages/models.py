"""The materialised consumer page of each passport."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, Hash32, UTCDateTime


class PassportPage(Base):
    """A passport's page as served for its own Digital Link (``path``).

    ``body`` is the page's HTML, gzip-compressed (a fifth of its size; sent as is to
    clients that accept gzip). ``stale`` while the page must be recomputed: a write that changes what the
    page shows marks it in the same transaction, and a stale page is never sent. ``generation`` counts
    those marks, so a page computed from data read before a mark is never stored
    over it. ``source_block`` is the highest block of any chain change the page
    has shown: a reorg from block ``n`` recomputes the pages with
    ``source_block >= n``. ``expires_at`` is when the page changes with no write
    at all (an attested certification passing its end date).

    On PostgreSQL a row up to a whole block is stored as it is (``toast_tuple_target``
    8,160, migration ``0015_passport_page_in_one_row``): a scan reads one heap page, not
    the row and its body's out-of-line TOAST chunks.
    """

    __tablename__ = "passport_pages"

    passport_id: Mapped[str] = mapped_column(Hash32, primary_key=True)
    path: Mapped[str | None] = mapped_column(String(200), nullable=True, unique=True)
    generation: Mapped[int] = mapped_column(Integer, default=0)
    source_block: Mapped[int] = mapped_column(BigInteger, default=0, index=True)
    stale: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    body: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    etag: Mapped[str | None] = mapped_column(String(40), nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    computed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
