"""GS1 Digital Link URIs for trade items: parse, validate, build.

Supported shape (GS1 Digital Link URI Syntax 1.2, uncompressed form)::

    https://<host>[/<prefix>]/01/{GTIN}[/10/{lot}][/21/{serial}][?linkType=gs1:...]

* The GTIN may be 8, 12, 13 or 14 digits; it is validated (mod-10 check digit)
  and normalised to 14 digits.
* Lot (AI 10) and serial (AI 21) are key qualifiers; they must appear in that
  order. Their decoded values use GS1 AI encodable character set 82 and are at
  most 20 characters long.
* Values are percent-decoded on parse; on build every character outside the URI
  unreserved set (``A-Z a-z 0-9 - . _``) is percent-encoded, which yields the
  canonical form GS1 specifies (``/`` becomes ``%2F``, ``%`` becomes ``%25``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import StrEnum
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from eth_hash.auto import keccak

from backend.gs1.errors import DigitalLinkError
from backend.gs1.gtin import normalise_gtin

CANONICAL_HOST = "https://id.gs1.org"

# GS1 General Specifications, figure 7.11-1: AI encodable character set 82.
CSET82 = frozenset(
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
)
LOT_MAX = 20
SERIAL_MAX = 20
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

_QUALIFIERS = {"10": ("lot", LOT_MAX), "21": ("serial", SERIAL_MAX)}
_AI_NAMES = {"01": "GTIN", "10": "lot", "21": "serial"}
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

    @property
    def path(self) -> str:
        """The AI path, values percent-encoded: ``/01/…[/10/…][/21/…]``."""
        parts = [f"/01/{self.gtin}"]
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
        return replace(self, link_type=None)

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
        """The one passport-id rule: keccak256 of the canonical path (ASCII)."""
        return keccak(self.path.encode("ascii"))

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
    """Check a decoded lot/serial against CSET 82 and its maximum length."""
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


def normalise_link_type(value: str) -> str:
    """Accept ``gs1:pip`` or ``https://gs1.org/voc/pip``; return the CURIE form."""
    link_type = value.strip()
    if link_type.startswith(GS1_VOC):
        link_type = "gs1:" + link_type[len(GS1_VOC) :]
    if link_type == LINK_TYPE_ALL or link_type in LINK_TYPES:
        return link_type
    supported = ", ".join((*LINK_TYPES, LINK_TYPE_ALL))
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


def parse_path(path: str, query: str = "") -> DigitalLink:
    """Parse the path (and query string) of a Digital Link as served by a resolver."""
    segments = path.split("/")
    if segments and segments[0] == "":
        segments = segments[1:]
    if segments and segments[-1] == "":
        segments = segments[:-1]  # one trailing slash is tolerated
    if "" in segments:
        raise DigitalLinkError("path contains an empty segment ('//')", field="path")
    try:
        start = segments.index("01")
    except ValueError:
        raise DigitalLinkError(
            "no GTIN: a Digital Link path must contain '/01/{GTIN}'", field="gtin"
        ) from None
    pairs = segments[start + 1 :]
    if not pairs:
        raise DigitalLinkError("GTIN is missing after '/01/'", field="gtin")
    gtin = normalise_gtin(_decode(pairs[0], "GTIN"))
    values: dict[str, str] = {}
    rest = pairs[1:]
    if len(rest) % 2:
        raise DigitalLinkError(
            f"AI {rest[-1]!r} has no value: the path must alternate AI and value", field="path"
        )
    last_order = 0
    for i in range(0, len(rest), 2):
        ai, raw = rest[i], rest[i + 1]
        if ai not in _QUALIFIERS:
            raise DigitalLinkError(
                f"AI {ai!r} is not a key qualifier of GTIN here; expected 10 (lot) or 21 (serial)",
                field="path",
            )
        if ai in values:
            raise DigitalLinkError(f"AI {ai} appears twice", field="path")
        order = 1 if ai == "10" else 2
        if order < last_order:
            raise DigitalLinkError(
                "AI 10 (lot) must come before AI 21 (serial) in a Digital Link path",
                field="path",
            )
        last_order = order
        name = _QUALIFIERS[ai][0]
        values[ai] = validate_qualifier(ai, _decode(raw, name))
    link_type = _link_type_from_query(query)
    return DigitalLink(
        gtin=gtin, lot=values.get("10"), serial=values.get("21"), link_type=link_type
    )


def _link_type_from_query(query: str) -> str | None:
    if not query:
        return None
    try:
        params = parse_qsl(query, keep_blank_values=True, strict_parsing=True)
    except ValueError as exc:
        raise DigitalLinkError(f"query string is malformed: {query!r}", field="query") from exc
    link_types = [v for k, v in params if k == "linkType"]
    if len(link_types) > 1:
        raise DigitalLinkError("linkType appears more than once", field="linkType")
    return normalise_link_type(link_types[0]) if link_types else None


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
