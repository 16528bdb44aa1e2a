"""GS1 keys as EPCIS identifiers: GS1 Digital Link URIs or EPC URNs (TDS 2.1).

EPC URNs split a key into GS1 Company Prefix and reference, which needs the
prefix length (6-12 digits); Digital Link URIs do not. Both forms convert to the
constrained canonical Digital Link used by the event hash (:func:`canonical_dl`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import unquote, urlsplit

from backend.epcis.errors import IdentifierError
from backend.gs1.digital_link import CANONICAL_HOST, DigitalLink, encode_value
from backend.gs1.gtin import gtin_check_digit


class IdStyle(StrEnum):
    DIGITAL_LINK = "digital_link"
    EPC_URN = "epc_urn"


# TDS 2.1 §6.4: in EPC URNs these CSET 82 characters are percent-encoded.
_URN_ESCAPE = {'"': "%22", "%": "%25", "&": "%26", "/": "%2F", "<": "%3C", ">": "%3E", "?": "%3F"}


def _urn_escape(value: str) -> str:
    return "".join(_URN_ESCAPE.get(c, c) for c in value)


def _check_gcp_length(length: int, key_body_length: int) -> None:
    if not 6 <= length <= 12 or length > key_body_length:
        raise IdentifierError(f"GS1 Company Prefix length must be 6-12 digits, got {length}")


def _valid_key(value: str, length: int, name: str) -> str:
    if len(value) != length or not value.isascii() or not value.isdigit():
        raise IdentifierError(f"{name} must be {length} digits, got {value!r}")
    expected = gtin_check_digit(value[:-1])
    if int(value[-1]) != expected:
        raise IdentifierError(f"{name} check digit should be {expected}, got {value[-1]}")
    return value


@dataclass(frozen=True, slots=True)
class Location:
    """A GLN-identified place, optionally a sub-location (AI 254 extension)."""

    gln: str
    extension: str | None = None

    def __post_init__(self) -> None:
        _valid_key(self.gln, 13, "GLN")


@dataclass(frozen=True, slots=True)
class LocodeLocation:
    """A place known only by its UN/LOCODE (a port or city), as shipment milestones carry it.

    Written as the UN/CEFACT vocabulary URI ``https://vocabulary.uncefact.org/unlocode#USLAX``:
    EPCIS accepts any URI as a read point, and a location without a GLN has no GS1 form.
    """

    code: str

    def __post_init__(self) -> None:
        if len(self.code) != 5 or not self.code.isascii() or not self.code.isalnum():
            raise IdentifierError(f"UN/LOCODE must be 5 letters or digits, got {self.code!r}")


UNLOCODE_BASE = "https://vocabulary.uncefact.org/unlocode#"


def _gtin_parts(gtin14: str, gcp_length: int) -> tuple[str, str]:
    _check_gcp_length(gcp_length, 12)
    indicator, body = gtin14[0], gtin14[1:13]
    return body[:gcp_length], indicator + body[gcp_length:]


def item_uri(link: DigitalLink, style: IdStyle, *, gcp_length: int = 7) -> str:
    """Instance-level id of a serialised item (SGTIN)."""
    if link.serial is None:
        raise IdentifierError(f"{link.hri} has no serial: it identifies a class, not an instance")
    if style is IdStyle.DIGITAL_LINK:
        return DigitalLink(link.gtin, serial=link.serial).canonical
    gcp, item_ref = _gtin_parts(link.gtin, gcp_length)
    return f"urn:epc:id:sgtin:{gcp}.{item_ref}.{_urn_escape(link.serial)}"


def class_uri(link: DigitalLink, style: IdStyle, *, gcp_length: int = 7) -> str:
    """Class-level id: GTIN + lot (LGTIN), or the bare GTIN for a digital link."""
    if style is IdStyle.DIGITAL_LINK:
        return DigitalLink(link.gtin, lot=link.lot).canonical
    if link.lot is None:
        raise IdentifierError(f"{link.hri} has no lot: an EPC class URN needs one (LGTIN)")
    gcp, item_ref = _gtin_parts(link.gtin, gcp_length)
    return f"urn:epc:class:lgtin:{gcp}.{item_ref}.{_urn_escape(link.lot)}"


def location_uri(
    location: Location | LocodeLocation, style: IdStyle, *, gcp_length: int = 7
) -> str:
    """Read point / business location id (SGLN, or a UN/LOCODE URI)."""
    if isinstance(location, LocodeLocation):
        return UNLOCODE_BASE + location.code.upper()
    if style is IdStyle.DIGITAL_LINK:
        uri = f"{CANONICAL_HOST}/414/{location.gln}"
        if location.extension is not None:
            uri += f"/254/{encode_value(location.extension)}"
        return uri
    _check_gcp_length(gcp_length, 12)
    body = location.gln[:12]
    ext = "0" if location.extension is None else _urn_escape(location.extension)
    return f"urn:epc:id:sgln:{body[:gcp_length]}.{body[gcp_length:]}.{ext}"


def party_uri(gln: str, style: IdStyle, *, gcp_length: int = 7) -> str:
    """A party (company, customs authority, carrier) by its party GLN (PGLN)."""
    _valid_key(gln, 13, "GLN")
    if style is IdStyle.DIGITAL_LINK:
        return f"{CANONICAL_HOST}/417/{gln}"
    _check_gcp_length(gcp_length, 12)
    return f"urn:epc:id:pgln:{gln[:gcp_length]}.{gln[gcp_length:12]}"


def sscc_uri(sscc: str, style: IdStyle, *, gcp_length: int = 7) -> str:
    """Logistic unit id (container, pallet): SSCC-18."""
    _valid_key(sscc, 18, "SSCC")
    if style is IdStyle.DIGITAL_LINK:
        return f"{CANONICAL_HOST}/00/{sscc}"
    _check_gcp_length(gcp_length, 16)
    ext, body = sscc[0], sscc[1:17]
    return f"urn:epc:id:sscc:{body[:gcp_length]}.{ext}{body[gcp_length:]}"


# --- canonical form for hashing (CBV 2.0 event hash rules 17-18) -------------------------
#
# Every EPC URI (TDS 2.1 §6: urn:epc:id, urn:epc:class, urn:epc:idpat) and every GS1
# Digital Link of any GS1 key becomes the constrained canonical Digital Link: host
# id.gs1.org, numeric AIs, no query, only the finest level of identification.

_CSET82_URN = r"(?:%[0-9A-Fa-f]{2}|[!'()*+,.0-9:;=A-Za-z_-])"
_FIELD = re.compile(rf"^{_CSET82_URN}*$")


def _cd(body: str) -> str:
    return body + str(gtin_check_digit(body))


def _v(urn_value: str) -> str:
    """A TDS-escaped URN component as a canonical Digital Link path value."""
    return encode_value(unquote(urn_value))


def _digits(*parts: str, total: int) -> bool:
    # A 12-digit company prefix leaves an empty reference ("urn:epc:id:pgln:999999999999.").
    return (
        all(p == "" or (p.isascii() and p.isdigit()) for p in parts)
        and sum(map(len, parts)) == total
    )


def _gcp_ok(gcp: str) -> bool:
    return 6 <= len(gcp) <= 12 and gcp.isascii() and gcp.isdigit()


def _gtin14(gcp: str, item_ref: str) -> str | None:
    if not (_gcp_ok(gcp) and _digits(gcp, item_ref, total=13)):
        return None
    return _cd(item_ref[0] + gcp + item_ref[1:])


def _epc_id(scheme: str, f: list[str]) -> str | None:
    gcp = f[0]
    if not _gcp_ok(gcp) or not all(_FIELD.match(x) for x in f):
        return None
    match scheme, len(f):
        case "sgtin", 3:
            gtin = _gtin14(gcp, f[1])
            return gtin and f[2] and f"/01/{gtin}/21/{_v(f[2])}"
        case "upui", 3:
            gtin = _gtin14(gcp, f[1])
            return gtin and f[2] and f"/01/{gtin}/235/{_v(f[2])}"
        case "itip", 5:
            gtin = _gtin14(gcp, f[1])
            if not gtin or not _digits(f[2], f[3], total=4) or not f[4]:
                return None
            return f"/8006/{gtin}{f[2]}{f[3]}/21/{_v(f[4])}"
        case "sscc", 2:
            if not _digits(gcp, f[1], total=17):
                return None
            return f"/00/{_cd(f[1][0] + gcp + f[1][1:])}"
        case "sgln", 3:
            if not _digits(gcp, f[1], total=12) or not f[2]:
                return None
            base = f"/414/{_cd(gcp + f[1])}"
            return base if f[2] == "0" else f"{base}/254/{_v(f[2])}"
        case "pgln", 2:
            return f"/417/{_cd(gcp + f[1])}" if _digits(gcp, f[1], total=12) else None
        case "grai", 3:
            if not _digits(gcp, f[1], total=12):
                return None
            return f"/8003/{_cd('0' + gcp + f[1])}{_v(f[2])}"
        case "gdti", 3:
            return f"/253/{_cd(gcp + f[1])}{_v(f[2])}" if _digits(gcp, f[1], total=12) else None
        case "sgcn", 3:
            ok = _digits(gcp, f[1], total=12) and f[2].isdigit()
            return f"/255/{_cd(gcp + f[1])}{f[2]}" if ok else None
        case "giai", 2:
            return f"/8004/{gcp}{_v(f[1])}" if f[1] else None
        case "ginc", 2:
            return f"/401/{gcp}{_v(f[1])}" if f[1] else None
        case "gsrn", 2:
            return f"/8018/{_cd(gcp + f[1])}" if _digits(gcp, f[1], total=17) else None
        case "gsrnp", 2:
            return f"/8017/{_cd(gcp + f[1])}" if _digits(gcp, f[1], total=17) else None
        case "gsin", 2:
            return f"/402/{_cd(gcp + f[1])}" if _digits(gcp, f[1], total=16) else None
        case "cpi", 3:
            ok = bool(f[1]) and f[2].isdigit()
            return f"/8010/{gcp}{_v(f[1])}/8011/{f[2]}" if ok else None
    return None


def _epc_class(scheme: str, f: list[str]) -> str | None:
    if scheme == "lgtin" and len(f) == 3 and _FIELD.match(f[2]) and f[2]:
        gtin = _gtin14(f[0], f[1])
        return gtin and f"/01/{gtin}/10/{_v(f[2])}"
    return None


def _epc_pattern(scheme: str, f: list[str]) -> str | None:
    """An EPC pattern with only the serial part wildcarded names a class: its GS1 key."""
    if not f or f[-1] != "*" or "*" in f[:-1] or not _gcp_ok(f[0]):
        return None
    gcp, fixed = f[0], f[1:-1]
    match scheme, len(fixed):
        case "sgtin" | "upui", 1:
            gtin = _gtin14(gcp, fixed[0])
            return gtin and f"/01/{gtin}"
        case "itip", 3:
            gtin = _gtin14(gcp, fixed[0])
            ok = gtin and _digits(fixed[1], fixed[2], total=4)
            return f"/8006/{gtin}{fixed[1]}{fixed[2]}" if ok else None
        case "sgln", 1:
            return f"/414/{_cd(gcp + fixed[0])}" if _digits(gcp, fixed[0], total=12) else None
        case "grai", 1:
            ok = _digits(gcp, fixed[0], total=12)
            return f"/8003/{_cd('0' + gcp + fixed[0])}" if ok else None
        case "gdti" | "sgcn", 1:
            ai = "253" if scheme == "gdti" else "255"
            return f"/{ai}/{_cd(gcp + fixed[0])}" if _digits(gcp, fixed[0], total=12) else None
        case "cpi", 1:
            return f"/8010/{gcp}{_v(fixed[0])}" if fixed[0] and _FIELD.match(fixed[0]) else None
    return None


_EPC_URN = re.compile(r"^urn:epc:(id|class|idpat):([a-z]+):(.+)$")

# Digital Link short names (GS1 Digital Link 1.2 table 6-1) and their AIs.
_SHORT_NAMES = {
    "gtin": "01", "itip": "8006", "cpid": "8010", "gln": "414", "party": "417", "gsrnp": "8017",
    "gsrn": "8018", "gcn": "255", "sscc": "00", "gdti": "253", "ginc": "401", "gsin": "402",
    "grai": "8003", "giai": "8004", "cpv": "22", "lot": "10", "ser": "21", "glnx": "254",
}  # fmt: skip
# Rule 18 (III): the keys and the key + qualifier combinations the canonical id keeps,
# finest first.
_KEEP = {
    "00": (),
    "01": ("21", "235", "10"),
    "253": (),
    "255": (),
    "401": (),
    "402": (),
    "414": ("254",),
    "417": (),
    "8003": (),
    "8004": (),
    "8006": ("21", "10"),
    "8010": ("8011",),
    "8017": (),
    "8018": (),
}
_DL_QUALIFIERS = frozenset({"22", "10", "21", "235", "254", "8011"})


def _dl_path(path: str) -> str | None:
    segments = [s for s in path.split("/") if s != ""]
    segments = [_SHORT_NAMES.get(s, s) for s in segments]
    # The primary key is the leftmost key AI from which on the rest of the path is
    # made of qualifier pairs; whatever precedes it is a custom path prefix.
    for i, ai in enumerate(segments):
        if ai not in _KEEP or i + 1 >= len(segments):
            continue
        rest = segments[i + 2 :]
        if len(rest) % 2 or any(q not in _DL_QUALIFIERS for q in rest[0::2]):
            continue
        try:
            value = unquote(segments[i + 1], errors="strict")
            qualifiers = {
                q: unquote(v, errors="strict") for q, v in zip(rest[0::2], rest[1::2], strict=True)
            }
        except UnicodeDecodeError:
            return None
        if ai == "01":
            if not value.isdigit() or len(value) not in (8, 12, 13, 14):
                return None
            value = value.zfill(14)
        out = f"/{ai}/{encode_value(value)}"
        for q in _KEEP[ai]:
            if q in qualifiers:
                return f"{out}/{q}/{encode_value(qualifiers[q])}"
        return out
    return None


def canonical_dl(uri: str) -> str | None:
    """The constrained canonical Digital Link of a GS1 identifier; ``None`` if not one."""
    if m := _EPC_URN.match(uri):
        kind, scheme, body = m.groups()
        fields = body.split(".")
        convert = {"id": _epc_id, "class": _epc_class, "idpat": _epc_pattern}[kind]
        path = convert(scheme, fields)
        return f"{CANONICAL_HOST}{path}" if path else None
    if not uri.startswith(("https://", "http://")):
        return None
    path = _dl_path(urlsplit(uri).path)
    return f"{CANONICAL_HOST}{path}" if path else None


# Primary keys of a constrained canonical Digital Link → how many leading characters
# precede the GS1 company prefix in the key (an indicator or extension digit, GRAI's 0).
COMPANY_PREFIX_KEYS = {
    "00": 1,
    "01": 1,
    "8006": 1,
    "8003": 1,
    "253": 0,
    "255": 0,
    "401": 0,
    "402": 0,
    "414": 0,
    "417": 0,
    "8004": 0,
    "8010": 0,
    "8017": 0,
    "8018": 0,
}
