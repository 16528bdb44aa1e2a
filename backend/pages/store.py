"""Mark, look up and store materialised passport pages.

Every write that changes what a passport's page shows calls :func:`mark` (or
:func:`mark_where`, :func:`mark_shown`) in its own transaction, so once it commits no scan gets the
old page; a reorg calls :func:`rollback`. Scans read with :class:`PageReader`. Recomputing is the resolver's job
(``backend.qr.cache``): it reads :func:`stale`, renders and :func:`save`\\ s.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Select, case, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from backend.common.http import etag_of
from backend.db.base import utcnow
from backend.db.lists import among
from backend.db.reader import KeptConnection
from backend.pages.models import PassportPage

_T = PassportPage.__table__


def _source(block: int) -> object:
    return case((_T.c.source_block < block, block), else_=_T.c.source_block)


def mark(session: Session, passport_ids: Iterable[str], *, block: int = 0) -> None:
    """The pages of ``passport_ids`` changed (by a chain change in ``block``, 0 if off chain)."""
    ids = sorted({p.lower() for p in passport_ids})
    if not ids:
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(_T).values(
        [{"passport_id": p, "generation": 1, "source_block": block, "stale": True} for p in ids]
    )
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=[_T.c.passport_id],
            set_={
                "generation": _T.c.generation + 1,
                "stale": True,
                "source_block": _source(block),
            },
        )
    )


def mark_shown(session: Session, passport_ids: Iterable[str], *, block: int = 0) -> None:
    """:func:`mark` for writes that change pages already stored (supply events, anchors).

    A passport with no page row has nothing stored to go stale (its row comes with its
    issue), and an event's subject need not be a passport at all: no row is made, so a
    stream of events about other things costs no page work.
    """
    ids = sorted({p.lower() for p in passport_ids})
    for start in range(0, len(ids), _CHUNK):
        session.execute(
            update(PassportPage)
            .where(among(session, PassportPage.passport_id, ids[start : start + _CHUNK]))
            .values(generation=PassportPage.generation + 1, stale=True, source_block=_source(block))
            .execution_options(synchronize_session=False)
        )


_CHUNK = 5000  # ids per statement, under SQLite's bound-parameter limit


def mark_where(session: Session, passport_ids: Select[Any], *, block: int = 0) -> None:
    """:func:`mark` for a set of passports given as a query (a brand's every passport)."""
    session.execute(
        update(PassportPage)
        .where(PassportPage.passport_id.in_(passport_ids))
        .values(generation=PassportPage.generation + 1, stale=True, source_block=_source(block))
        .execution_options(synchronize_session=False)
    )


# Organisation id → passports whose pages show what that organisation said (its
# events, its shipments); registered by the domains that know (``backend.wiring``).
OrgPages = Callable[[int], Select[Any]]
_org_sources: list[OrgPages] = []


def register_org_source(source: OrgPages) -> None:
    if source not in _org_sources:
        _org_sources.append(source)


def mark_speaker(session: Session, org_id: int, subject: str, *, every: bool) -> None:
    """An organisation's right to speak for ``subject`` (or, ``every``, for all the
    issuer's passports) changed: the pages that show what it said change with it."""
    if not every:
        mark(session, [subject])
        return
    for source in _org_sources:
        mark_where(session, source(org_id))


def rollback(session: Session, fork: int) -> None:
    """A reorg from ``fork``: every page that showed a change from those blocks is stale."""
    session.execute(
        update(PassportPage)
        .where(PassportPage.source_block >= fork)
        .values(generation=PassportPage.generation + 1, stale=True, source_block=fork - 1)
        .execution_options(synchronize_session=False)
    )


@dataclass(frozen=True, slots=True)
class StoredPage:
    """A page ready to send: its gzip-compressed HTML and entity tag."""

    gzipped: bytes
    etag: str

    def html(self) -> bytes:
        return gzip.decompress(self.gzipped)


def pack(html: bytes) -> StoredPage:
    """The stored form of a page: gzip (fixed mtime, so equal pages are equal bytes).

    The tag is weak: the page is sent compressed or not, as the client accepts.
    """
    return StoredPage(gzip.compress(html, compresslevel=6, mtime=0), "W/" + etag_of(html))


_READ = (
    "SELECT body, etag FROM passport_pages WHERE path = ? AND NOT stale "
    "AND body IS NOT NULL AND (expires_at IS NULL OR expires_at > ?)"
)


class PageReader:
    """Stored pages by path: the scan path, one indexed read on a kept connection."""

    def __init__(self, engine: Engine) -> None:
        self.conn = KeptConnection(engine)
        self.sql = self.conn.statement(_READ)

    def get(self, path: str, *, now: datetime | None = None) -> StoredPage | None:
        when = now or utcnow()
        # SQLite holds UTC datetimes as naive text (``UTCDateTime``).
        at = when if self.conn.postgres else when.strftime("%Y-%m-%d %H:%M:%S.%f")
        row = self.conn.fetchone(self.sql, (path, at))
        return None if row is None else StoredPage(bytes(row[0]), row[1])

    def close(self) -> None:
        self.conn.close()


def stale(session: Session, *, limit: int) -> list[tuple[str, int]]:
    """Up to ``limit`` (passport id, generation) whose page must be recomputed."""
    rows = session.execute(
        select(PassportPage.passport_id, PassportPage.generation)
        .where(PassportPage.stale.is_(True))
        .limit(limit)
    ).all()
    return [(r[0], r[1]) for r in rows]


def generation(session: Session, passport_id: str) -> int:
    """The passport's current generation (0 before anything marked it)."""
    return int(
        session.scalar(
            select(PassportPage.generation).where(PassportPage.passport_id == passport_id)
        )
        or 0
    )


def save(
    session: Session,
    *,
    passport_id: str,
    generation: int,
    path: str | None,
    page: StoredPage | None,
    expires_at: datetime | None,
) -> bool:
    """Store a page computed from data read at ``generation``; False if marked since.

    ``page`` ``None``: the passport has no public page (no document yet).
    """
    result = session.execute(
        update(PassportPage)
        .where(PassportPage.passport_id == passport_id, PassportPage.generation == generation)
        .values(
            path=path,
            body=page.gzipped if page is not None else None,
            etag=page.etag if page is not None else None,
            stale=False,
            expires_at=expires_at,
            computed_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
