"""Server-side rendering of the consumer pages (Jinja2, autoescape on, no JavaScript)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from backend.gs1.digital_link import DigitalLink
from backend.gs1.errors import DigitalLinkError
from backend.qr.view import ProductPage

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
DEFAULT_STATIC_BASE = "/static"

_STATUS_TITLES = {400: "Bad request", 404: "Not found", 406: "Not acceptable", 500: "Server error"}


def format_number(value: Decimal | int | float, places: int = 2) -> str:
    """Thousands separators, at most ``places`` decimals, no trailing zeros."""
    quantised = Decimal(value).quantize(Decimal(1).scaleb(-places))
    text = f"{quantised:,.{places}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def format_datetime(value: datetime) -> str:
    """``21 Nov 2026, 14:05 UTC`` (naive datetimes are taken as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%-d %b %Y, %H:%M UTC")


def format_date(value: date) -> str:
    return value.strftime("%-d %b %Y")


def iso_datetime(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters["num"] = format_number
    env.filters["when"] = format_datetime
    env.filters["day"] = format_date
    env.filters["iso"] = iso_datetime
    return env


def render_product_page(view: ProductPage, *, static_base: str = DEFAULT_STATIC_BASE) -> str:
    """The full HTML document of a product passport page."""
    template = environment().get_template("product.html")
    return template.render(page=view, state=view.state.value, static_base=static_base)


def render_error_page(
    status: int, title: str, detail: str, *, static_base: str = DEFAULT_STATIC_BASE
) -> str:
    """An error page (400 invalid URI, 404 unknown item, ...) that says what is wrong."""
    template = environment().get_template("error.html")
    return template.render(
        status=status,
        status_title=_STATUS_TITLES.get(status, "Error"),
        title=title,
        detail=detail,
        static_base=static_base,
    )


def render_invalid_link_page(
    error: DigitalLinkError, *, static_base: str = DEFAULT_STATIC_BASE
) -> str:
    """The 400 page for a link that failed to parse; the error's message is the detail."""
    return render_error_page(
        400, "This is not a valid product link", error.message, static_base=static_base
    )


def render_not_found_page(link: DigitalLink, *, static_base: str = DEFAULT_STATIC_BASE) -> str:
    """The 404 page for a well-formed link with no published passport."""
    return render_error_page(
        404,
        "No product passport for this code",
        f"Nothing is registered for {link.hri}.",
        static_base=static_base,
    )
