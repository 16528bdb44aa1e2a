"""Jinja2 rendering of the dashboard (autoescape on, no JavaScript)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from backend.dashboard.rules import (
    CUSTOMS_HOLD_RED_AFTER,
    DEADLINE_WARNING,
    HOUR,
)
from backend.dashboard.service import AllianceSummary, ShipmentRow, counts

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


def _when(ts: int | None) -> str:
    if not ts:
        return "—"
    return datetime.fromtimestamp(ts, UTC).strftime("%-d %b %Y, %H:%M UTC")


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 14 else f"{text[:8]}…{text[-4:]}"


def _money(value: int | None) -> str:
    """Base units of a 6-decimal settlement token, e.g. ``2,320.00``."""
    if value is None:
        return "—"
    return f"{value / 10**6:,.2f}"


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = _when
    env.filters["short"] = _short
    env.filters["money"] = _money
    return env


def render_dashboard(
    *,
    org: str,
    rows: list[ShipmentRow],
    alliance: AllianceSummary,
    now: int,
    cookie: bool,
    agreements: list[dict[str, object]] | None = None,
) -> str:
    return (
        environment()
        .get_template("dashboard.html")
        .render(
            org=org,
            rows=rows,
            counts=counts(rows),
            alliance=alliance,
            agreements=agreements or [],
            now=now,
            cookie=cookie,
            hold_red_hours=CUSTOMS_HOLD_RED_AFTER // HOUR,
            warning_hours=DEADLINE_WARNING // HOUR,
        )
    )


def render_login(*, error: str | None) -> str:
    return environment().get_template("login.html").render(error=error)
