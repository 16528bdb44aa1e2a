"""SSCC (AI 00): the GS1 key of a logistic unit, and its Digital Link ``/00/{sscc}``."""

from __future__ import annotations

from backend.gs1.errors import IdentifierInvalid
from backend.gs1.gtin import gtin_check_digit

SSCC_LENGTH = 18


class SsccInvalid(IdentifierInvalid):
    """Not an 18-digit SSCC with a valid check digit."""


def validate_sscc(value: str) -> str:
    """The SSCC if it is 18 digits with a correct GS1 mod-10 check digit."""
    if len(value) != SSCC_LENGTH or not value.isascii() or not value.isdigit():
        raise SsccInvalid(f"sscc must be {SSCC_LENGTH} digits, got {value!r}")
    expected = gtin_check_digit(value[:-1])
    if int(value[-1]) != expected:
        raise SsccInvalid(f"sscc check digit should be {expected}, got {value[-1]} (in {value})")
    return value


def sscc_path(sscc: str) -> str:
    """The Digital Link path of a logistic unit."""
    return f"/00/{sscc}"


def sscc_hri(sscc: str) -> str:
    """Human-readable interpretation as printed on logistic labels: ``(00) 0 9521234 …``."""
    return f"(00) {sscc[0]} {sscc[1:8]} {sscc[8:17]} {sscc[17]}"
