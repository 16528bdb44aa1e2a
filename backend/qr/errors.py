"""Typed errors of the QR layer (hierarchy in the package docstring)."""

from __future__ import annotations


class QRError(Exception):
    """Base class of every error raised by ``backend.qr``."""


class DigitalLinkError(QRError, ValueError):
    """A GS1 Digital Link URI that cannot be resolved; the message says what is wrong."""

    def __init__(self, message: str, *, field: str = "uri") -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class GtinError(DigitalLinkError):
    """A GTIN with a wrong length, a non-digit character or a wrong check digit."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="gtin")
