"""Jinja2 rendering of the dashboard (autoescape on; one small script localises times)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from backend.dashboard.rules import (
    CUSTOMS_HOLD_RED_AFTER,
    DEADLINE_WARNING,
    HOUR,
)
from backend.dashboard.service import AllianceSummary, ShipmentRow, counts
from backend.dashboard.shipment import ShipmentPage

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


def _when(ts: int | None) -> str:
    if not ts:
        return "—"
    return datetime.fromtimestamp(ts, UTC).strftime("%-d %b %Y, %H:%M UTC")


def _time(ts: int | None) -> Markup:
    """A ``<time>`` in UTC that ``local-time.js`` shows in the viewer's zone (UTC on hover)."""
    if not ts:
        return Markup("—")
    at = datetime.fromtimestamp(ts, UTC)
    utc = at.strftime("%-d %b %Y, %H:%M UTC")
    iso = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return Markup('<time datetime="{}" title="{}">{}</time>').format(iso, utc, utc)


def _kg(grams: int | None) -> str:
    if grams is None:
        return "—"
    return f"{grams / 1000:,.1f} kg".replace(".0 kg", " kg")


def _query(filters: dict[str, Any], **changes: Any) -> str:
    """The list's query string with ``changes`` applied (empty values dropped)."""
    merged = {**filters, **changes}
    return urlencode({k: v for k, v in merged.items() if v not in ("", None)})


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
    env.filters["time"] = _time
    env.filters["kg"] = _kg
    env.globals["query"] = _query
    env.filters["short"] = _short
    env.filters["money"] = _money
    return env


def render_dashboard(
    *,
    org: str,
    rows: list[ShipmentRow],
    all_rows: list[ShipmentRow],
    matching: int,
    alliance: AllianceSummary,
    names: dict[str, str],
    filters: dict[str, str],
    page: int,
    pages: int,
    per_page: int,
    now: int,
    cookie: bool,
    agreements: list[dict[str, object]] | None = None,
) -> str:
    routes = sorted({(r.snapshot.origin, r.snapshot.destination) for r in all_rows})
    parties = sorted(
        {(names.get(p, p), p) for r in all_rows for p in r.parties}, key=lambda x: x[0].lower()
    )
    return (
        environment()
        .get_template("dashboard.html")
        .render(
            org=org,
            rows=rows,
            counts=counts(all_rows),
            matching=matching,
            total=len(all_rows),
            routes=routes,
            parties=parties,
            names=names,
            filters=filters,
            page=page,
            pages=pages,
            per_page=per_page,
            alliance=alliance,
            agreements=agreements or [],
            now=now,
            cookie=cookie,
            hold_red_hours=CUSTOMS_HOLD_RED_AFTER // HOUR,
            warning_hours=DEADLINE_WARNING // HOUR,
        )
    )


def render_shipment(*, org: str, page: ShipmentPage, now: int, cookie: bool) -> str:
    return (
        environment().get_template("shipment.html").render(org=org, s=page, now=now, cookie=cookie)
    )


def render_login(*, error: str | None) -> str:
    return environment().get_template("login.html").render(error=error)
