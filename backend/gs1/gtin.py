"""GTIN validation: GS1 mod-10 check digit and normalisation to GTIN-14."""

from __future__ import annotations

from backend.gs1.errors import GtinError

GTIN_LENGTHS = (8, 12, 13, 14)


def gtin_check_digit(body: str) -> int:
    """GS1 mod-10 check digit of ``body`` (a GS1 key without its last digit).

    Weights alternate 3, 1, 3, ... starting from the rightmost digit of the body,
    so the same function serves GTIN-8/12/13/14, GLN and SSCC.
    """
    if not body or not body.isascii() or not body.isdigit():
        raise GtinError(f"GTIN body must be digits only, got {body!r}")
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def normalise_gtin(value: str) -> str:
    """Validate a GTIN-8/12/13/14 and return it as 14 digits (left-padded with zeros)."""
    if not value:
        raise GtinError("GTIN is missing")
    if not value.isascii() or not value.isdigit():
        bad = next(c for c in value if not (c.isascii() and c.isdigit()))
        raise GtinError(f"GTIN must contain digits only, found {bad!r}")
    if len(value) not in GTIN_LENGTHS:
        raise GtinError(f"GTIN must have 8, 12, 13 or 14 digits, got {len(value)}")
    expected = gtin_check_digit(value[:-1])
    actual = int(value[-1])
    if expected != actual:
        raise GtinError(f"GTIN check digit should be {expected}, got {actual}")
    if value.count("0") == len(value):
        raise GtinError("GTIN must not be all zeros")
    return value.zfill(14)


def with_check_digit(body: str) -> str:
    """Append the check digit to a GS1 key body (used to build test and demo GTINs)."""
    return body + str(gtin_check_digit(body))
