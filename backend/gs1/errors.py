"""Typed errors of the GS1 identity layer.

GS1Error (ValueError)
├── DigitalLinkError         a Digital Link URI or path that cannot be resolved; ``field`` names the part
│   └── GtinError            a GTIN with a wrong length, a non-digit or a wrong check digit
└── IdentifierInvalid        a key given as values (GTIN, lot, serial) cannot identify a product
    ├── GtinInvalid          wrong length, non-digits, bad check digit
    └── KeyQualifierInvalid  lot (AI 10) or serial (AI 21) not GS1-encodable
"""

from __future__ import annotations


class GS1Error(ValueError):
    """Base class of every error raised by ``backend.gs1``."""


class DigitalLinkError(GS1Error):
    """A GS1 Digital Link URI that cannot be resolved; the message says what is wrong."""

    def __init__(self, message: str, *, field: str = "uri") -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class GtinError(DigitalLinkError):
    """A GTIN with a wrong length, a non-digit character or a wrong check digit."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="gtin")


class IdentifierInvalid(GS1Error):
    """A GS1 key (GTIN, lot, serial) is not valid."""


class GtinInvalid(IdentifierInvalid):
    """The GTIN has the wrong length, non-digit characters or a wrong check digit."""


class KeyQualifierInvalid(IdentifierInvalid):
    """A lot or serial number is empty, too long or uses characters outside GS1 CSET 82."""
