"""The published UNTP 0.6.1 JSON schemas, and the check every exported credential passes.

The schemas are vendored unmodified in ``schemas/`` (source, commit and licence in
``schemas/README.md``). Formats are asserted (``uri``, ``date``, ``date-time``), not
only annotated, so a relative identifier or a bare date where a timestamp belongs is
caught here rather than by a verifier.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import jsonschema

VERSION = "0.6.1"
SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
Kind = Literal["dpp", "dcc", "dte"]
NAMES: dict[Kind, str] = {
    "dpp": "Digital Product Passport",
    "dcc": "Digital Conformity Credential",
    "dte": "Digital Traceability Event",
}


def context(kind: Kind) -> str:
    """The UNTP JSON-LD context URL of ``kind`` at the vendored version."""
    return f"https://test.uncefact.org/vocabulary/untp/{kind}/{VERSION}/"


def schema_path(kind: Kind) -> Path:
    return SCHEMA_DIR / f"untp-{kind}-schema.json"


@lru_cache(maxsize=3)
def _validator(kind: Kind) -> jsonschema.Draft202012Validator:
    schema = json.loads(schema_path(kind).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def schema_errors(kind: Kind, credential: Any) -> list[str]:
    """Every violation of the UNTP ``kind`` schema, as ``/path: message`` lines."""
    found = sorted(_validator(kind).iter_errors(credential), key=lambda e: list(e.absolute_path))
    return [f"/{'/'.join(str(p) for p in e.absolute_path)}: {e.message[:300]}" for e in found]


class CredentialSchemaError(ValueError):
    """A credential that does not validate against its UNTP schema."""

    def __init__(self, kind: Kind, errors: list[str]) -> None:
        super().__init__(
            f"the {NAMES[kind]} fails the UNTP {VERSION} schema: " + "; ".join(errors[:5])
        )
        self.errors = errors


def check(kind: Kind, credential: Any) -> None:
    """Raise :class:`CredentialSchemaError` unless ``credential`` validates."""
    errors = schema_errors(kind, credential)
    if errors:
        raise CredentialSchemaError(kind, errors)
