"""The consumer page cache: pages computed when their data changes, which passports a
change touches, recomputing their stored pages (``backend.pages``), and how long
browsers and shared caches may keep them.

The indexer runs :func:`page_handlers` after the read models, in the same
transaction: a passport event marks that passport, a shipment event the passports
its manifest carries, an organisation registry event the passports whose pages
name that organisation's keys. Off-chain writes mark their own passports
(supply events, anchors, delegations); a reorg marks what the orphaned blocks
showed. :func:`refresh` recomputes the marked pages after each indexed round; a
scan that finds its page marked computes and stores it itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from time import monotonic
from typing import Any

from sqlalchemy import Select, select, union
from sqlalchemy.orm import Session, sessionmaker

from backend.chain import DecodedEvent
from backend.chain.deployments import Deployment
from backend.chain.organisations import parse_event
from backend.common.types import to_hex
from backend.errors import NotFound
from backend.events.models import SupplyEvent
from backend.indexer.service import BlockRef, ContractHandlers
from backend.orgs import registry as org_registry
from backend.orgs.models import RegistryKey
from backend.pages import store
from backend.passports.indexer import passport_handlers
from backend.passports.models import Attestation, Passport
from backend.qr import view
from backend.qr.flows import product_page
from backend.qr.render import render_product_page
from backend.qr.resolver import by_id
from backend.shipments.indexer import shipment_handlers
from backend.shipments.models import ManifestLine, Milestone, ShipmentManifest

log = logging.getLogger(__name__)

# Stored pages are recomputed when their data changes; browsers and shared caches
# revalidate with the ETag after 15 seconds, so a recall shows at most that late
# downstream and never at the origin.
PAGE_CACHE_CONTROL = "public, max-age=15"


def _on_passport_event(session: Session, ev: DecodedEvent, block: BlockRef) -> None:
    pid = ev.args.get("passportId")
    if pid is not None:
        store.mark(session, [to_hex(pid)], block=block.number)
        return
    aid = ev.args.get("attestationId")
    if aid is not None:
        att = session.get(Attestation, to_hex(aid))
        if att is not None:
            store.mark(session, [att.passport_id], block=block.number)


def carried(session: Session, shipment_id: str) -> list[str]:
    """The passports a shipment's manifest carries."""
    return list(
        session.scalars(
            select(ManifestLine.passport_id).where(ManifestLine.shipment_id == shipment_id)
        )
    )


def _on_shipment_event(session: Session, ev: DecodedEvent, block: BlockRef) -> None:
    sid = ev.args.get("shipmentId")
    if sid is not None:
        store.mark(session, carried(session, to_hex(sid)), block=block.number)


def naming(keys: Select[Any]) -> Select[Any]:
    """Passports whose pages name one of ``keys``: as issuer, certifier or signer."""
    return select(
        union(
            select(Passport.id).where(Passport.issuer.in_(keys)),
            select(Attestation.passport_id).where(Attestation.certifier.in_(keys)),
            select(SupplyEvent.subject).where(SupplyEvent.signer.in_(keys)),
            select(ManifestLine.passport_id)
            .join(Milestone, Milestone.shipment_id == ManifestLine.shipment_id)
            .where(Milestone.signer.in_(keys)),
        ).subquery()
    )


def _on_org_event(session: Session, ev: DecodedEvent, block: BlockRef) -> None:
    parsed = parse_event(ev)
    org_id = getattr(parsed, "org_id", None)
    if org_id is None:
        return
    keys = select(RegistryKey.key).where(RegistryKey.org_id == to_hex(org_id))
    store.mark_where(session, naming(keys), block=block.number)


def spoken_by(org_id: int) -> Select[Any]:
    """Passports whose pages may show what ``org_id`` said: its events and shipments."""
    return select(
        union(
            select(SupplyEvent.subject).where(SupplyEvent.org_id == org_id),
            select(ManifestLine.passport_id)
            .join(ShipmentManifest, ShipmentManifest.shipment_id == ManifestLine.shipment_id)
            .where(ShipmentManifest.org_id == org_id),
        ).subquery()
    )


def page_handlers() -> list[ContractHandlers]:
    """Mark the pages each indexed event changes (registered after the read models)."""
    return [
        ContractHandlers(
            "ProductPassportRegistry",
            dict.fromkeys(passport_handlers().events, _on_passport_event),
            store.rollback,
        ),
        ContractHandlers(
            "ShipmentRegistry",
            dict.fromkeys(shipment_handlers().events, _on_shipment_event),
            store.rollback,
        ),
        ContractHandlers(
            org_registry.CONTRACT,
            dict.fromkeys(org_registry.EVENTS, _on_org_event),
            store.rollback,
        ),
    ]


# -- computing -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PageSource:
    """What a page is computed from besides the database."""

    chain_id: int
    deployment: Deployment
    base: str


def expiry(page: view.ProductPage) -> datetime | None:
    """When the page changes with no write: the day after an attestation's end date."""
    ends = [
        c.valid_until
        for c in page.certifications
        if c.attested_by is not None
        and c.status is view.AttestationStatus.VALID
        and c.valid_until is not None
    ]
    if not ends:
        return None
    return datetime.combine(min(ends) + timedelta(days=1), time(), UTC)


def own_strings(page: view.ProductPage) -> tuple[str, ...]:
    """What an item's page shows that its lot-mates' do not, besides its passport id:
    its serial and, each issue being its own transaction, that transaction and its block
    (a block number of :data:`BLOCK_DIGITS` or more digits: a shorter one would match
    other numbers on the page). The stored page is cut at them, so lot-mates share one
    template (``backend.pages.store.pack``)."""
    if page.proof is None:
        return (page.serial or "",)
    block = str(page.proof.block_number)
    return (page.serial or "", page.proof.transaction, block if len(block) >= BLOCK_DIGITS else "")


#: The shortest block number cut out of a stored page.
BLOCK_DIGITS = 6


def compute(session: Session, source: PageSource, passport_id: str) -> store.StoredPage | None:
    """Compute and store the passport's page; ``None`` if it has no public page."""
    generation = store.generation(session, passport_id)
    try:
        resolved = by_id(session=session, passport_id=passport_id)
    except NotFound:
        resolved = None
    if resolved is None:
        store.save(
            session,
            passport_id=passport_id,
            generation=generation,
            path=None,
            page=None,
            expires_at=None,
        )
        session.commit()
        return None
    page = product_page(
        session=session,
        chain_id=source.chain_id,
        deployment=source.deployment,
        resolved=resolved,
        base=source.base,
    )
    packed = store.pack(
        render_product_page(page).encode(), passport_id=passport_id, own=own_strings(page)
    )
    store.save(
        session,
        passport_id=passport_id,
        generation=generation,
        path=resolved.link.path,
        page=packed,
        expires_at=expiry(page),
    )
    session.commit()
    return packed.page


def refresh(sessions: sessionmaker[Session], source: PageSource, *, limit: int = 500) -> int:
    """Recompute up to ``limit`` marked pages; the number recomputed.

    Bounded so a change that marks many pages (an organisation renamed) does not
    hold up indexing: pages left marked are computed by their next scan or round.
    """
    done = 0
    failed: set[str] = set()
    while done < limit:
        with sessions() as session:
            batch = [
                pid
                for pid, _ in store.stale(session, limit=min(200, limit - done) + len(failed))
                if pid not in failed
            ]
        if not batch:
            return done
        for pid in batch:
            with sessions() as session:
                try:
                    compute(session, source, pid)
                except Exception:
                    log.exception("page of passport %s not recomputed", pid)
                    failed.add(pid)
            done += 1
    return done


def on_indexed(
    sessions: sessionmaker[Session], source: PageSource
) -> Callable[[Sequence[DecodedEvent] | None], None]:
    """Indexer listener: recompute the pages the round (or a reorg) marked, and sweep
    the page templates no page refers to any more (:data:`SWEEP_EVERY`)."""
    swept_at = [monotonic()]

    def listener(events: Sequence[DecodedEvent] | None) -> None:
        refresh(sessions, source)
        if monotonic() - swept_at[0] >= SWEEP_EVERY:
            swept_at[0] = monotonic()
            with sessions() as session:
                gone = store.sweep(session)
                session.commit()
            if gone:
                log.info("%d page templates no page refers to swept", gone)

    return listener


#: Seconds between sweeps of unused page templates (``store.sweep``).
SWEEP_EVERY = 600.0
