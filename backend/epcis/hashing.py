"""CBV 2.0 "EPCIS Event Hash ID" (CBV 2.0 §8.9) of any EPCIS 2.0 JSON-LD event.

The pre-hash string concatenates ``key=value`` pairs in the canonical property
order with no separators (:data:`CANONICAL_ORDER`, then ILMD, then user
extensions). Values are trimmed; lists are written once by name and their
entries sorted; timestamps are UTC, rounded to milliseconds, with ``Z``;
numbers lose trailing zeros; bare CBV terms, old ``urn:epcglobal:cbv:`` URNs and
CURIEs become full URIs; every GS1 identifier becomes its constrained canonical
Digital Link on id.gs1.org (:func:`backend.epcis.identifiers.canonical_dl`); a typed
entry (business transaction, source, destination) is written value first, then
``type``; ILMD and user extension elements are written ``{namespace}name=value``,
nested ones after their parent, sorted at every level, and extensions of
``readPoint``, ``bizLocation``, ``sensorElement``, ``sensorMetadata`` and
``sensorReport`` after that element's standard fields. ``eventID``, ``recordTime``,
``errorDeclaration`` and comments do not take part. The id is
``ni:///sha-256;<hex>?ver=CBV2.0`` (RFC 6920).

Namespace prefixes of CURIEs come from the EPCIS 2.0 context (``gs1``, ``cbv``,
``cbvmda``, ``epcis``, ...) and the ``@context`` of the document and of the event.
An extension with an undeclared prefix, an unprefixed unknown property or a
malformed timestamp raises :class:`~backend.epcis.errors.EpcisError` instead of
being hashed wrongly.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from backend.epcis.errors import EpcisError
from backend.epcis.identifiers import canonical_dl
from backend.epcis.vocabulary import (
    BIZ_STEP_PREFIX,
    BTT_PREFIX,
    CBV_BASE,
    DISPOSITION_PREFIX,
    SDT_PREFIX,
)

GS1_VOC = "https://gs1.org/voc/"
COMPONENT_PREFIX = CBV_BASE + "Comp-"
ER_PREFIX = CBV_BASE + "ER-"

# Prefixes the GS1 EPCIS 2.0 JSON-LD context defines.
EPCIS_CONTEXT_PREFIXES: dict[str, str] = {
    "epcis": "https://ref.gs1.org/epcis/",
    "cbv": CBV_BASE,
    "cbvmda": "urn:epcglobal:cbv:mda:",
    "gs1": GS1_VOC,
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "dcterms": "http://purl.org/dc/terms/",
}

_URN_VOCAB = (
    ("urn:epcglobal:cbv:bizstep:", BIZ_STEP_PREFIX),
    ("urn:epcglobal:cbv:disp:", DISPOSITION_PREFIX),
    ("urn:epcglobal:cbv:btt:", BTT_PREFIX),
    ("urn:epcglobal:cbv:sdt:", SDT_PREFIX),
    ("urn:epcglobal:cbv:er:", ER_PREFIX),
)

_IGNORED = frozenset(
    {"@context", "type", "eventID", "recordTime", "errorDeclaration", "rdfs:comment", "comment"}
)
_EPC_LISTS = ("epcList", "inputEPCList", "childEPCs", "outputEPCList")
_QUANTITY_LISTS = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")

CANONICAL_ORDER = (
    "eventTime",
    "eventTimeZoneOffset",
    "certificationInfo",
    "parentID",
    "epcList",
    "inputEPCList",
    "childEPCs",
    "quantityList",
    "childQuantityList",
    "inputQuantityList",
    "outputEPCList",
    "outputQuantityList",
    "action",
    "transformationID",
    "bizStep",
    "disposition",
    "persistentDisposition",
    "readPoint",
    "bizLocation",
    "bizTransactionList",
    "sourceList",
    "destinationList",
    "sensorElementList",
    "ilmd",
)
_STANDARD = frozenset(CANONICAL_ORDER)

SENSOR_METADATA_ORDER = (
    "time",
    "startTime",
    "endTime",
    "deviceID",
    "deviceMetadata",
    "rawData",
    "dataProcessingMethod",
    "bizRules",
)
SENSOR_REPORT_ORDER = (
    "type",
    "exception",
    "deviceID",
    "deviceMetadata",
    "rawData",
    "dataProcessingMethod",
    "time",
    "microorganism",
    "chemicalSubstance",
    "value",
    "component",
    "stringValue",
    "booleanValue",
    "hexBinaryValue",
    "uriValue",
    "minValue",
    "maxValue",
    "meanValue",
    "sDev",
    "percRank",
    "percValue",
    "uom",
    "coordinateReferenceSystem",
)
_TIME_FIELDS = frozenset({"time", "startTime", "endTime"})
_TIMESTAMP = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|z|[+-]\d{2}:\d{2})$")
_CURIE = re.compile(r"^([A-Za-z][A-Za-z0-9_.-]*):(?!//)(.*)$")


def utc_millis(value: str) -> str:
    """Rule 8/9: a timestamp in UTC with millisecond precision (rounded half up) and ``Z``."""
    m = _TIMESTAMP.match(value.strip())
    if m is None:
        raise EpcisError(f"timestamp {value!r} is not an ISO 8601 date-time with a UTC offset")
    whole, fraction, offset = m.groups()
    offset = "+00:00" if offset in ("Z", "z") else offset
    try:
        moment = datetime.fromisoformat(whole + offset).astimezone(UTC)
    except ValueError as exc:
        raise EpcisError(f"timestamp {value!r} is not a valid date-time") from exc
    millis = Decimal(fraction or "0").scaleb(3).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    moment += timedelta(milliseconds=int(millis))
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _number(value: int | float | Decimal) -> str:
    """Rule 6: no trailing zeros, no exponent; exact (no rounding to a context precision)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    try:
        number = Decimal(str(value))
    except InvalidOperation as exc:
        raise EpcisError(f"{value!r} is not a number") from exc
    if not number.is_finite():
        raise EpcisError(f"{value!r} is not a finite number")
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


class Canon:
    """The value and key rewriting of one event, given its namespace prefixes."""

    def __init__(self, prefixes: Mapping[str, str]) -> None:
        self.prefixes = prefixes

    def iri(self, text: str) -> str:
        """Rules 14, 15, 17, 18: CBV URNs, CURIEs and GS1 identifiers as canonical URIs."""
        for urn, web in _URN_VOCAB:
            if text.startswith(urn):
                return web + text[len(urn) :]
        if (m := _CURIE.match(text)) and m.group(1) in self.prefixes:
            text = self.prefixes[m.group(1)] + m.group(2)
        return canonical_dl(text) or text

    def value(self, raw: Any) -> str:
        if isinstance(raw, bool):
            return "true" if raw else "false"
        if isinstance(raw, int | float):
            return _number(raw)
        if not isinstance(raw, str):
            raise EpcisError(f"expected a text or number value, got {type(raw).__name__}")
        return self.iri(raw.strip())

    def vocab(self, raw: Any, prefix: str) -> str:
        """Rule 16: a bare CBV/GS1 term expands to its web vocabulary URI."""
        text = self.value(raw)
        return text if ":" in text else prefix + text

    def key(self, name: str) -> str:
        """Rules 19-21: an extension key as ``{namespace}local``."""
        if m := _CURIE.match(name):
            prefix, local = m.groups()
            if prefix in self.prefixes:
                return "{" + self.prefixes[prefix] + "}" + local
            if name.startswith(("http:", "https:", "urn:")):
                cut = max(name.rfind("/"), name.rfind("#"), name.rfind(":")) + 1
                return "{" + name[:cut] + "}" + name[cut:]
            raise EpcisError(f"extension {name!r} uses an undeclared namespace prefix {prefix!r}")
        raise EpcisError(f"{name!r} is neither an EPCIS property nor a namespaced extension")

    def extension(self, name: str, raw: Any) -> list[str]:
        """One extension element (a list gives one element per entry), children sorted."""
        key = self.key(name)
        if isinstance(raw, list):
            return [text for item in raw for text in self.extension(name, item)]
        if isinstance(raw, Mapping):
            return [key + self.extensions(raw)]
        if raw is None:
            return [key]
        text = self.value(raw)
        return [f"{key}={text}" if text else key]

    def extensions(self, fields: Mapping[str, Any], skip: frozenset[str] = frozenset()) -> str:
        parts: list[str] = []
        for name, raw in fields.items():
            if name in skip or name in ("@context", "rdfs:comment", "comment") or name == "#text":
                continue
            parts.extend(self.extension(name, raw))
        return "".join(sorted(parts))


def _kv(key: str, text: str) -> str:
    return f"{key}={text}" if text else ""


def _ordered(
    canon: Canon, obj: Mapping[str, Any], order: Sequence[str], special: Callable[[str, Any], str]
) -> str:
    """Fields of a standard element in their order, then its extensions (rule 21)."""
    out = []
    for key in order:
        if key in obj and obj[key] is not None:
            out.append(special(key, obj[key]))
    return "".join(out) + canon.extensions(obj, skip=frozenset(order))


def _sensor_element(canon: Canon, element: Mapping[str, Any]) -> str:
    def field(key: str, raw: Any) -> str:
        if key in _TIME_FIELDS:
            return _kv(key, utc_millis(raw))
        if key == "type":
            return _kv(key, canon.vocab(raw, GS1_VOC))
        if key == "exception":
            return _kv(key, canon.vocab(raw, GS1_VOC))
        if key == "component":
            return _kv(key, canon.vocab(raw, COMPONENT_PREFIX))
        return _kv(key, canon.value(raw))

    text = "sensorElement"
    if isinstance(element.get("sensorMetadata"), Mapping):
        text += "sensorMetadata" + _ordered(
            canon, element["sensorMetadata"], SENSOR_METADATA_ORDER, field
        )
    reports = [
        "sensorReport" + _ordered(canon, report, SENSOR_REPORT_ORDER, field)
        for report in element.get("sensorReport") or []
    ]
    text += "".join(sorted(reports))
    return text + canon.extensions(element, skip=frozenset({"sensorMetadata", "sensorReport"}))


def _typed_list(canon: Canon, items: Sequence[Mapping[str, Any]], key: str, prefix: str) -> str:
    # Rule 13: the value first, then its type; then the entries are sorted.
    parts = []
    for item in items:
        text = _kv(key, canon.value(item[key]))
        if item.get("type"):
            text += _kv("type", canon.vocab(item["type"], prefix))
        parts.append(text)
    return "".join(sorted(parts))


def _quantities(canon: Canon, elements: Sequence[Mapping[str, Any]]) -> str:
    parts = []
    for element in elements:
        text = "quantityElement" + _kv("epcClass", canon.value(element["epcClass"]))
        if element.get("quantity") is not None:
            text += _kv("quantity", _number(element["quantity"]))
        if element.get("uom"):
            text += _kv("uom", canon.value(element["uom"]))
        parts.append(text)
    return "".join(sorted(parts))


def _segment(canon: Canon, key: str, raw: Any) -> str:
    if key == "eventTime":
        return _kv(key, utc_millis(raw))
    if key in _EPC_LISTS:
        return key + "".join(sorted(_kv("epc", canon.value(e)) for e in raw)) if raw else ""
    if key in _QUANTITY_LISTS:
        return key + _quantities(canon, raw) if raw else ""
    if key in ("bizStep", "disposition"):
        return _kv(
            key, canon.vocab(raw, BIZ_STEP_PREFIX if key == "bizStep" else DISPOSITION_PREFIX)
        )
    if key == "persistentDisposition":
        body = "".join(
            "".join(
                sorted(_kv(part, canon.vocab(v, DISPOSITION_PREFIX)) for v in raw.get(part) or [])
            )
            for part in ("set", "unset")
        )
        return key + body if body else ""
    if key in ("readPoint", "bizLocation"):
        return (
            key + _kv("id", canon.value(raw["id"])) + canon.extensions(raw, skip=frozenset({"id"}))
        )
    if key == "bizTransactionList":
        return key + _typed_list(canon, raw, "bizTransaction", BTT_PREFIX) if raw else ""
    if key in ("sourceList", "destinationList"):
        item = key.removesuffix("List")
        return key + _typed_list(canon, raw, item, SDT_PREFIX) if raw else ""
    if key == "sensorElementList":
        return key + "".join(sorted(_sensor_element(canon, e) for e in raw)) if raw else ""
    if key == "ilmd":
        return key + canon.extensions(raw) if raw else ""
    if key == "certificationInfo":
        values = raw if isinstance(raw, list) else [raw]
        return "".join(sorted(_kv(key, canon.value(v)) for v in values))
    return _kv(key, canon.value(raw))


def namespace_prefixes(*contexts: Any) -> dict[str, str]:
    """CURIE prefixes: the EPCIS 2.0 context's, then those of each ``@context`` given."""
    prefixes = dict(EPCIS_CONTEXT_PREFIXES)
    for context in contexts:
        entries = context if isinstance(context, list) else [context]
        for entry in entries:
            if isinstance(entry, Mapping):
                prefixes.update({k: v for k, v in entry.items() if isinstance(v, str)})
    return prefixes


def pre_hash_segments(event: Mapping[str, Any], context: Any = None) -> list[tuple[str, str]]:
    """``(property, text)`` of every property that takes part, in pre-hash order.

    ``context`` is the ``@context`` of the enclosing EPCISDocument (for CURIE prefixes).
    """
    canon = Canon(namespace_prefixes(context, event.get("@context")))
    if not isinstance(event.get("type"), str) or not isinstance(event.get("eventTime"), str):
        raise EpcisError("an event needs a type and an eventTime")
    out = [("eventType", f"eventType={event['type']}")]
    for key in CANONICAL_ORDER:
        if key in event and event[key] is not None:
            text = _segment(canon, key, event[key])
            if text:
                out.append((key, text))
    extension_keys = set(event) - _STANDARD - _IGNORED
    if extension_keys:
        rest = {k: event[k] for k in event if k in extension_keys}
        out.append(("extensions", canon.extensions(rest)))
    return out


def pre_hash_string(event: Mapping[str, Any], context: Any = None) -> str:
    """The canonical pre-hash string of one EPCIS 2.0 JSON event."""
    return "".join(text for _, text in pre_hash_segments(event, context))


def hash_id_of(pre_hash: str) -> str:
    digest = hashlib.sha256(pre_hash.encode("utf-8")).hexdigest()
    return f"ni:///sha-256;{digest}?ver=CBV2.0"


def event_hash_id(event: Mapping[str, Any], context: Any = None) -> str:
    """``ni:///sha-256;…?ver=CBV2.0`` of one EPCIS 2.0 JSON event."""
    return hash_id_of(pre_hash_string(event, context))
