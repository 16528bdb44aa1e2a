"""Every text/background colour pair of the consumer pages meets WCAG AA (4.5:1)."""

from __future__ import annotations

import re

import pytest

from backend.paths import FRONTEND_STATIC

CSS = (FRONTEND_STATIC / "qr.css").read_text()
VARS = dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})", CSS))

PAIRS = [
    ("ink", "paper"),
    ("ink", "canvas"),
    ("muted", "paper"),
    ("muted", "canvas"),
    ("accent", "paper"),
    ("ok-ink", "ok-bg"),
    ("wait-ink", "wait-bg"),
    ("recall-ink", "recall-bg"),
    ("tamper-ink", "tamper-bg"),
    ("bad-ink", "bad-bg"),
    ("paper", "accent"),  # button text
]


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


@pytest.mark.parametrize(("fg", "bg"), PAIRS)
def test_colour_pair_contrast_is_at_least_4_5(fg: str, bg: str) -> None:
    assert contrast(VARS[fg], VARS[bg]) >= 4.5


def test_contrast_formula_matches_known_values() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
