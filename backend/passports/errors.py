"""Exceptions of the passports domain.

PassportError
├── DocumentInvalid          a passport document fails the schema (``.problems``)
└── CarbonInputInvalid       unknown unit or mode, incompatible units, negative input

A GS1 key that cannot identify a passport raises
:class:`backend.gs1.errors.IdentifierInvalid` (``GtinInvalid``, ``KeyQualifierInvalid``).
"""

from __future__ import annotations


class PassportError(ValueError):
    """Base of every passports-domain error."""


class DocumentInvalid(PassportError):
    """A passport document failed validation; ``problems`` lists ``"path: message"``."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("passport document is invalid: " + "; ".join(problems))


class CarbonInputInvalid(PassportError):
    """Carbon calculator input cannot be computed (unit, mode or value)."""
