"""Server-rendered pages: states, escaping, accessibility basics, no internal fields."""

from __future__ import annotations

import dataclasses
import itertools
import re
import time
import typing
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest

from backend.qr import view as view_module
from backend.qr.render import format_number, render_error_page, render_product_page
from backend.qr.view import PageState, Recall, Tamper
from tests.backend.qr.factories import product_page

RECALL = Recall("Button may detach", datetime(2026, 11, 1, tzinfo=UTC), "Return it for a refund.")
TAMPER = Tamper("passport document", "0x" + "aa" * 32, "0x" + "bb" * 32)


class _Outline(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self.scripts += 1


def _outline(html: str) -> _Outline:
    parser = _Outline()
    parser.feed(html)
    return parser


@pytest.mark.parametrize(
    ("overrides", "state", "banner"),
    [
        ({}, PageState.VERIFIED, "banner--verified"),
        ({"proof": None}, PageState.PENDING, "banner--pending"),
        ({"recall": RECALL}, PageState.RECALLED, "banner--recalled"),
        ({"tamper": TAMPER}, PageState.TAMPERED, "banner--tampered"),
    ],
)
def test_each_state_shows_its_own_banner(overrides, state, banner) -> None:
    page = product_page(**overrides)
    assert page.state is state
    html = render_product_page(page)
    assert f'class="banner {banner}"' in html
    others = {"banner--verified", "banner--pending", "banner--tampered"} - {banner}
    if state is not PageState.TAMPERED:
        assert not any(f'class="banner {o}"' in html for o in others)


def test_page_is_accessible_without_javascript() -> None:
    html = render_product_page(product_page())
    outline = _outline(html)
    tags = [t for t, _ in outline.tags]
    assert outline.scripts == 0
    assert re.search(r'<html lang="en">', html)
    assert tags.count("h1") == 1
    for landmark in ("header", "main", "footer", "nav"):
        assert landmark in tags
    # Heading levels never skip (h1 → h2 → h3).
    levels = [int(t[1]) for t in tags if re.fullmatch(r"h[1-6]", t)]
    assert levels[0] == 1
    assert all(b - a <= 1 for a, b in itertools.pairwise(levels))
    for tag, attrs in outline.tags:
        if tag == "img":
            assert attrs.get("alt"), "every image has alt text"


def test_user_text_is_escaped_and_bidi_isolated() -> None:
    hostile = '<script>alert("x")</script>'
    rtl = "Evil\u202etxt.exe"
    page = product_page(product_name=hostile, brand=rtl)
    html = render_product_page(page)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert f"<bdi>{rtl}</bdi>" in html  # the override cannot leak past its <bdi>
    assert _outline(html).scripts == 0


def test_very_long_strings_are_rendered_whole_inside_wrapping_containers() -> None:
    long = "W" * 10_000
    html = render_product_page(product_page(description=long, brand=long))
    assert html.count(long) >= 2
    from backend.paths import FRONTEND_STATIC

    css = (FRONTEND_STATIC / "qr.css").read_text()
    assert "overflow-wrap: anywhere" in css


FORBIDDEN = re.compile(r"(key|secret|password|owner|internal|_id$|^id$|api|token|db)", re.I)


def _field_names(cls: type, seen: set[type]) -> set[str]:
    if cls in seen or not dataclasses.is_dataclass(cls):
        return set()
    seen.add(cls)
    names = set()
    hints = typing.get_type_hints(cls, vars(view_module))
    for f in dataclasses.fields(cls):
        names.add(f.name)
        for arg in _flatten(hints[f.name]):
            names |= _field_names(arg, seen)
    return names


def _flatten(tp: object) -> list[type]:
    args = typing.get_args(tp)
    if not args:
        return [tp] if isinstance(tp, type) else []
    return [t for a in args for t in _flatten(a)]


def test_view_model_carries_no_internal_fields() -> None:
    names = _field_names(view_module.ProductPage, set())
    assert {"gtin", "signers", "merkle_root", "factor_source"} <= names  # the walk reached leaves
    public_ids = {"chain_id"}  # EIP-155 chain id: public chain data
    assert not [n for n in names - public_ids if FORBIDDEN.search(n)]


def test_error_page_states_the_problem_and_escapes_it() -> None:
    html = render_error_page(400, "Invalid product link", "lot contains '<b>'")
    assert "Error 400" in html
    assert "lot contains &#39;&lt;b&gt;&#39;" in html
    assert 'role="alert"' in html
    html404 = render_error_page(404, "No product found", "Nothing registered for 09506000134352")
    assert "Error 404" in html404
    assert "Nothing registered" in html404


def test_rendering_takes_a_few_milliseconds() -> None:
    page = product_page()
    render_product_page(page)
    start = time.perf_counter()
    for _ in range(50):
        render_product_page(page)
    per_render_ms = (time.perf_counter() - start) * 1000 / 50
    assert per_render_ms < 5


@pytest.mark.parametrize(
    ("value", "places", "text"),
    [(1234.5, 2, "1,234.5"), (0.0006, 2, "0"), (13100, 0, "13,100"), (6.30, 3, "6.3")],
)
def test_format_number(value, places, text) -> None:
    assert format_number(value, places) == text


def test_public_dict_is_json_and_mirrors_the_page() -> None:
    import json

    from backend.qr.view import public_dict

    data = public_dict(product_page(recall=RECALL))
    text = json.dumps(data)
    assert data["state"] == "recalled"
    assert data["carbon"][2]["legs"][0]["distance_km"] == "13100"
    assert data["journey"][3]["customs"] == "held"
    assert data["proof"]["block_number"] == 1842
    assert "qr_image_src" not in data
    assert not [k for k in re.findall(r'"(\w+)":', text) if FORBIDDEN.search(k) and k != "chain_id"]


def test_invalid_link_and_not_found_pages_come_from_the_parse_result() -> None:
    from backend.gs1.digital_link import build_digital_link, parse_digital_link
    from backend.gs1.errors import DigitalLinkError
    from backend.qr.render import render_invalid_link_page, render_not_found_page

    with pytest.raises(DigitalLinkError) as info:
        parse_digital_link("https://waymark.example/01/09506000134353")
    html = render_invalid_link_page(info.value)
    assert "Error 400" in html
    assert "GTIN check digit should be 2, got 3" in html
    html = render_not_found_page(build_digital_link("9506000134352", lot="A&B"))
    assert "Error 404" in html
    assert "(01) 09506000134352 (10) A&amp;B" in html
