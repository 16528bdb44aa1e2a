"""Passport identity: GS1 keys to a deterministic 32-byte passport id.

A passport is for a product model (GTIN), a batch (GTIN + lot, AI 10) or a
serialised item (GTIN + serial, AI 21; a lot may qualify it too). Its id is::

    passport_id = keccak256(ascii("/01/{gtin14}[/10/{lot}][/21/{serial}]"))

the canonical GS1 Digital Link path: GTIN normalised to 14 digits with its check
digit validated, key qualifiers in GS1 order (10 before 21), and lot and serial
percent-encoded per RFC 3986 (every character outside ``A-Z a-z 0-9 - . _ ~``
as ``%XX`` with upper-case hex). The same path, prefixed with any resolver host,
is what the product's QR code carries, so a scanner can recompute the id.

The GS1 rules themselves (check digit, CSET 82, lengths, path syntax) live in
``backend.qr.gtin`` and ``backend.qr.digital_link``; this module gives them
passport-domain errors and the id.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from eth_hash.auto import keccak

from backend.passports.errors import GtinInvalid, KeyQualifierInvalid
from backend.qr import gtin as gs1
from backend.qr.digital_link import DigitalLink, parse_path, validate_qualifier
from backend.qr.errors import DigitalLinkError, GtinError

GTIN_LENGTHS = gs1.GTIN_LENGTHS
gtin_check_digit = gs1.gtin_check_digit


class PassportLevel(StrEnum):
    """What a passport describes."""

    MODEL = "model"
    BATCH = "batch"
    ITEM = "item"


def normalise_gtin(gtin: str) -> str:
    """GTIN-8/12/13/14 as GTIN-14 (left zero-padded) after checking its check digit."""
    if not isinstance(gtin, str):
        raise GtinInvalid(f"GTIN must be a string of digits, got {type(gtin).__name__}")
    try:
        return gs1.normalise_gtin(gtin.strip())
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


@dataclass(frozen=True)
class PassportKey:
    """A validated GS1 key: GTIN-14 plus optional lot and serial."""

    gtin: str
    lot: str | None = None
    serial: str | None = None

    @classmethod
    def of(cls, gtin: str, lot: str | None = None, serial: str | None = None) -> PassportKey:
        """Validate and normalise; raises a :class:`IdentifierInvalid` subclass."""
        return cls(normalise_gtin(gtin), _qualifier("10", lot), _qualifier("21", serial))

    @property
    def level(self) -> PassportLevel:
        if self.serial is not None:
            return PassportLevel.ITEM
        if self.lot is not None:
            return PassportLevel.BATCH
        return PassportLevel.MODEL

    @property
    def path(self) -> str:
        """Canonical GS1 Digital Link path."""
        return DigitalLink(self.gtin, self.lot, self.serial).path

    @property
    def id(self) -> bytes:
        return keccak(self.path.encode("ascii"))


def digital_link_path(gtin: str, lot: str | None = None, serial: str | None = None) -> str:
    """Canonical GS1 Digital Link path ``/01/{gtin14}[/10/{lot}][/21/{serial}]``."""
    return PassportKey.of(gtin, lot, serial).path


def passport_id(gtin: str, lot: str | None = None, serial: str | None = None) -> bytes:
    """The 32-byte passport id: keccak256 of the canonical Digital Link path."""
    return PassportKey.of(gtin, lot, serial).id


def parse_digital_link(uri: str) -> PassportKey:
    """The key of a Digital Link URI or path (``https://host/01/…/21/…`` or ``/01/…``).

    GTINs shorter than 14 digits are accepted and normalised; the query string
    and fragment are ignored.
    """
    path = urlsplit(uri).path if "://" in uri else uri.split("?", 1)[0].split("#", 1)[0]
    try:
        link = parse_path(path)
    except GtinError as exc:
        raise GtinInvalid(f"{exc.message} (in {uri!r})") from exc
    except DigitalLinkError as exc:
        raise KeyQualifierInvalid(f"{uri!r}: {exc.message}") from exc
    return PassportKey(link.gtin, link.lot, link.serial)
