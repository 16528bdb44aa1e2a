"""The key figures a passport version puts on chain, derived from its document."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from backend.passports.carbon import Footprint
from backend.passports.schemas import PassportDocument


@dataclass(frozen=True)
class KeyFigures:
    """``PassportContent`` fields other than the document hash and URI."""

    origin_country: str
    recycled_content_bps: int
    carbon_grams_co2e: int
    water_litres: int


def round_half_up(value: float) -> int:
    """Round to the nearest integer, halves away from zero (not banker's rounding)."""
    return int(Decimal(repr(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def key_figures(doc: PassportDocument, fp: Footprint) -> KeyFigures:
    """Origin, recycled content (bps), footprint (g) and water (L), rounded half up."""
    return KeyFigures(
        origin_country=doc.origin.country,
        recycled_content_bps=round_half_up(doc.recycled_content_pct() * 100),
        carbon_grams_co2e=round_half_up(fp.total_g_co2e),
        water_litres=round_half_up(fp.total_water_litres),
    )
