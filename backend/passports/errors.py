"""Exceptions of the passports domain.

PassportError
├── IdentifierInvalid        a GS1 key cannot identify a passport
│   ├── GtinInvalid          wrong length, non-digits, bad check digit
│   └── KeyQualifierInvalid  lot (AI 10) or serial (AI 21) not GS1-encodable
├── DocumentInvalid          a passport document fails the schema (``.problems``)
└── CarbonInputInvalid       unknown unit or mode, incompatible units, negative input
"""

from __future__ import annotations


class PassportError(ValueError):
    """Base of every passports-domain error."""


class IdentifierInvalid(PassportError):
    """A GS1 key (GTIN, lot, serial) is not valid."""


class GtinInvalid(IdentifierInvalid):
    """The GTIN has the wrong length, non-digit characters or a wrong check digit."""


class KeyQualifierInvalid(IdentifierInvalid):
    """A lot or serial number is empty, too long or uses characters outside GS1 CSET 82."""


class DocumentInvalid(PassportError):
    """A passport document failed validation; ``problems`` lists ``"path: message"``."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("passport document is invalid: " + "; ".join(problems))


class CarbonInputInvalid(PassportError):
    """Carbon calculator input cannot be computed (unit, mode or value)."""
