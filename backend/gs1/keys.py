"""GS1 keys given as values (GTIN, lot, serial) to a validated key and its passport id.

A passport is for a product model (GTIN), a batch (GTIN + lot, AI 10) or a
serialised item (GTIN + serial, AI 21; a lot may qualify it too). Its id is::

    passport_id = keccak256(ascii("/01/{gtin14}[/10/{lot}][/21/{serial}]"))

the canonical GS1 Digital Link path: GTIN normalised to 14 digits with its check
digit validated, key qualifiers in GS1 order (10 before 21), and lot and serial
percent-encoded per RFC 3986 (every character outside ``A-Z a-z 0-9 - . _ ~``
as ``%XX`` with upper-case hex). The same path, prefixed with any resolver host,
is what the product's QR code carries, so a scanner can recompute the id.

The syntax rules (check digit, CSET 82, lengths, path syntax) live in
:mod:`backend.gs1.gtin` and :mod:`backend.gs1.digital_link`; this module reports
them as :class:`~backend.gs1.errors.IdentifierInvalid` naming the value given.
"""

from __future__ import annotations

from backend.gs1.digital_link import DigitalLink, KeyLevel, validate_qualifier
from backend.gs1.errors import DigitalLinkError, GtinError, GtinInvalid, KeyQualifierInvalid
from backend.gs1.gtin import normalise_gtin as _normalise_gtin

__all__ = ["DigitalLink", "KeyLevel", "key", "normalise_gtin", "passport_id"]


def normalise_gtin(gtin: str) -> str:
    """GTIN-8/12/13/14 as GTIN-14 (left zero-padded) after checking its check digit."""
    if not isinstance(gtin, str):
        raise GtinInvalid(f"GTIN must be a string of digits, got {type(gtin).__name__}")
    try:
        return _normalise_gtin(gtin.strip())
    except GtinError as exc:
        raise GtinInvalid(f"{exc.message} (in {gtin!r})") from exc


def _qualifier(ai: str, value: str | None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise KeyQualifierInvalid(f"AI {ai} must be a string, got {type(value).__name__}")
    try:
        return validate_qualifier(ai, value)
    except DigitalLinkError as exc:
        raise KeyQualifierInvalid(exc.message) from exc


def key(gtin: str, lot: str | None = None, serial: str | None = None) -> DigitalLink:
    """Validate and normalise; raises an :class:`IdentifierInvalid` subclass."""
    return DigitalLink(normalise_gtin(gtin), _qualifier("10", lot), _qualifier("21", serial))


def passport_id(gtin: str, lot: str | None = None, serial: str | None = None) -> bytes:
    """The 32-byte passport id: keccak256 of the canonical Digital Link path."""
    return key(gtin, lot, serial).passport_id
