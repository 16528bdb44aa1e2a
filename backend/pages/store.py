"""Mark, look up and store materialised passport pages.

Every write that changes what a passport's page shows calls :func:`mark` (or
:func:`mark_where`, :func:`mark_shown`) in its own transaction, so once it commits no scan gets the
old page; a reorg calls :func:`rollback`. Scans read with :class:`PageReader`. Recomputing is the resolver's job
(``backend.qr.cache``): it reads :func:`stale`, renders and :func:`save`\\ s.
"""

from __future__ import annotations

import gzip
import json
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Select, case, delete, select, update
from sqlalchemy.orm import Session

from backend.common.http import etag_of
from backend.db.base import utcnow
from backend.db.engine import conflict_insert
from backend.db.lists import among
from backend.db.reader import KeptConnection
from backend.pages import spliced
from backend.pages.models import PageTemplate, PassportPage

_T = PassportPage.__table__


def _source(block: int) -> object:
    return case((_T.c.source_block < block, block), else_=_T.c.source_block)


def mark(session: Session, passport_ids: Iterable[str], *, block: int = 0) -> None:
    """The pages of ``passport_ids`` changed (by a chain change in ``block``, 0 if off chain)."""
    ids = sorted({p.lower() for p in passport_ids})
    if not ids:
        return
    stmt = conflict_insert(session.get_bind().dialect.name, _T).values(
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


@dataclass(frozen=True, slots=True)
class PackedPage:
    """A page in its stored form: the template it shares with pages that differ only
    in their own strings, this item's strings, the page's CRC-32 and entity tag."""

    template: spliced.Template
    own: tuple[str, ...]
    crc: int
    page: StoredPage


def _fills(passport_id: str, own: Sequence[str]) -> list[bytes]:
    return [passport_id.removeprefix("0x").encode(), *(s.encode() for s in own)]


def pack(
    html: bytes,
    *,
    passport_id: str,
    own: Sequence[str] = (),
    template: spliced.Template | None = None,
) -> PackedPage:
    """The stored form of passport ``passport_id``'s page, cut at its passport id (as
    hex, with or without ``0x``) and ``own`` strings (its serial). ``template``: the one
    ``html`` is known to cut to (a lot-mate's, in a bulk load), so it is not cut again.

    The tag is weak: the page is sent compressed or not, as the client accepts.
    """
    fills = _fills(passport_id, own)
    template = template if template is not None else spliced.split(html, fills)
    crc = spliced.crc(html)
    page = StoredPage(spliced.assemble(template, fills, crc), "W/" + etag_of(html))
    return PackedPage(template, tuple(own), crc, page)


def columns(page: PackedPage) -> dict[str, Any]:
    """A packed page's values in its row, its template's id apart (:func:`template_id`)."""
    return {
        "fills": json.dumps(page.own) if page.own else None,
        "crc": page.crc,
        "etag": page.page.etag,
    }


def _unpacked(
    template: spliced.Template, passport_id: str, own: str | None, crc: int, etag: str
) -> StoredPage:
    fills = _fills(passport_id, json.loads(own) if own else ())
    return StoredPage(spliced.assemble(template, fills, crc), etag)


def stored(session: Session, passport_id: str) -> StoredPage | None:
    """The page stored for ``passport_id`` as a scan sends it; ``None`` if it has none
    (marked or not stored yet)."""
    row = session.execute(
        select(
            PageTemplate.body,
            PageTemplate.digest,
            PassportPage.passport_id,
            PassportPage.fills,
            PassportPage.crc,
            PassportPage.etag,
        )
        .join(PageTemplate, PageTemplate.id == PassportPage.template_id)
        .where(PassportPage.passport_id == passport_id.lower(), PassportPage.stale.is_(False))
    ).one_or_none()
    if row is None:
        return None
    body, digest, pid, own, crc, etag = row  # a row that has a template has all of them
    return _unpacked(spliced.decode(body, digest), pid, own, crc or 0, etag or "")


_READ = (
    "SELECT passport_id, template_id, fills, crc, etag FROM passport_pages WHERE path = ? "
    "AND NOT stale AND template_id IS NOT NULL AND (expires_at IS NULL OR expires_at > ?)"
)
_TEMPLATE = "SELECT digest, body FROM page_templates WHERE id = ?"


class PageReader:
    """Stored pages by path: the scan path, one indexed read on a kept connection, the
    templates it has read kept (up to ``templates`` of them, least recently used out)."""

    def __init__(self, engine: Engine, *, templates: int = 4096) -> None:
        self.conn = KeptConnection(engine)
        self.sql = self.conn.statement(_READ)
        self.template_sql = self.conn.statement(_TEMPLATE)
        self.templates: OrderedDict[int, spliced.Template] = OrderedDict()
        self.capacity = templates

    def template(self, template_id: int) -> spliced.Template | None:
        kept = self.templates.get(template_id)
        if kept is not None:
            self.templates.move_to_end(template_id)
            return kept
        row = self.conn.fetchone(self.template_sql, (template_id,))
        if row is None:  # swept since the page's row was read: the page is computed
            return None
        template = spliced.decode(bytes(row[1]), bytes(row[0]))
        self.templates[template_id] = template
        if len(self.templates) > self.capacity:
            self.templates.popitem(last=False)
        return template

    def get(self, path: str, *, now: datetime | None = None) -> StoredPage | None:
        when = now or utcnow()
        # SQLite holds UTC datetimes as naive text (``UTCDateTime``).
        at = when if self.conn.postgres else when.strftime("%Y-%m-%d %H:%M:%S.%f")
        row = self.conn.fetchone(self.sql, (path, at))
        if row is None:
            return None
        passport_id, template_id, own, crc, etag = row
        template = self.template(template_id)
        if template is None:
            return None
        return _unpacked(template, passport_id, own, crc, etag)

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


#: A template no page refers to is kept this long after a page last took it.
TEMPLATE_GRACE = timedelta(hours=1)


def template_id(session: Session, template: spliced.Template) -> int:
    """The id of ``template``'s row, stored now if no page had it."""
    now = utcnow()
    stmt = conflict_insert(session.get_bind().dialect.name, PageTemplate).values(
        digest=template.digest, body=template.encode(), used_at=now
    )
    # Lot-mates take the same template one after another: its time is moved on only
    # when it is older than a tenth of the sweep's grace.
    taken = session.scalar(
        stmt.on_conflict_do_update(
            index_elements=[PageTemplate.digest],
            set_={"used_at": now},
            where=PageTemplate.used_at < now - TEMPLATE_GRACE / 10,
        ).returning(PageTemplate.id)
    )
    if taken is None:  # stored, and taken within the tenth of the grace
        taken = session.execute(
            select(PageTemplate.id).where(PageTemplate.digest == template.digest)
        ).scalar_one()
    return int(taken)


def sweep(session: Session, *, now: datetime | None = None) -> int:
    """Delete the templates no page refers to and none took within the grace; how many.

    A scan that read a page's row just before its template went reads no template and
    computes the page.
    """
    cutoff = (now or utcnow()) - TEMPLATE_GRACE
    result = session.execute(
        delete(PageTemplate)
        .where(
            PageTemplate.used_at < cutoff,
            ~select(PassportPage.passport_id)
            .where(PassportPage.template_id == PageTemplate.id)
            .exists(),
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def save(
    session: Session,
    *,
    passport_id: str,
    generation: int,
    path: str | None,
    page: PackedPage | None,
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
            **(
                {"template_id": None, "fills": None, "crc": None, "etag": None}
                if page is None
                else {"template_id": template_id(session, page.template), **columns(page)}
            ),
            stale=False,
            expires_at=expires_at,
            computed_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
