"""Passport identity: GS1 keys to a deterministic 32-byte passport id.

A passport is for a product model (GTIN), a batch (GTIN + lot, AI 10) or a
serialised item (GTIN + serial, AI 21; a lot may qualify it too). Its id is::

    passport_id = keccak256(ascii("/01/{gtin14}[/10/{lot}][/21/{serial}]"))

the canonical GS1 Digital Link path: GTIN normalised to 14 digits with its check
digit validated, key qualifiers in GS1 order (10 before 21), and lot and serial
percent-encoded per RFC 3986 (every character outside ``A-Z a-z 0-9 - . _ ~``
as ``%XX`` with upper-case hex). The same path, prefixed with any resolver host,
is what the product's QR code carries, so a scanner can recompute the id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import quote, unquote, urlsplit

from eth_hash.auto import keccak

from backend.passports.errors import GtinInvalid, KeyQualifierInvalid

GTIN_LENGTHS = (8, 12, 13, 14)
QUALIFIER_MAX_LENGTH = 20
# GS1 General Specifications, figure 7.11-1: AI encodable character set 82.
_CSET82 = re.compile(r"^[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]+$")
_PATH = re.compile(r"^/01/(?P<gtin>[0-9]{14})(?:/10/(?P<lot>[^/]+))?(?:/21/(?P<serial>[^/]+))?/?$")


class PassportLevel(StrEnum):
    """What a passport describes."""

    MODEL = "model"
    BATCH = "batch"
    ITEM = "item"


def gtin_check_digit(body: str) -> int:
    """GS1 mod-10 check digit of ``body`` (all digits before the check digit)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def normalise_gtin(gtin: str) -> str:
    """GTIN-8/12/13/14 as GTIN-14 (left zero-padded) after checking its check digit."""
    if not isinstance(gtin, str):
        raise GtinInvalid(f"GTIN must be a string of digits, got {type(gtin).__name__}")
    value = gtin.strip()
    if not value:
        raise GtinInvalid("GTIN is empty")
    if not value.isascii() or not value.isdigit():
        raise GtinInvalid(f"GTIN {gtin!r} must contain digits only")
    if len(value) not in GTIN_LENGTHS:
        raise GtinInvalid(f"GTIN {gtin!r} has {len(value)} digits; expected 8, 12, 13 or 14")
    expected = gtin_check_digit(value[:-1])
    if int(value[-1]) != expected:
        raise GtinInvalid(f"GTIN {gtin!r} has check digit {value[-1]}, expected {expected}")
    gtin14 = value.zfill(14)
    if set(gtin14[:-1]) == {"0"}:
        raise GtinInvalid(f"GTIN {gtin!r} is all zeros")
    return gtin14


def _qualifier(name: str, ai: str, value: str | None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or value == "":
        raise KeyQualifierInvalid(f"{name} (AI {ai}) must be a non-empty string")
    if len(value) > QUALIFIER_MAX_LENGTH:
        raise KeyQualifierInvalid(
            f"{name} (AI {ai}) {value!r} has {len(value)} characters; at most 20 allowed"
        )
    if not _CSET82.match(value):
        raise KeyQualifierInvalid(
            f"{name} (AI {ai}) {value!r} contains characters outside GS1 CSET 82"
        )
    return value


@dataclass(frozen=True)
class PassportKey:
    """A validated GS1 key: GTIN-14 plus optional lot and serial."""

    gtin: str
    lot: str | None = None
    serial: str | None = None

    @classmethod
    def of(cls, gtin: str, lot: str | None = None, serial: str | None = None) -> PassportKey:
        """Validate and normalise; raises a :class:`IdentifierInvalid` subclass."""
        return cls(
            normalise_gtin(gtin),
            _qualifier("lot", "10", lot),
            _qualifier("serial", "21", serial),
        )

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
        out = f"/01/{self.gtin}"
        if self.lot is not None:
            out += "/10/" + quote(self.lot, safe="")
        if self.serial is not None:
            out += "/21/" + quote(self.serial, safe="")
        return out

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
    parts = path.strip("/").split("/")
    if len(parts) >= 2 and parts[0] == "01" and parts[1].isdigit():
        parts[1] = normalise_gtin(parts[1])
    match = _PATH.match("/" + "/".join(parts))
    if match is None:
        raise GtinInvalid(
            f"{uri!r} is not a GS1 Digital Link path of the form "
            "/01/{gtin}[/10/{lot}][/21/{serial}]"
        )
    lot, serial = match.group("lot"), match.group("serial")
    return PassportKey.of(
        match.group("gtin"),
        unquote(lot) if lot is not None else None,
        unquote(serial) if serial is not None else None,
    )
