"""Text or JSON output for CLI commands."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any

import click


@dataclass
class Output:
    """Where a command's result goes: human text or one JSON document."""

    as_json: bool = False

    def emit(self, data: dict[str, Any], text: str | None = None) -> None:
        if self.as_json:
            click.echo(json.dumps(data, indent=2, sort_keys=True, default=_default))
        else:
            click.echo(text if text is not None else _as_text(data))

    def fail(self, message: str) -> None:
        """Exit 2 with ``message`` (JSON on stdout as well when --json)."""
        if self.as_json:
            click.echo(json.dumps({"error": message}))
        click.echo(f"error: {message}", err=True)
        sys.exit(2)


def _default(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)


def _as_text(data: dict[str, Any]) -> str:
    width = max((len(k) for k in data), default=0)
    return "\n".join(
        f"{k.ljust(width)}  {_default(v) if isinstance(v, bytes) else v}" for k, v in data.items()
    )
