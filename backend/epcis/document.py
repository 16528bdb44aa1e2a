"""Build EPCIS 2.0 JSON-LD documents from Waymark supply events."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema

from backend.epcis.errors import EpcisError, SchemaError
from backend.epcis.hashing import event_hash_id
from backend.epcis.identifiers import (
    IdStyle,
    Location,
    LocodeLocation,
    class_uri,
    item_uri,
    location_uri,
    party_uri,
    sscc_uri,
)
from backend.epcis.vocabulary import (
    MILESTONE_CBV,
    PACKING,
    UNPACKING,
    MilestoneCode,
    exception_cbv,
)
from backend.gs1.digital_link import DigitalLink

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
SCHEMA_PATH = Path(__file__).resolve().parent / "schema" / "EPCIS-JSON-Schema.json"


@dataclass(frozen=True, slots=True)
class Quantity:
    """A quantity of a class (GTIN, or GTIN + lot) of items, e.g. 120 units or 4.5 kg."""

    item: DigitalLink
    quantity: Decimal
    uom: str | None = None  # UN/ECE rec. 20 code (KGM, LTR); None means a count


@dataclass(frozen=True, slots=True)
class BizTransaction:
    """A business document the event relates to; ``kind`` is a CBV term (bol, po, inv…)."""

    kind: str
    owner_gln: str
    reference: str

    @property
    def uri(self) -> str:
        return f"urn:epcglobal:cbv:bt:{self.owner_gln}:{self.reference}"


@dataclass(frozen=True, slots=True)
class Party:
    """A source or destination of a transfer: who owns or holds the goods, or where to.

    ``kind`` is a CBV source/destination type: ``owning_party``, ``possessing_party``
    (both identified by a party GLN) or ``location`` (a GLN-identified place).
    """

    kind: str
    gln: str

    def __post_init__(self) -> None:
        if self.kind not in ("owning_party", "possessing_party", "location"):
            raise EpcisError(f"unknown source/destination type {self.kind!r}")


@dataclass(frozen=True, slots=True)
class MilestoneEvent:
    """A shipment milestone observed for some items (→ ObjectEvent, action OBSERVE)."""

    milestone: MilestoneCode
    at: datetime
    read_point: Location | LocodeLocation | None  # None: the signer did not say where
    items: tuple[DigitalLink, ...] = ()
    quantities: tuple[Quantity, ...] = ()
    biz_location: Location | LocodeLocation | None = None
    transactions: tuple[BizTransaction, ...] = ()
    sources: tuple[Party, ...] = ()
    destinations: tuple[Party, ...] = ()
    reason_code: int = 0  # EXCEPTION only: 1 delayed, 2 damaged, 3 lost, 4 other


@dataclass(frozen=True, slots=True)
class PackingEvent:
    """Items packed into (``packed=True``) or unpacked from a logistic unit (SSCC)."""

    sscc: str
    at: datetime
    read_point: Location
    packed: bool
    items: tuple[DigitalLink, ...] = ()
    quantities: tuple[Quantity, ...] = ()
    transactions: tuple[BizTransaction, ...] = ()


SupplyEvent = MilestoneEvent | PackingEvent


def _time(at: datetime) -> tuple[str, str]:
    if at.tzinfo is None or at.utcoffset() is None:
        raise EpcisError(f"event time {at.isoformat()} has no UTC offset")
    offset = at.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    hh, mm = divmod(abs(minutes), 60)
    stamp = at.isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z") if minutes == 0 else stamp, f"{sign}{hh:02d}:{mm:02d}"


def _quantity_list(quantities: Sequence[Quantity], style: IdStyle, gcp: int) -> list[dict]:
    out = []
    for q in quantities:
        element: dict[str, Any] = {"epcClass": class_uri(q.item, style, gcp_length=gcp)}
        element["quantity"] = float(q.quantity) if q.quantity % 1 else int(q.quantity)
        if q.uom is not None:
            element["uom"] = q.uom
        out.append(element)
    return out


def _transactions(transactions: Sequence[BizTransaction]) -> list[dict[str, str]]:
    # Value before type: the order CBV 2.0 hashing rule 13 concatenates them in.
    return [{"bizTransaction": t.uri, "type": t.kind} for t in transactions]


def _parties(parties: Sequence[Party], key: str, style: IdStyle, gcp: int) -> list[dict]:
    out = []
    for p in parties:
        if p.kind == "location":
            uri = location_uri(Location(p.gln), style, gcp_length=gcp)
        else:
            uri = party_uri(p.gln, style, gcp_length=gcp)
        out.append({key: uri, "type": p.kind})
    return out


def event_json(event: SupplyEvent, *, style: IdStyle, gcp_length: int = 7) -> dict[str, Any]:
    """One EPCIS 2.0 event (JSON-LD, bare CBV terms) with its hash id as ``eventID``."""
    if not event.items and not event.quantities:
        raise EpcisError("an event must name at least one item or quantity")
    time, offset = _time(event.at)
    epcs = [item_uri(i, style, gcp_length=gcp_length) for i in event.items]
    if len(set(epcs)) != len(epcs):
        raise EpcisError("an item appears twice in one event")
    out: dict[str, Any]
    if isinstance(event, MilestoneEvent):
        cbv = (
            exception_cbv(event.reason_code)
            if event.milestone is MilestoneCode.EXCEPTION
            else MILESTONE_CBV[event.milestone]
        )
        out = {"type": "ObjectEvent", "eventTime": time, "eventTimeZoneOffset": offset}
        out["epcList"] = epcs
        if event.quantities:
            out["quantityList"] = _quantity_list(event.quantities, style, gcp_length)
        out["action"] = "OBSERVE"
    else:
        cbv = PACKING if event.packed else UNPACKING
        out = {"type": "AggregationEvent", "eventTime": time, "eventTimeZoneOffset": offset}
        out["parentID"] = sscc_uri(event.sscc, style, gcp_length=gcp_length)
        if epcs:
            out["childEPCs"] = epcs
        if event.quantities:
            out["childQuantityList"] = _quantity_list(event.quantities, style, gcp_length)
        out["action"] = "ADD" if event.packed else "DELETE"
    out["bizStep"] = cbv.biz_step
    out["disposition"] = cbv.disposition
    if event.read_point is not None:
        out["readPoint"] = {"id": location_uri(event.read_point, style, gcp_length=gcp_length)}
    biz_location = getattr(event, "biz_location", None)
    if biz_location is not None:
        out["bizLocation"] = {"id": location_uri(biz_location, style, gcp_length=gcp_length)}
    if event.transactions:
        out["bizTransactionList"] = _transactions(event.transactions)
    if isinstance(event, MilestoneEvent):
        if event.sources:
            out["sourceList"] = _parties(event.sources, "source", style, gcp_length)
        if event.destinations:
            out["destinationList"] = _parties(event.destinations, "destination", style, gcp_length)
    return {"eventID": event_hash_id(out), **out}


def epcis_document(
    events: Sequence[SupplyEvent],
    *,
    style: IdStyle = IdStyle.DIGITAL_LINK,
    gcp_length: int = 7,
    created_at: datetime | None = None,
    validate: bool = True,
) -> dict[str, Any]:
    """An ``EPCISDocument`` holding ``events`` in order, validated against the GS1 schema."""
    created = (created_at or datetime.now(UTC)).astimezone(UTC)
    document = {
        "@context": [EPCIS_CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": created.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "epcisBody": {
            "eventList": [event_json(e, style=style, gcp_length=gcp_length) for e in events]
        },
    }
    if validate:
        validate_document(document)
    return document


@lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft7Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(
        schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )


def _line(error: jsonschema.ValidationError) -> str:
    # A oneOf/anyOf failure says "<the whole value> is not valid under any of the given
    # schemas"; name the alternatives instead, at the most relevant one's path.
    path, message = error.absolute_path, error.message
    if error.context:
        best = jsonschema.exceptions.best_match(error.context)
        if best is not None:
            path = best.absolute_path
        alternatives = list(dict.fromkeys(c.message[:200] for c in error.context))
        message = "; or ".join(alternatives[:5])
    return f"/{'/'.join(str(p) for p in path)}: {message}"


def schema_errors(document: Any) -> list[str]:
    """Every violation of the GS1 EPCIS 2.0 JSON schema, as ``path: message`` lines."""
    errors = sorted(_validator().iter_errors(document), key=lambda e: list(e.absolute_path))
    return [_line(e) for e in errors]


def validate_document(document: Any) -> None:
    """Raise :class:`SchemaError` unless ``document`` validates."""
    errors = schema_errors(document)
    if errors:
        raise SchemaError(errors)
