"""GS1 keys as EPCIS identifiers: GS1 Digital Link URIs or EPC URNs (TDS 2.1).

EPC URNs split a key into GS1 Company Prefix and reference, which needs the
prefix length (6-12 digits); Digital Link URIs do not. Both forms convert to the
constrained canonical Digital Link used by the event hash (:func:`canonical_dl`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import quote, unquote, urlsplit

from backend.epcis.errors import IdentifierError
from backend.gs1.digital_link import CANONICAL_HOST, DigitalLink, encode_value, parse_digital_link
from backend.gs1.errors import DigitalLinkError
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

_SGTIN = re.compile(r"^urn:epc:id:sgtin:(\d{6,12})\.(\d{1,7})\.(.{1,60})$")
_LGTIN = re.compile(r"^urn:epc:class:lgtin:(\d{6,12})\.(\d{1,7})\.(.{1,60})$")
_SGLN = re.compile(r"^urn:epc:id:sgln:(\d{6,12})\.(\d{0,6})\.(.{1,60})$")
_SSCC = re.compile(r"^urn:epc:id:sscc:(\d{6,12})\.(\d{5,11})$")
_PGLN = re.compile(r"^urn:epc:id:pgln:(\d{6,12})\.(\d{0,6})$")
_DL_414 = re.compile(r"^/414/(\d{13})(?:/254/([^/]+))?/?$")
_DL_00 = re.compile(r"^/00/(\d{18})/?$")
_DL_417 = re.compile(r"^/417/(\d{13})/?$")


def _dl_value(escaped_urn_value: str) -> str:
    return quote(unquote(escaped_urn_value), safe="")


def canonical_dl(uri: str) -> str | None:
    """The constrained canonical Digital Link of a GS1 identifier; ``None`` if not one."""
    if m := _SGTIN.match(uri):
        gcp, ref, serial = m.groups()
        if len(gcp) + len(ref) != 13:
            return None
        body = ref[0] + gcp + ref[1:]
        return f"{CANONICAL_HOST}/01/{body}{gtin_check_digit(body)}/21/{_dl_value(serial)}"
    if m := _LGTIN.match(uri):
        gcp, ref, lot = m.groups()
        if len(gcp) + len(ref) != 13:
            return None
        body = ref[0] + gcp + ref[1:]
        return f"{CANONICAL_HOST}/01/{body}{gtin_check_digit(body)}/10/{_dl_value(lot)}"
    if m := _SGLN.match(uri):
        gcp, ref, ext = m.groups()
        if len(gcp) + len(ref) != 12:
            return None
        body = gcp + ref
        base = f"{CANONICAL_HOST}/414/{body}{gtin_check_digit(body)}"
        return base if ext == "0" else f"{base}/254/{_dl_value(ext)}"
    if m := _SSCC.match(uri):
        gcp, ref = m.groups()
        body = ref[0] + gcp + ref[1:]
        return f"{CANONICAL_HOST}/00/{body}{gtin_check_digit(body)}"
    if m := _PGLN.match(uri):
        body = m.group(1) + m.group(2)
        return f"{CANONICAL_HOST}/417/{body}{gtin_check_digit(body)}" if len(body) == 12 else None
    if not uri.startswith(("https://", "http://")):
        return None
    path = urlsplit(uri).path
    if m := _DL_414.search(path):
        gln, ext = m.groups()
        return f"{CANONICAL_HOST}/414/{gln}" + (f"/254/{ext}" if ext else "")
    if m := _DL_417.search(path):
        return f"{CANONICAL_HOST}/417/{m.group(1)}"
    if m := _DL_00.search(path):
        return f"{CANONICAL_HOST}/00/{m.group(1)}"
    try:
        link = parse_digital_link(uri)
    except DigitalLinkError:
        return None
    # Only the finest level of identification is kept: a serial makes the lot redundant.
    finest = DigitalLink(link.gtin, serial=link.serial) if link.serial else link.without_link_type()
    return finest.canonical
