"""The materialised consumer page of each passport."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.db.base import Base, Hash32, UTCDateTime

# A template id is never reused (SQLite: AUTOINCREMENT), so a process may keep templates
# it has read by id.
TemplateId = BigInteger().with_variant(Integer, "sqlite")


class PageTemplate(Base):
    """A stored page's text between its item's own strings (``backend.pages.spliced``),
    kept once for every page with the same text: the items of a lot share one.

    ``digest`` identifies the text; ``used_at`` is when a page last took it, and a
    template no page has taken for an hour and none refers to is swept away.
    """

    __tablename__ = "page_templates"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(TemplateId, primary_key=True, autoincrement=True)
    digest: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PassportPage(Base):
    """A passport's page as served for its own Digital Link (``path``).

    The page's gzip answer is its ``template`` with the item's own strings put in: its
    passport id and ``fills`` (a JSON list, the serial), and ``crc``, the CRC-32 of the
    whole page (``backend.pages.spliced``); a lot's page is stored once, its items' rows
    are a few hundred bytes. ``stale`` while the page must be recomputed: a write that changes what the
    page shows marks it in the same transaction, and a stale page is never sent. ``generation`` counts
    those marks, so a page computed from data read before a mark is never stored
    over it. ``source_block`` is the highest block of any chain change the page
    has shown: a reorg from block ``n`` recomputes the pages with
    ``source_block >= n``. ``expires_at`` is when the page changes with no write
    at all (an attested certification passing its end date).
    """

    __tablename__ = "passport_pages"

    passport_id: Mapped[str] = mapped_column(Hash32, primary_key=True)
    path: Mapped[str | None] = mapped_column(String(200), nullable=True, unique=True)
    generation: Mapped[int] = mapped_column(Integer, default=0)
    source_block: Mapped[int] = mapped_column(BigInteger, default=0, index=True)
    stale: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    template_id: Mapped[int | None] = mapped_column(
        TemplateId, ForeignKey("page_templates.id"), nullable=True, index=True
    )
    fills: Mapped[str | None] = mapped_column(Text, nullable=True)
    crc: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    etag: Mapped[str | None] = mapped_column(String(40), nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    computed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
