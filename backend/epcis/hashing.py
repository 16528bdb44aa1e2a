"""CBV 2.0 "EPCIS Event Hash ID" of the events this package builds.

The pre-hash string concatenates ``key=value`` pairs in the canonical property
order with no separators; lists are sorted; timestamps are UTC with milliseconds
and ``Z``; bare CBV terms become ``https://ref.gs1.org/cbv/...`` URIs; GS1
identifiers become constrained canonical Digital Links on id.gs1.org. The id is
``ni:///sha-256;<hex>?ver=CBV2.0`` (RFC 6920). ``eventID``, ``recordTime`` and
``errorDeclaration`` do not take part.

This covers the properties :mod:`backend.epcis.document` emits (Object and
Aggregation events without ILMD, sensor data or user extensions); an event with
any other property is rejected rather than hashed wrongly.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from backend.epcis.errors import EpcisError
from backend.epcis.identifiers import canonical_dl
from backend.epcis.vocabulary import BIZ_STEP_PREFIX, BTT_PREFIX, DISPOSITION_PREFIX, SDT_PREFIX

_IGNORED = frozenset({"@context", "type", "eventID", "recordTime", "errorDeclaration"})
_SUPPORTED = frozenset(
    {
        "eventTime",
        "eventTimeZoneOffset",
        "parentID",
        "epcList",
        "childEPCs",
        "quantityList",
        "childQuantityList",
        "action",
        "bizStep",
        "disposition",
        "readPoint",
        "bizLocation",
        "bizTransactionList",
        "sourceList",
        "destinationList",
    }
)


def _utc_millis(value: str) -> str:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise EpcisError(f"timestamp {value!r} has no UTC offset")
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _id(value: str) -> str:
    return canonical_dl(value) or value


def _vocab(value: str, prefix: str) -> str:
    return value if ":" in value else prefix + value


def _number(value: Any) -> str:
    number = Decimal(str(value)).normalize()
    text = format(number, "f")
    return text


def _quantity_elements(elements: list[Mapping[str, Any]]) -> str:
    parts = []
    for element in elements:
        text = "quantityElement" + f"epcClass={_id(element['epcClass'])}"
        if "quantity" in element:
            text += f"quantity={_number(element['quantity'])}"
        if "uom" in element:
            text += f"uom={element['uom']}"
        parts.append(text)
    return "".join(sorted(parts))


def _typed_list(items: list[Mapping[str, Any]], key: str, type_prefix: str) -> str:
    # Rule 13: the value first, then its type; entries sorted.
    parts = []
    for item in items:
        text = f"{key}={_id(item[key])}"
        if "type" in item:
            text += f"type={_vocab(item['type'], type_prefix)}"
        parts.append(text)
    return "".join(sorted(parts))


def pre_hash_string(event: Mapping[str, Any]) -> str:
    """The canonical pre-hash string of one EPCIS 2.0 JSON event."""
    unknown = set(event) - _SUPPORTED - _IGNORED
    if unknown:
        raise EpcisError(f"cannot hash event properties {sorted(unknown)}")
    out = [f"eventType={event['type']}"]
    out.append(f"eventTime={_utc_millis(event['eventTime'])}")
    out.append(f"eventTimeZoneOffset={event['eventTimeZoneOffset']}")
    if "parentID" in event:
        out.append(f"parentID={_id(event['parentID'])}")
    for key in ("epcList", "childEPCs"):
        if event.get(key):
            out.append(key + "".join(sorted(f"epc={_id(e)}" for e in event[key])))
    for key in ("quantityList", "childQuantityList"):
        if event.get(key):
            out.append(key + _quantity_elements(event[key]))
    out.append(f"action={event['action']}")
    if "bizStep" in event:
        out.append(f"bizStep={_vocab(event['bizStep'], BIZ_STEP_PREFIX)}")
    if "disposition" in event:
        out.append(f"disposition={_vocab(event['disposition'], DISPOSITION_PREFIX)}")
    for key in ("readPoint", "bizLocation"):
        if key in event:
            out.append(f"{key}id={_id(event[key]['id'])}")
    if event.get("bizTransactionList"):
        out.append(
            "bizTransactionList"
            + _typed_list(event["bizTransactionList"], "bizTransaction", BTT_PREFIX)
        )
    for key, item_key in (("sourceList", "source"), ("destinationList", "destination")):
        if event.get(key):
            out.append(key + _typed_list(event[key], item_key, SDT_PREFIX))
    return "".join(out)


def event_hash_id(event: Mapping[str, Any]) -> str:
    """``ni:///sha-256;…?ver=CBV2.0`` of one EPCIS 2.0 JSON event."""
    digest = hashlib.sha256(pre_hash_string(event).encode("utf-8")).hexdigest()
    return f"ni:///sha-256;{digest}?ver=CBV2.0"
