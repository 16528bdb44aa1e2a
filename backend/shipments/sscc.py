"""SSCC (AI 00): the GS1 key of a logistic unit, and its Digital Link ``/00/{sscc}``."""

from __future__ import annotations

from backend.errors import InvalidInput

SSCC_LENGTH = 18


class SsccInvalid(InvalidInput):
    """Not an 18-digit SSCC with a valid check digit."""


def _check_digit(body: str) -> int:
    # GS1 mod-10: weights 3, 1, 3, … from the right of the body.
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def validate_sscc(value: str) -> str:
    """The SSCC if it is 18 digits with a correct GS1 mod-10 check digit."""
    if len(value) != SSCC_LENGTH or not value.isascii() or not value.isdigit():
        raise SsccInvalid(f"sscc must be {SSCC_LENGTH} digits, got {value!r}", field="sscc")
    expected = _check_digit(value[:-1])
    if int(value[-1]) != expected:
        raise SsccInvalid(
            f"sscc check digit should be {expected}, got {value[-1]} (in {value})", field="sscc"
        )
    return value


def sscc_path(sscc: str) -> str:
    """The Digital Link path of a logistic unit."""
    return f"/00/{sscc}"


def sscc_hri(sscc: str) -> str:
    """Human-readable interpretation as printed on logistic labels: ``(00) 3 0614141 …``."""
    return f"(00) {sscc[0]} {sscc[1:8]} {sscc[8:17]} {sscc[17]}"
