"""EPCIS 2.0 capture: validate, hash, authorise and store a document's events as one job.

A document is first checked as a whole (JSON, an ``EPCISDocument``, the capture
limits); then every event is validated against the GS1 schema, given its CBV 2.0
event hash id, checked against the subject rule (:mod:`backend.epcis.authz`) and for
duplicates. ``rollback`` (the default ``GS1-Capture-Error-Behaviour``) stores nothing
if any event fails; ``proceed`` stores the events that pass. Stored events go to
the anchoring outbox in the same transaction, so they join the next Merkle batch.

Errors: :class:`CaptureRefused` (400, the document as a whole is unusable; ``problems``
names each problem by JSON path), :class:`~backend.errors.PayloadTooLarge` (413).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from backend.chain.client import ChainClient
from backend.chain.eip712 import Domain, SignatureInvalid, digest, recover
from backend.chain.signatures import refusal
from backend.chain.typed_data.events import EPCIS_EVENT_HASH
from backend.common.types import hex_bytes, parse_address, parse_signature
from backend.db.base import utcnow
from backend.epcis import authz
from backend.epcis.document import schema_errors
from backend.epcis.errors import EpcisError
from backend.epcis.hashing import Canon, hash_id_of, namespace_prefixes, pre_hash_string
from backend.epcis.vocabulary import BIZ_STEP_PREFIX, DISPOSITION_PREFIX
from backend.errors import PayloadTooLarge, WaymarkError
from backend.events.models import EpcisCapture, EpcisEvent, EpcisEventObject, Outbox
from backend.events.service import EPCIS_ANCHOR_TOPIC
from backend.orgs.authority import signer_keys
from backend.orgs.models import Organisation

ROLLBACK = "rollback"
PROCEED = "proceed"
ERROR_BEHAVIOURS = (ROLLBACK, PROCEED)
# Document-level extension: {"<event hash id>": "0x<65-byte EIP-712 signature>"}, or
# {"<event hash id>": {"signer": "0x<address>", "signature": "0x<signature>"}} naming the
# signer, as a contract wallet's signature (ERC-1271) must.
WAYMARK_NS = "urn:waymark:epcis:"
SIGNATURES = "{" + WAYMARK_NS + "}eventSignatures"


class CaptureRefused(WaymarkError):
    """The document cannot be captured at all (nothing is stored, no job is created)."""

    status_code = 400
    error = "epcis_validation"


@dataclass(frozen=True)
class Limits:
    events: int
    size: int


@dataclass
class _Prepared:
    index: int
    event: Mapping[str, Any]
    hash_id: str = ""
    digest: str = ""
    objects: Sequence[tuple[str, str]] = ()
    values: Mapping[str, Any] | None = None
    signer: str | None = None
    signature: str | None = None


def _problem(index: int | None, path: str, message: str) -> dict[str, Any]:
    return {"eventIndex": index, "path": path, "message": message}


def parse_document(raw: bytes, limits: Limits) -> dict[str, Any]:
    """The request body as an EPCISDocument within the limits, or 400/413."""
    if len(raw) > limits.size:
        raise PayloadTooLarge(
            f"the document is {len(raw)} bytes; GS1-Capture-File-Size-Limit is {limits.size}"
        )
    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CaptureRefused(f"the body is not JSON: {exc}", problems=[]) from None
    if not isinstance(document, dict) or document.get("type") != "EPCISDocument":
        raise CaptureRefused(
            "the body must be an EPCISDocument",
            problems=[_problem(None, "/type", "must be 'EPCISDocument'")],
        )
    version = document.get("schemaVersion")
    if not isinstance(version, str) or not (version == "2.0" or version.startswith("2.0.")):
        raise CaptureRefused(
            f"schemaVersion {version!r} is not supported; this service captures EPCIS 2.0",
            problems=[_problem(None, "/schemaVersion", "must be '2.0'")],
        )
    body = document.get("epcisBody")
    events = body.get("eventList") if isinstance(body, dict) else None
    if not isinstance(events, list):
        raise CaptureRefused(
            "an EPCISDocument for capture needs epcisBody.eventList",
            problems=[_problem(None, "/epcisBody/eventList", "is required and must be a list")],
        )
    if len(events) > limits.events:
        raise PayloadTooLarge(
            f"the document has {len(events)} events; GS1-EPCIS-Capture-Limit is {limits.events}"
        )
    return document


def _split_schema_errors(document: Any, count: int) -> tuple[list[dict], dict[int, list[dict]]]:
    doc_level: list[dict] = []
    per_event: dict[int, list[dict]] = {}
    prefix = "/epcisBody/eventList/"
    for line in schema_errors(document):
        path, _, message = line.partition(": ")
        if path.startswith(prefix):
            head = path[len(prefix) :].split("/", 1)[0]
            if head.isdigit() and int(head) < count:
                per_event.setdefault(int(head), []).append(_problem(int(head), path, message))
                continue
        doc_level.append(_problem(None, path, message))
    return doc_level, per_event


def _all_hash_ids(events: Sequence[Any], context: Any) -> list[str]:
    out = []
    for event in events:
        try:
            out.append(hash_id_of(pre_hash_string(event, context)))
        except (EpcisError, KeyError, TypeError, ValueError, AttributeError):
            continue
    return out


def _utc(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def _columns(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    canon = Canon(namespace_prefixes(context, event.get("@context")))

    def place(key: str) -> str | None:
        value = event.get(key)
        return canon.value(value["id"]) if isinstance(value, Mapping) and "id" in value else None

    return {
        "event_type": event["type"],
        "event_time": _utc(event["eventTime"]),
        "biz_step": canon.vocab(event["bizStep"], BIZ_STEP_PREFIX)
        if event.get("bizStep")
        else None,
        "disposition": (
            canon.vocab(event["disposition"], DISPOSITION_PREFIX)
            if event.get("disposition")
            else None
        ),
        "read_point": place("readPoint"),
        "biz_location": place("bizLocation"),
    }


def _signed_entry(value: Any) -> bool:
    """A signature string, or an object naming its signer and holding its signature."""
    if isinstance(value, str):
        return True
    return (
        isinstance(value, Mapping)
        and set(value) == {"signer", "signature"}
        and all(isinstance(v, str) for v in value.values())
    )


def _signatures(document: Mapping[str, Any]) -> dict[str, Any]:
    """The document's ``eventSignatures`` extension (any prefix bound to :data:`WAYMARK_NS`)."""
    canon = Canon(namespace_prefixes(document.get("@context")))
    for key, value in document.items():
        if ":" not in key or key.startswith("@"):
            continue
        try:
            expanded = canon.key(key)
        except EpcisError:
            continue
        if expanded != SIGNATURES:
            continue
        if not isinstance(value, Mapping) or not all(
            isinstance(k, str) and _signed_entry(v) for k, v in value.items()
        ):
            raise CaptureRefused(
                "eventSignatures must map event hash ids to 0x-hex signatures "
                "or to {signer, signature}",
                problems=[
                    _problem(
                        None,
                        f"/{key}",
                        "must be an object of strings or of {signer, signature} objects",
                    )
                ],
            )
        return dict(value)
    return {}


def _signer(digest_: bytes, entry: Any, chain: ChainClient) -> tuple[str, str]:
    """(signer, signature hex) of one ``eventSignatures`` entry, or ValueError why not.

    A bare signature is a plain key's and names its signer by recovery; an entry naming
    its signer is that address's by the contracts' one rule (ECDSA, else its ERC-1271
    ``isValidSignature`` at the chain head).
    """
    if isinstance(entry, str):
        try:
            return recover(digest_, parse_signature(entry, "signature")), entry.lower()
        except SignatureInvalid as exc:
            raise ValueError(
                f"{exc}; a contract wallet's signature names its signer: {{signer, signature}}"
            ) from exc
    claimed = parse_address(entry["signer"], "signer")
    signature = parse_signature(entry["signature"], "signature")
    why = refusal(chain, address=claimed, digest=digest_, signature=signature)
    if why is not None:
        raise ValueError(f"it is not signer {claimed}'s: {why}")
    return claimed, entry["signature"].lower()


def _verify_signature(
    session: Session,
    org: Organisation,
    domain: Domain,
    item: _Prepared,
    entry: Any,
    chain: ChainClient,
) -> str | None:
    """Record the signer on ``item``; the reason it is refused otherwise."""
    try:
        signer, signature = _signer(
            digest(domain, EPCIS_EVENT_HASH, {"digest": hex_bytes(item.digest)}), entry, chain
        )
        window = signer_keys(session=session, org_id=org.id).get(signer)
        if window is None:
            return f"signature: {signer} is not a signer key of organisation {org.slug!r}"
        window.require_active(signer, int(utcnow().timestamp()))
    except (WaymarkError, ValueError) as exc:
        return str(exc) if isinstance(exc, WaymarkError) else f"signature: {exc}"
    item.signer = signer
    item.signature = signature
    return None


def capture(
    *,
    session: Session,
    org: Organisation,
    document: dict[str, Any],
    behaviour: str,
    chain: ChainClient,
    domain: Domain | None = None,
) -> EpcisCapture:
    """Run one capture job to completion; returns the job (committed).

    ``domain`` is the events EIP-712 domain; without it signed events are refused.
    """
    events: list[Any] = document["epcisBody"]["eventList"]
    context = document.get("@context")
    signatures = _signatures(document)
    doc_errors, per_event = _split_schema_errors(document, len(events))
    unmatched = sorted(set(signatures) - set(_all_hash_ids(events, context)))
    if unmatched:
        doc_errors.append(
            _problem(
                None, "/eventSignatures", f"signs {unmatched[0]}, which is no event of the document"
            )
        )
    if doc_errors:
        raise CaptureRefused(
            "the document does not validate against the GS1 EPCIS 2.0 schema",
            problems=doc_errors,
        )
    errors: list[dict[str, Any]] = [e for i in sorted(per_event) for e in per_event[i]]
    prepared: list[_Prepared] = []
    seen: dict[str, int] = {}
    for index, event in enumerate(events):
        if index in per_event:
            continue
        item = _Prepared(index, event)
        try:
            pre_hash = pre_hash_string(event, context)
            item.values = _columns(event, context)
        except (EpcisError, KeyError, TypeError, ValueError, AttributeError) as exc:
            why = str(exc) if isinstance(exc, EpcisError) else f"cannot be hashed: {exc!r}"
            errors.append(_problem(index, f"/epcisBody/eventList/{index}", why))
            continue
        item.hash_id = hash_id_of(pre_hash)
        item.digest = "0x" + item.hash_id.split(";", 1)[1].split("?", 1)[0]
        if item.hash_id in seen:
            errors.append(
                _problem(
                    index,
                    f"/epcisBody/eventList/{index}",
                    f"the same event as event {seen[item.hash_id]} (hash id {item.hash_id})",
                )
            )
            continue
        seen[item.hash_id] = index
        item.objects = authz.objects_of(event)
        if item.hash_id in signatures:
            reason = (
                "signed events need the anchoring domain, which is not configured"
                if domain is None
                else _verify_signature(session, org, domain, item, signatures[item.hash_id], chain)
            )
            if reason:
                errors.append(_problem(index, f"/epcisBody/eventList/{index}", reason))
                continue
        prepared.append(item)
    if prepared:
        stored = set(
            session.scalars(
                select(EpcisEvent.hash_id).where(
                    EpcisEvent.hash_id.in_([p.hash_id for p in prepared])
                )
            )
        )
        reasons = authz.refusals(
            session=session, org=org, events=[[uri for _, uri in p.objects] for p in prepared]
        )
        kept = []
        for item, refused in zip(prepared, reasons, strict=True):
            path = f"/epcisBody/eventList/{item.index}"
            if item.hash_id in stored:
                errors.append(_problem(item.index, path, f"already captured: {item.hash_id}"))
            elif refused:
                errors.extend(_problem(item.index, path, reason) for reason in refused)
            else:
                kept.append(item)
        prepared = kept
    errors.sort(key=lambda e: (e["eventIndex"], e["path"]))
    job = EpcisCapture(
        capture_id=str(uuid.uuid4()),
        org_id=org.id,
        error_behaviour=behaviour,
        event_count=len(events),
        running=False,
        success=not errors,
        errors=json.dumps(errors),
        finished_at=utcnow(),
    )
    session.add(job)
    session.flush()
    if prepared and (not errors or behaviour == PROCEED):
        _store(session, org, job, prepared)
        job.captured_count = len(prepared)
    session.commit()
    return job


def _store(
    session: Session, org: Organisation, job: EpcisCapture, prepared: Sequence[_Prepared]
) -> None:
    now = utcnow()
    for item in prepared:
        body = dict(item.event)
        client_id = body.get("eventID") if isinstance(body.get("eventID"), str) else None
        body.setdefault("eventID", item.hash_id)
        row = EpcisEvent(
            org_id=org.id,
            capture_id=job.id,
            digest=item.digest,
            hash_id=item.hash_id,
            client_event_id=client_id,
            record_time=now,
            document=json.dumps(body, separators=(",", ":"), ensure_ascii=False),
            signer=item.signer,
            signature=item.signature,
            **(item.values or {}),
        )
        session.add(row)
        session.flush()
        if item.objects:
            session.execute(
                insert(EpcisEventObject),
                [{"event_id": row.id, "uri": uri, "role": role} for role, uri in item.objects],
            )
        session.add(Outbox(topic=EPCIS_ANCHOR_TOPIC, ref_id=row.id, created_at=now))
