"""Typed errors of the EPCIS export (hierarchy in the package docstring)."""

from __future__ import annotations


class EpcisError(Exception):
    """Base class of every error raised by ``backend.epcis``."""


class IdentifierError(EpcisError, ValueError):
    """A GS1 key that cannot be written in the requested identifier syntax."""


class SchemaError(EpcisError):
    """An EPCIS document that does not validate; ``errors`` lists each violation."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("EPCIS document fails the GS1 schema: " + "; ".join(errors[:5]))
        self.errors = errors
