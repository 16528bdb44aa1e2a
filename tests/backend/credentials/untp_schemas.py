"""Validate exported credentials against the vendored, published UNTP 0.6.1 schemas.

Reads the schema files directly with ``jsonschema`` (formats asserted), not through
``backend.credentials.untp``, so a mapping bug and a validation bug cannot hide each other.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from backend.paths import PROJECT_ROOT

SCHEMAS = PROJECT_ROOT / "backend" / "credentials" / "schemas"
VC2_SHAPE = json.loads((Path(__file__).parent / "vc2_base_shape.json").read_text())


@cache
def validator(kind: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMAS / f"untp-{kind}-schema.json").read_text())
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def untp_errors(kind: str, credential: Any) -> list[str]:
    return [
        f"/{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}"
        for e in validator(kind).iter_errors(credential)
    ]


def assert_untp_valid(kind: str, credential: Any) -> None:
    """The credential validates against the UNTP ``kind`` schema and the VC 2.0 base shape."""
    assert untp_errors(kind, credential) == []
    jsonschema.validate(credential, VC2_SHAPE)
