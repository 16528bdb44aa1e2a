"""Verify signed supply events and store them with their outbox rows, idempotently."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from backend.chain.eip712 import SignatureInvalid, recover
from backend.chain.typed_data.events import (
    hash_supply_event,
    location_bytes,
    supply_event_digest,
)
from backend.db.base import utcnow
from backend.errors import Conflict, Forbidden, InvalidInput, WaymarkError
from backend.events.models import Outbox, SupplyEvent
from backend.events.schemas import (
    BatchItemResult,
    BatchResult,
    SupplyEventAccepted,
    SupplyEventCreate,
)
from backend.orgs.service import WRITER_SCOPES, Principal, active_signers

ANCHOR_TOPIC = "anchor"
MAX_FUTURE_SKEW_SECONDS = 300


@dataclass(frozen=True)
class _Verified:
    index: int
    row: dict[str, object]


def _verify(
    item: SupplyEventCreate,
    *,
    separator: bytes,
    signers: dict[str, tuple[int, int | None]],
    now: int,
) -> dict[str, object]:
    """The row to insert, or raise why the event is refused."""
    struct_hash = hash_supply_event(
        bytes.fromhex(item.event_id[2:]),
        bytes.fromhex(item.subject[2:]),
        int(item.kind),
        item.occurred_at,
        location_bytes(item.location),
        bytes.fromhex(item.payload_hash[2:]),
    )
    digest = supply_event_digest(separator, struct_hash)
    try:
        signer = recover(digest, bytes.fromhex(item.signature[2:]))
    except SignatureInvalid as exc:
        raise InvalidInput(f"signature: {exc}") from exc
    window = signers.get(signer)
    if window is None:
        raise Forbidden(f"{signer} is not a signer key of this organisation")
    valid_from, revoked_at = window
    if item.occurred_at < valid_from or (revoked_at is not None and item.occurred_at >= revoked_at):
        raise Forbidden(f"signer {signer} was not active at occurredAt={item.occurred_at}")
    if item.occurred_at > now + MAX_FUTURE_SKEW_SECONDS:
        raise InvalidInput("occurredAt is in the future")
    return {
        "digest": "0x" + digest.hex(),
        "event_id": item.event_id,
        "subject": item.subject,
        "kind": int(item.kind),
        "occurred_at": item.occurred_at,
        "location": item.location,
        "payload_hash": item.payload_hash,
        "signer": signer,
        "signature": item.signature,
    }


def ingest(
    *,
    session: Session,
    principal: Principal,
    separator: bytes,
    items: Sequence[SupplyEventCreate],
) -> BatchResult:
    """Verify each event; store the new ones and their outbox rows in one transaction.

    Idempotent by digest: an event already stored (by an earlier or a
    concurrent request) yields the same accepted body and no second row.
    """
    principal.require_any(WRITER_SCOPES)
    if principal.org_id is None:
        raise Forbidden("events are posted with an organisation's API key")
    org_id = principal.org_id
    signers = active_signers(session=session, org_id=org_id)
    now = int(time.time())
    results: list[BatchItemResult | None] = [None] * len(items)
    verified: dict[str, _Verified] = {}
    digests: list[str] = [""] * len(items)
    for i, item in enumerate(items):
        try:
            row = _verify(item, separator=separator, signers=signers, now=now)
        except WaymarkError as exc:
            results[i] = BatchItemResult(
                index=i, status="rejected", error=exc.error, detail=exc.detail
            )
            continue
        digest = str(row["digest"])
        digests[i] = digest
        if digest not in verified:  # the same event twice in one batch is stored once
            verified[digest] = _Verified(i, row)

    received_at = utcnow()
    stored: dict[str, tuple[int, str, str, datetime, int]] = {}
    if verified:
        rows = [{**v.row, "org_id": org_id, "received_at": received_at} for v in verified.values()]
        stmt = _insert_ignore(session, SupplyEvent).returning(SupplyEvent.id, SupplyEvent.digest)
        inserted = session.execute(stmt, rows).all()
        new_ids = {d: i for i, d in inserted}
        if new_ids:
            session.execute(
                insert(Outbox),
                [
                    {"topic": ANCHOR_TOPIC, "ref_id": i, "created_at": received_at}
                    for i in new_ids.values()
                ],
            )
        for d, i in new_ids.items():
            row = verified[d].row
            stored[d] = (i, str(row["event_id"]), str(row["signer"]), received_at, org_id)
        missing = [d for d in verified if d not in new_ids]
        for chunk in _chunks(missing, 500):
            for ev in session.execute(
                select(
                    SupplyEvent.id,
                    SupplyEvent.digest,
                    SupplyEvent.event_id,
                    SupplyEvent.signer,
                    SupplyEvent.received_at,
                    SupplyEvent.org_id,
                ).where(SupplyEvent.digest.in_(chunk))
            ):
                stored[ev.digest] = (ev.id, ev.event_id, ev.signer, ev.received_at, ev.org_id)
        session.commit()

    for i, item in enumerate(items):
        res = results[i]
        if res is not None and res.status == "rejected":
            continue
        digest = digests[i]
        found = stored.get(digest)
        if found is None:
            conflict = Conflict(f"eventId {item.event_id} is already used by a different event")
            results[i] = BatchItemResult(
                index=i, status="rejected", error=conflict.error, detail=conflict.detail
            )
            continue
        _id, event_id, signer, when, owner = found
        if owner != org_id:
            conflict = Conflict("this event was posted by another organisation")
            results[i] = BatchItemResult(
                index=i, status="rejected", error=conflict.error, detail=conflict.detail
            )
            continue
        results[i] = BatchItemResult(
            index=i,
            status="accepted",
            event=SupplyEventAccepted(
                digest=digest, event_id=event_id, signer=signer, received_at=when
            ),
        )
    done = [r for r in results if r is not None]
    accepted = sum(1 for r in done if r.status == "accepted")
    return BatchResult(accepted=accepted, rejected=len(done) - accepted, results=done)


def ingest_one(
    *, session: Session, principal: Principal, separator: bytes, item: SupplyEventCreate
) -> SupplyEventAccepted:
    """A single event; refusals raise the matching ``WaymarkError``."""
    result = ingest(session=session, principal=principal, separator=separator, items=[item])
    res = result.results[0]
    if res.event is None:
        cls = {"forbidden": Forbidden, "conflict": Conflict}.get(res.error or "", InvalidInput)
        raise cls(res.detail or "event refused")
    return res.event


def _insert_ignore(session: Session, table: type[SupplyEvent]) -> sqlite.Insert | postgresql.Insert:
    """``INSERT … ON CONFLICT DO NOTHING`` for the session's dialect."""
    dialect = session.get_bind().dialect.name
    mod = postgresql if dialect == "postgresql" else sqlite
    return mod.insert(table).on_conflict_do_nothing()


def _chunks(seq: Sequence[str], n: int) -> list[Sequence[str]]:
    return [seq[i : i + n] for i in range(0, len(seq), n)]
