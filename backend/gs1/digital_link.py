"""GS1 Digital Link URIs for trade items and logistic units: parse, validate, build.

Supported shape (GS1 Digital Link URI Syntax 1.2, uncompressed form)::

    https://<host>[/<any prefix>]/01/{GTIN}[/22/{cpv}][/10/{lot}][/21/{serial}][?<query>]
    https://<host>[/<any prefix>]/01/{GTIN}/235/{tpx}[?<query>]
    https://<host>[/<any prefix>]/00/{SSCC}[?<query>]

* The primary key is the rightmost ``/AI/value`` pair whose AI is a GS1 primary
  key, reached by walking back over known AIs; whatever precedes it is a custom
  path prefix and is dropped from the canonical form.
* The GTIN may be 8, 12, 13 or 14 digits; it is validated (mod-10 check digit)
  and normalised to 14 digits. The SSCC is 18 digits with its check digit.
* Key qualifiers of a GTIN: consumer product variant (AI 22), lot (AI 10) and
  serial (AI 21) in that order, or alone the third-party controlled serial
  extension (AI 235). Decoded values use GS1 AI encodable character set 82.
* Query: ``linkType`` picks a link (an unsupported one means the default link,
  as the GS1-Conformant resolver standard asks); numeric parameters are GS1 data
  attributes and must be known AIs with a valid value, each once, and not a key
  qualifier that belongs in the path; other parameters (``utm_source``,
  ``fbclid``, parameters without a value, empty ``&&``) are ignored.
* Values are percent-decoded on parse (``+`` is a space in the query, itself in
  the path); on build every character outside the URI unreserved set is
  percent-encoded, which yields the canonical form GS1 specifies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import StrEnum
from urllib.parse import quote, unquote, urlsplit

from eth_hash.auto import keccak

from backend.gs1.ai import AIS, PRIMARY_KEYS, qualifier_sequence_allowed, value_problem
from backend.gs1.errors import DigitalLinkError
from backend.gs1.gtin import normalise_gtin
from backend.gs1.sscc import SsccInvalid, validate_sscc

CANONICAL_HOST = "https://id.gs1.org"

# GS1 General Specifications, figure 7.11-1: AI encodable character set 82.
CSET82 = frozenset(
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
)
LOT_MAX = 20
SERIAL_MAX = 20
CPV_MAX = 20
TPX_MAX = 28
MAX_QUERY_ATTRIBUTES = 64
MAX_URI_LENGTH = 2048

GS1_VOC = "https://gs1.org/voc/"
LINK_TYPES = (
    "gs1:pip",
    "gs1:traceability",
    "gs1:epcis",
    "gs1:certificationInfo",
    "gs1:sustainabilityInfo",
)
LINK_TYPE_ALL = "all"
# UN Transparency Protocol link type of a Digital Product Passport credential.
UNTP_LINK_TYPES = "https://test.uncefact.org/vocabulary/linkTypes/"
UNTP_DPP = "untp:dpp"

_QUALIFIERS = {
    "22": ("cpv", CPV_MAX),
    "10": ("lot", LOT_MAX),
    "21": ("serial", SERIAL_MAX),
    "235": ("tpx", TPX_MAX),
}
_AI_NAMES = {"01": "GTIN", "00": "SSCC", "22": "cpv", "10": "lot", "21": "serial", "235": "tpx"}
_PERCENT_TRIPLET = re.compile(r"%(?![0-9A-Fa-f]{2})")


class KeyLevel(StrEnum):
    """What a key identifies: a product model (GTIN), a batch (+ lot) or an item (+ serial)."""

    MODEL = "model"
    BATCH = "batch"
    ITEM = "item"


@dataclass(frozen=True, slots=True)
class DigitalLink:
    """A validated trade-item Digital Link; ``gtin`` is always 14 digits."""

    gtin: str
    lot: str | None = None
    serial: str | None = None
    link_type: str | None = None
    # Consumer product variant (AI 22) and third-party controlled serial extension
    # (AI 235): accepted in links; passports are kept per GTIN, lot and serial.
    cpv: str | None = None
    tpx: str | None = None
    # GS1 data attributes from the query string (AI, decoded value), in order.
    attributes: tuple[tuple[str, str], ...] = ()

    @property
    def path(self) -> str:
        """The AI path, values percent-encoded: ``/01/…[/22/…][/10/…][/21/…]`` or ``/235/…``."""
        parts = [f"/01/{self.gtin}"]
        if self.cpv is not None:
            parts.append(f"/22/{encode_value(self.cpv)}")
        if self.tpx is not None:
            parts.append(f"/235/{encode_value(self.tpx)}")
        if self.lot is not None:
            parts.append(f"/10/{encode_value(self.lot)}")
        if self.serial is not None:
            parts.append(f"/21/{encode_value(self.serial)}")
        return "".join(parts)

    def uri(self, base: str = CANONICAL_HOST, *, with_link_type: bool = True) -> str:
        """The full URI on ``base`` (scheme, host and optional path prefix)."""
        query = f"?linkType={self.link_type}" if with_link_type and self.link_type else ""
        return f"{base.rstrip('/')}{self.path}{query}"

    @property
    def canonical(self) -> str:
        """The canonical GS1 form on id.gs1.org, without query string."""
        return self.uri(CANONICAL_HOST, with_link_type=False)

    @property
    def hri(self) -> str:
        """Human-readable interpretation printed under a symbol: ``(01) … (10) … (21) …``."""
        text = f"(01) {self.gtin}"
        if self.lot is not None:
            text += f" (10) {self.lot}"
        if self.serial is not None:
            text += f" (21) {self.serial}"
        return text

    def without_link_type(self) -> DigitalLink:
        return replace(self, link_type=None, attributes=())

    @property
    def level(self) -> KeyLevel:
        """The one level rule: a serial makes an item, a lot a batch, a bare GTIN a model."""
        if self.serial is not None:
            return KeyLevel.ITEM
        if self.lot is not None:
            return KeyLevel.BATCH
        return KeyLevel.MODEL

    @property
    def passport_id(self) -> bytes:
        """The one passport-id rule: keccak256 of the canonical GTIN/lot/serial path (ASCII)."""
        return keccak(DigitalLink(self.gtin, self.lot, self.serial).path.encode("ascii"))

    def fallbacks(self) -> list[DigitalLink]:
        """This key and the less specific ones a resolver falls back to: item → batch → model."""
        out: list[DigitalLink] = []
        if self.serial is not None:
            out.append(DigitalLink(self.gtin, self.lot, self.serial))
        if self.lot is not None:
            out.append(DigitalLink(self.gtin, self.lot))
        out.append(DigitalLink(self.gtin))
        return out


def encode_value(value: str) -> str:
    """Percent-encode an AI value for a URI path segment (canonical GS1 form)."""
    return quote(value, safe="")


def validate_qualifier(ai: str, value: str) -> str:
    """Check a decoded key qualifier (22, 10, 21, 235) against CSET 82 and its length."""
    name, max_len = _QUALIFIERS[ai]
    if value == "":
        raise DigitalLinkError(f"{name} (AI {ai}) is empty", field=name)
    for ch in value:
        if ch not in CSET82:
            raise DigitalLinkError(
                f"{name} contains a character outside GS1 AI encodable set 82: {ch!r}",
                field=name,
            )
    if len(value) > max_len:
        raise DigitalLinkError(
            f"{name} is {len(value)} characters long; AI {ai} allows at most {max_len}",
            field=name,
        )
    return value


def link_type_or_default(value: str) -> str | None:
    """A supported link type in CURIE form, or ``None`` (the default link) for any other.

    The GS1-Conformant resolver standard answers the default link when the
    requested link type is not available, rather than an error.
    """
    try:
        return normalise_link_type(value)
    except DigitalLinkError:
        return None


def normalise_link_type(value: str) -> str:
    """Accept ``gs1:pip`` or ``https://gs1.org/voc/pip``; return the CURIE form."""
    link_type = value.strip()
    if link_type.startswith(GS1_VOC):
        link_type = "gs1:" + link_type[len(GS1_VOC) :]
    elif link_type.startswith(UNTP_LINK_TYPES):
        link_type = "untp:" + link_type[len(UNTP_LINK_TYPES) :]
    if link_type in (LINK_TYPE_ALL, UNTP_DPP) or link_type in LINK_TYPES:
        return link_type
    supported = ", ".join((*LINK_TYPES, UNTP_DPP, LINK_TYPE_ALL))
    raise DigitalLinkError(
        f"linkType {value!r} is not supported; use one of: {supported}", field="linkType"
    )


def build_digital_link(
    gtin: str,
    *,
    lot: str | None = None,
    serial: str | None = None,
    link_type: str | None = None,
) -> DigitalLink:
    """Validate raw (decoded) values and return a :class:`DigitalLink`."""
    return DigitalLink(
        gtin=normalise_gtin(gtin),
        lot=None if lot is None else validate_qualifier("10", lot),
        serial=None if serial is None else validate_qualifier("21", serial),
        link_type=None if link_type is None else normalise_link_type(link_type),
    )


def _decode(segment: str, name: str) -> str:
    if _PERCENT_TRIPLET.search(segment):
        raise DigitalLinkError(
            f"{name} has a malformed percent-encoding in {segment!r}", field=name
        )
    try:
        return unquote(segment, encoding="utf-8", errors="strict")
    except UnicodeDecodeError as exc:
        raise DigitalLinkError(f"{name} is not valid UTF-8 once decoded", field=name) from exc


def _segments(path: str) -> list[str]:
    segments = path.split("/")
    if segments and segments[0] == "":
        segments = segments[1:]
    if segments and segments[-1] == "":
        segments = segments[:-1]  # one trailing slash is tolerated
    if "" in segments:
        raise DigitalLinkError("path contains an empty segment ('//')", field="path")
    return segments


def _key_start(segments: list[str]) -> int:
    """Index of the rightmost primary key reached walking back over ``/AI/value`` pairs."""
    i = len(segments) - 2
    while i >= 0 and segments[i] in AIS:
        if segments[i] in PRIMARY_KEYS:
            return i
        i -= 2
    # Not a well-formed pair sequence: name what is wrong after the rightmost key.
    for j in range(len(segments) - 1, -1, -1):
        if segments[j] in ("01", "00"):
            if j == len(segments) - 1:
                name, field = ("GTIN", "gtin") if segments[j] == "01" else ("SSCC", "sscc")
                raise DigitalLinkError(f"{name} is missing after '/{segments[j]}/'", field=field)
            return j
    raise DigitalLinkError(
        "no GTIN: a Digital Link path must contain '/01/{GTIN}' (or '/00/{SSCC}' for a "
        "logistic unit), optionally followed by key qualifiers",
        field="gtin",
    )


@dataclass(frozen=True, slots=True)
class SsccLink:
    """A validated logistic-unit Digital Link ``/00/{sscc}``."""

    sscc: str
    attributes: tuple[tuple[str, str], ...] = ()

    @property
    def path(self) -> str:
        return f"/00/{self.sscc}"


def _sscc(raw: str) -> str:
    try:
        return validate_sscc(_decode(raw, "sscc"))
    except SsccInvalid as exc:
        raise DigitalLinkError(str(exc), field="sscc") from None


def parse_link(path: str, query: str = "") -> DigitalLink | SsccLink:
    """Parse a resolver path with either primary key (GTIN or SSCC), query included."""
    segments = _segments(path)
    start = _key_start(segments)
    key, rest = segments[start], segments[start + 1 :]
    if key == "00":
        if len(rest) != 1:
            raise DigitalLinkError("an SSCC takes no key qualifiers", field="path")
        sscc = _sscc(rest[0])
        _, attributes = parse_query(query, key="00", path_ais=["00"])
        return SsccLink(sscc, attributes)
    if key != "01":
        raise DigitalLinkError(f"AI {key} is a GS1 key this resolver does not serve", field="path")
    gtin = normalise_gtin(_decode(rest[0], "GTIN"))
    pairs = rest[1:]
    if len(pairs) % 2:
        raise DigitalLinkError(
            f"AI {pairs[-1]!r} has no value: the path must alternate AI and value", field="path"
        )
    ais = pairs[0::2]
    for ai in ais:
        if ai not in _QUALIFIERS:
            raise DigitalLinkError(
                f"AI {ai!r} is not a key qualifier of a GTIN; expected 22 (cpv), 10 (lot), "
                "21 (serial) or 235 (tpx)",
                field="path",
            )
    if len(set(ais)) != len(ais):
        raise DigitalLinkError("a key qualifier appears twice in the path", field="path")
    if not qualifier_sequence_allowed("01", ais):
        raise DigitalLinkError(
            "key qualifiers of a GTIN go in the order 22 (cpv), 10 (lot), 21 (serial); "
            "235 (tpx) stands alone",
            field="path",
        )
    values: dict[str, str] = {}
    for ai, raw in zip(ais, pairs[1::2], strict=True):
        values[ai] = validate_qualifier(ai, _decode(raw, _QUALIFIERS[ai][0]))
    link_type, attributes = parse_query(query, key="01", path_ais=["01", *ais])
    return DigitalLink(
        gtin=gtin,
        lot=values.get("10"),
        serial=values.get("21"),
        link_type=link_type,
        cpv=values.get("22"),
        tpx=values.get("235"),
        attributes=attributes,
    )


def parse_path(path: str, query: str = "") -> DigitalLink:
    """Parse the path (and query string) of a trade-item Digital Link as served by a resolver."""
    link = parse_link(path, query)
    if not isinstance(link, DigitalLink):
        raise DigitalLinkError("no GTIN: this is an SSCC link ('/00/')", field="gtin")
    return link


def _query_value(ai: str, raw: str) -> str:
    if _PERCENT_TRIPLET.search(raw):
        raise DigitalLinkError(f"AI {ai} has a malformed percent-encoding", field=ai)
    try:
        return unquote(raw.replace("+", " "), encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise DigitalLinkError(f"AI {ai} is not valid UTF-8 once decoded", field=ai) from None


def parse_query(
    query: str, *, key: str, path_ais: list[str]
) -> tuple[str | None, tuple[tuple[str, str], ...]]:
    """``linkType`` and the validated GS1 data attributes of a Digital Link query string."""
    link_type: str | None = None
    seen_link_type = False
    attributes: list[tuple[str, str]] = []
    seen = set(path_ais)
    qualifiers = [ai for ai in path_ais[1:]]
    for part in query.split("&"):
        if "=" not in part:
            continue  # empty ('&&', a trailing '&') or valueless ('?fbclid'): not GS1 data
        name, raw = part.split("=", 1)
        if name == "linkType":
            if seen_link_type:
                raise DigitalLinkError("linkType appears more than once", field="linkType")
            seen_link_type = True
            link_type = link_type_or_default(_query_value("linkType", raw))
            continue
        if not name.isascii() or not name.isdigit():
            continue  # not a GS1 attribute (utm_source, context, lang, …)
        ai = AIS.get(name)
        if ai is None:
            raise DigitalLinkError(
                f"AI {name} in the query is not a GS1 Application Identifier", field=name
            )
        if name in seen:
            raise DigitalLinkError(f"AI {name} appears more than once in the link", field=name)
        seen.add(name)
        if name in _QUALIFIERS and qualifier_sequence_allowed(
            key, sorted_qualifiers(key, [*qualifiers, name])
        ):
            raise DigitalLinkError(
                f"AI {name} is a key qualifier: it belongs in the path, not the query",
                field=name,
            )
        value = _query_value(name, raw)
        problem = value_problem(ai, value)
        if problem is not None:
            raise DigitalLinkError(f"AI {name} ({ai.title}) {problem}", field=name)
        attributes.append((name, value))
        if len(attributes) > MAX_QUERY_ATTRIBUTES:
            raise DigitalLinkError(
                f"more than {MAX_QUERY_ATTRIBUTES} GS1 attributes in the query", field="query"
            )
    return link_type, tuple(attributes)


def sorted_qualifiers(key: str, ais: list[str]) -> list[str]:
    """``ais`` in the standard order of ``key``'s qualifiers (for "would it fit the path")."""
    order = {"22": 0, "10": 1, "21": 2, "235": 3} if key == "01" else {}
    return sorted(ais, key=lambda ai: order.get(ai, 99))


def parse_digital_link(uri: str) -> DigitalLink:
    """Parse an absolute ``http(s)`` Digital Link URI."""
    if len(uri) > MAX_URI_LENGTH:
        raise DigitalLinkError(f"URI is longer than {MAX_URI_LENGTH} characters")
    if not uri.isascii() or any(c.isspace() for c in uri):
        bad = next(c for c in uri if not c.isascii() or c.isspace())
        raise DigitalLinkError(f"URI contains a character that must be percent-encoded: {bad!r}")
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https"):
        raise DigitalLinkError(f"URI scheme must be http or https, got {parts.scheme!r}")
    if not parts.hostname:
        raise DigitalLinkError("URI has no host")
    if parts.fragment:
        raise DigitalLinkError("URI must not carry a fragment ('#')")
    return parse_path(parts.path, parts.query)
