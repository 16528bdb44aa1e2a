"""Verify signed supply events and store them with their outbox rows, idempotently."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from backend.chain.client import ChainClient
from backend.chain.eip712 import SignatureInvalid, recover
from backend.chain.signatures import refusal
from backend.chain.typed_data.events import (
    hash_supply_event,
    location_bytes,
    supply_event_digest,
)
from backend.common.types import to_hex
from backend.db.base import utcnow
from backend.db.lists import among, insert_rows
from backend.errors import Conflict, Forbidden, InvalidInput, WaymarkError
from backend.events.models import Outbox, SupplyEvent
from backend.events.schemas import SupplyEventAccepted, SupplyEventCreate
from backend.orgs.authority import KeyWindow, signer_keys
from backend.orgs.service import WRITER_SCOPES, Principal
from backend.orgs.subjects import refusals
from backend.pages import store as pages

ANCHOR_TOPIC = "anchor"
# Captured EPCIS events waiting for a batch (backend/epcis writes them).
EPCIS_ANCHOR_TOPIC = "anchor_epcis"
OUTBOX: Table = Outbox.__table__  # type: ignore[assignment]
EVENTS: Table = SupplyEvent.__table__  # type: ignore[assignment]
MAX_FUTURE_SKEW_SECONDS = 300


@dataclass(frozen=True)
class _Verified:
    index: int
    row: dict[str, object]


def _signer(item: SupplyEventCreate, digest: bytes, chain: ChainClient) -> str:
    """Who signed ``digest``: the key it recovers to, or the ``signer`` the item names once
    the contracts' one signature rule says the signature is its (a wallet's ERC-1271)."""
    if item.signer is None:
        try:
            return recover(digest, item.signature)
        except SignatureInvalid as exc:
            raise InvalidInput(
                f"signature: {exc}; a contract wallet's signature needs the signer named"
            ) from exc
    why = refusal(chain, address=item.signer, digest=digest, signature=item.signature)
    if why is not None:
        raise InvalidInput(f"signature is not signer {item.signer}'s: {why}")
    return item.signer


def _verify(
    item: SupplyEventCreate,
    *,
    separator: bytes,
    signers: dict[str, KeyWindow],
    now: int,
    chain: ChainClient,
) -> dict[str, object]:
    """The row to insert, or raise why the event is refused."""
    struct_hash = hash_supply_event(
        item.event_id,
        item.subject,
        int(item.kind),
        item.occurred_at,
        location_bytes(item.location),
        item.payload_hash,
    )
    digest = supply_event_digest(separator, struct_hash)
    signer = _signer(item, digest, chain)
    window = signers.get(signer)
    if window is None:
        raise Forbidden(f"{signer} is not a signer key of this organisation")
    # Judged at receipt: a revoked key cannot sign "earlier" events by
    # back-dating occurredAt, nor a new key sign "historical" ones.
    window.require_active(signer, now)
    if item.occurred_at > now + MAX_FUTURE_SKEW_SECONDS:
        raise InvalidInput("occurredAt is in the future")
    return {  # stored as 0x-hex, as every read shows them
        "digest": to_hex(digest),
        "event_id": to_hex(item.event_id),
        "subject": to_hex(item.subject),
        "kind": int(item.kind),
        "occurred_at": item.occurred_at,
        "location": item.location,
        "payload_hash": to_hex(item.payload_hash),
        "signer": signer,
        "signer_key_id": window.key_id,
        "signature": to_hex(item.signature),
    }


def ingest(
    *,
    session: Session,
    principal: Principal,
    separator: bytes,
    items: Sequence[SupplyEventCreate],
    chain: ChainClient,
) -> dict[str, Any]:
    """Verify each event; store the new ones and their outbox rows in one transaction.

    Idempotent by digest: an event already stored (by an earlier or a
    concurrent request) yields the same accepted body and no second row.
    """
    principal.require_any(WRITER_SCOPES)
    if principal.org_id is None:
        raise Forbidden("events are posted with an organisation's API key")
    org_id = principal.org_id
    signers = signer_keys(session=session, org_id=org_id)
    now = int(time.time())
    # Plain dicts shaped like ``BatchResult``: building a pydantic model per
    # item costs more than the database insert at batch sizes of 1,000.
    results: list[dict[str, Any] | None] = [None] * len(items)
    verified: dict[str, _Verified] = {}
    digests: list[str] = [""] * len(items)
    for i, item in enumerate(items):
        try:
            row = _verify(item, separator=separator, signers=signers, now=now, chain=chain)
        except WaymarkError as exc:
            results[i] = _rejected(i, exc)
            continue
        digest = str(row["digest"])
        digests[i] = digest
        if digest not in verified:  # the same event twice in one batch is stored once
            verified[digest] = _Verified(i, row)

    # Who may speak for each subject: one set of queries for the whole batch.
    barred = refusals(
        session=session,
        org_id=org_id,
        subjects={str(v.row["subject"]) for v in verified.values()},
        org_slug=principal.org_slug,
    )
    refused: dict[str, WaymarkError] = {}
    for digest, v in list(verified.items()):
        reason = barred.get(str(v.row["subject"]))
        if reason is not None:
            refused[digest] = reason
            del verified[digest]
    if refused:
        for i, d in enumerate(digests):
            if d in refused:
                results[i] = _rejected(i, refused[d])

    received_at = utcnow()
    stored: dict[str, tuple[str, str, datetime, int]] = {}
    if verified:
        rows = [{**v.row, "org_id": org_id, "received_at": received_at} for v in verified.values()]
        cols = EVENTS.c
        # One INSERT … ON CONFLICT DO NOTHING RETURNING: the rows it stored, none for a repeat.
        new = insert_rows(
            session, EVENTS, rows, skip_conflicts=True, returning=(cols.id, cols.digest)
        )
        for _, digest in new:
            row = verified[digest].row
            stored[digest] = (str(row["event_id"]), str(row["signer"]), received_at, org_id)
        # The anchoring worker's queue: these events, nothing a repeat already queued.
        insert_rows(
            session,
            OUTBOX,
            [{"topic": ANCHOR_TOPIC, "ref_id": i, "created_at": received_at} for i, _ in new],
        )
        # Repeats (stored by an earlier or a concurrent request) answer with what is stored.
        repeats = [d for d in verified if d not in stored]
        for chunk in _chunks(repeats, 500):
            for ev in session.execute(
                select(
                    cols.digest, cols.event_id, cols.signer, cols.received_at, cols.org_id
                ).where(among(session, cols.digest, chunk))
            ):
                stored[ev.digest] = (ev.event_id, ev.signer, ev.received_at, ev.org_id)
        # The subjects' pages list the new events (pending until anchored).
        pages.mark_shown(session, {str(v.row["subject"]) for v in verified.values()})
        session.commit()

    for i, item in enumerate(items):
        res = results[i]
        if res is not None:  # rejected during verification
            continue
        found = stored.get(digests[i])
        if found is None:
            results[i] = _rejected(
                i, Conflict(f"eventId {to_hex(item.event_id)} is already used by a different event")
            )
            continue
        event_id, signer, when, owner = found
        if owner != org_id:
            results[i] = _rejected(i, Conflict("this event was posted by another organisation"))
            continue
        results[i] = {
            "index": i,
            "status": "accepted",
            "event": {
                "digest": digests[i],
                "event_id": event_id,
                "signer": signer,
                "received_at": when,
            },
            "error": None,
            "detail": None,
        }
    done = [r for r in results if r is not None]
    accepted = sum(1 for r in done if r["status"] == "accepted")
    return {"accepted": accepted, "rejected": len(done) - accepted, "results": done}


def _rejected(index: int, exc: WaymarkError) -> dict[str, Any]:
    return {
        "index": index,
        "status": "rejected",
        "event": None,
        "error": exc.error,
        "detail": exc.detail,
    }


def ingest_one(
    *,
    session: Session,
    principal: Principal,
    separator: bytes,
    item: SupplyEventCreate,
    chain: ChainClient,
) -> SupplyEventAccepted:
    """A single event; refusals raise the matching ``WaymarkError``."""
    result = ingest(
        session=session, principal=principal, separator=separator, items=[item], chain=chain
    )
    res = result["results"][0]
    if res["event"] is None:
        cls = {"forbidden": Forbidden, "conflict": Conflict}.get(res["error"], InvalidInput)
        raise cls(res["detail"] or "event refused")
    return SupplyEventAccepted(**res["event"])


def to_json(result: dict[str, Any]) -> bytes:
    """The batch result as JSON, shaped like ``BatchResult`` (timestamps as ISO 8601, Z)."""
    return json.dumps(result, default=_iso, separators=(",", ":")).encode()


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _chunks(seq: Sequence[str], n: int) -> list[Sequence[str]]:
    return [seq[i : i + n] for i in range(0, len(seq), n)]
