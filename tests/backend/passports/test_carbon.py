"""Carbon and water footprint arithmetic against hand-computed examples."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.passports.carbon import (
    AIR_GCD_UPLIFT_KM,
    MODE_FACTORS,
    TransportLeg,
    footprint,
    haversine_km,
    leg_step,
    locode_distance_km,
    to_grams,
)
from backend.passports.errors import CarbonInputInvalid
from backend.passports.schemas import PassportDocument
from backend.passports.summary import key_figures, round_half_up
from backend.passports.units import convert

SAMPLE = Path(__file__).resolve().parents[3] / "backend/passports/samples/bamboo_tableware.json"


def _doc(**stage_lines: list[dict[str, object]]) -> PassportDocument:
    raw = json.loads(SAMPLE.read_text())
    raw["carbon"] = stage_lines
    return PassportDocument.model_validate(raw)


def _line(amount: float, unit: str, value: float, factor_unit: str) -> dict[str, object]:
    return {
        "description": f"{amount} {unit}",
        "activity": {"amount": amount, "unit": unit},
        "factor": {"value": value, "unit": factor_unit},
        "source": "hand example",
    }


@pytest.mark.parametrize(
    ("amount", "unit", "value", "factor_unit", "grams", "formula"),
    [
        (2, "kg", 0.5, "kgCO2e/kg", 1000, "2 kg × 0.5 kgCO2e/kg = 1 kgCO2e"),
        (500, "g", 2, "kgCO2e/t", 1, "0.0005 t × 2 kgCO2e/t = 0.001 kgCO2e"),
        (1.5, "t", 300, "gCO2e/kg", 450_000, "1,500 kg × 300 gCO2e/kg = 450,000 gCO2e"),
        (
            3.2,
            "kWh",
            0.6592,
            "tCO2e/MWh",
            2109.44,
            "0.0032 MWh × 0.6592 tCO2e/MWh = 0.00210944 tCO2e",
        ),
        (36, "MJ", 100, "gCO2e/kWh", 1000, "10 kWh × 100 gCO2e/kWh = 1,000 gCO2e"),
        (10, "mi", 1, "kgCO2e/km", 16_093.44, "16.0934 km × 1 kgCO2e/km = 16.0934 kgCO2e"),
        (2, "m3", 0.3, "gCO2e/L", 600, "2,000 L × 0.3 gCO2e/L = 600 gCO2e"),
    ],
)
def test_activity_lines_convert_units_and_show_the_working(
    amount: float, unit: str, value: float, factor_unit: str, grams: float, formula: str
) -> None:
    fp = footprint(_doc(manufacturing=[_line(amount, unit, value, factor_unit)]))
    (step,) = fp.stage("manufacturing").steps
    assert step.result_g_co2e == pytest.approx(grams)
    assert step.formula == formula
    assert step.inputs[0].amount == amount
    assert step.inputs[0].unit == unit
    assert bool(step.conversions) == (unit != factor_unit.partition("/")[2])
    assert fp.total_g_co2e == pytest.approx(grams)


def test_sample_footprint_matches_hand_computation() -> None:
    doc = PassportDocument.model_validate(json.loads(SAMPLE.read_text()))
    fp = footprint(doc)
    expected = {
        "raw_materials": 2.6 * 110 + 72 * 1.9 + 24 * 2.6,  # 485.2 g
        "manufacturing": 3.2 * 659.2 + 22 * 2.5,  # 2164.44 g
        "packaging": 250 * 0.89 + 40 * 1.1,  # 266.5 g
        "distribution": 0.312 * 78,  # 24.336 g
        "use": 5 * 371,  # 1855 g
        "end_of_life": 1.6 * 21,  # 33.6 g
    }
    for stage, grams in expected.items():
        assert fp.stage(stage).total_g_co2e == pytest.approx(grams), stage
    assert fp.total_g_co2e == pytest.approx(4829.076)
    assert fp.total_kg_co2e == pytest.approx(4.829076)
    assert fp.total_water_litres == 555
    assert fp.stage("use").water_litres == 500
    assert [s.stage for s in fp.stages] == list(expected)


def test_legs_are_added_to_distribution() -> None:
    doc = PassportDocument.model_validate(json.loads(SAMPLE.read_text()))
    leg = TransportLeg(
        "sea",
        1.95,
        distance=14_000,
        origin="VNHPH",
        destination="USLAX",
        source="ShipmentRegistry milestone DEPARTED 0xabc",
    )
    fp = footprint(doc, [leg])
    steps = fp.stage("distribution").steps
    assert len(steps) == 2
    sea = steps[1]
    assert sea.result_g_co2e == pytest.approx(0.00195 * 14_000 * 16)  # 436.8 g
    assert sea.evidence == "ShipmentRegistry milestone DEPARTED 0xabc"
    assert sea.conversions == ("1.95 kg = 0.00195 t", "0.00195 t × 14,000 km = 27.3 tkm")
    assert sea.formula == "27.3 tkm × 16 gCO2e/tkm = 436.8 gCO2e"
    assert fp.total_g_co2e == pytest.approx(4829.076 + 436.8)


def test_road_leg_in_miles_and_tonnes() -> None:
    step = leg_step(TransportLeg("road", 2, "t", distance=100, distance_unit="mi"))
    assert step.activity == pytest.approx(2 * 160.9344)
    assert step.result_g_co2e == pytest.approx(2 * 160.9344 * 78)  # 25,105.77 g
    assert step.conversions[0] == "100 mi = 160.934 km"


def test_leg_factor_can_be_overridden_with_its_source() -> None:
    step = leg_step(
        TransportLeg(
            "rail",
            10,
            "t",
            distance=500,
            factor_g_per_tkm=30,
            factor_source="Carrier EcoTransIT report 2026-Q3",
        )
    )
    assert step.result_g_co2e == 150_000
    assert step.factor == 30
    assert step.source == "Carrier EcoTransIT report 2026-Q3"


def test_default_leg_factor_cites_its_source() -> None:
    step = leg_step(TransportLeg("air", 1, "t", distance=1000))
    assert step.factor == MODE_FACTORS["air"].g_co2e_per_tkm
    assert "GLEC Framework" in step.source
    assert "ISO 14083" in step.source


def test_great_circle_distance() -> None:
    quarter = math.pi / 2 * 6371.0088
    assert haversine_km(0, 0, 0, 90) == pytest.approx(quarter)
    assert haversine_km(0, 0, 90, 0) == pytest.approx(quarter)
    assert locode_distance_km("USLAX", "USLGB") < 10
    # Haiphong to Los Angeles is about 12,300 km along the great circle.
    assert locode_distance_km("VNHPH", "USLAX") == pytest.approx(12_300, rel=0.01)


def test_air_leg_from_locodes_adds_the_standard_uplift() -> None:
    gcd = locode_distance_km("CNSZX", "USOAK")
    air = leg_step(TransportLeg("air", 1, "t", origin="CNSZX", destination="USOAK"))
    sea = leg_step(TransportLeg("sea", 1, "t", origin="CNSZX", destination="USOAK"))
    assert air.activity == pytest.approx(gcd + AIR_GCD_UPLIFT_KM)
    assert sea.activity == pytest.approx(gcd)
    assert air.description == "air transport CNSZX→USOAK"


@pytest.mark.parametrize(
    ("leg", "message"),
    [
        (TransportLeg("barge", 1, distance=1), "unknown transport mode 'barge'"),
        (TransportLeg("sea", -1, distance=1), "leg mass must not be negative"),
        (TransportLeg("sea", 1, "km", distance=1), "not a mass unit"),
        (TransportLeg("sea", 1, distance=-5), "leg distance must not be negative"),
        (TransportLeg("sea", 1, distance=5, distance_unit="kg"), "is not a distance"),
        (TransportLeg("sea", 1), "needs a distance or an origin and destination"),
        (
            TransportLeg("sea", 1, origin="NLRTM", destination="USLAX"),
            "no coordinates for UN/LOCODE 'NLRTM'",
        ),
        (
            TransportLeg("sea", 1, distance=1, factor_g_per_tkm=-3),
            "emission factor must not be negative",
        ),
        (TransportLeg("sea", 1, "lb", distance=1), "unknown activity unit 'lb'"),
    ],
)
def test_bad_legs_are_rejected(leg: TransportLeg, message: str) -> None:
    with pytest.raises(CarbonInputInvalid, match=message):
        leg_step(leg)


def test_emission_and_unit_conversions() -> None:
    assert to_grams(1.5, "tCO2e") == 1_500_000
    assert to_grams(2, "kgCO2e") == 2000
    assert to_grams(7, "gCO2e") == 7
    assert convert(1, "mi", "km") == 1.609344
    assert convert(2500, "g", "t") == pytest.approx(0.0025)
    with pytest.raises(CarbonInputInvalid, match="unknown emissions unit"):
        to_grams(1, "lbCO2e")
    with pytest.raises(CarbonInputInvalid, match="cannot convert kg \\(mass\\) to km"):
        convert(1, "kg", "km")


def test_key_figures_round_half_up() -> None:
    raw = json.loads(SAMPLE.read_text())
    raw["materials"][0]["recycled_share_pct"] = 50.0
    doc = PassportDocument.model_validate(raw)
    fp = footprint(doc, [TransportLeg("sea", 1.95, distance=14_000)])
    figures = key_figures(doc, fp)
    assert figures.origin_country == "VN"
    assert figures.recycled_content_bps == 4700  # 94 % x 50 %
    assert figures.carbon_grams_co2e == 5266  # 4829.076 + 436.8 = 5265.876
    assert figures.water_litres == 555
    assert [round_half_up(x) for x in (0.5, 1.5, 2.5, 2.4999)] == [1, 2, 3, 2]


@settings(max_examples=60, deadline=None)
@given(
    amount=st.floats(min_value=0, max_value=1e6, allow_nan=False),
    factor=st.floats(min_value=0, max_value=1e4, allow_nan=False),
    activity_unit=st.sampled_from(["g", "kg", "t"]),
    factor_mass=st.sampled_from(["g", "kg", "t"]),
    emissions=st.sampled_from(["gCO2e", "kgCO2e", "tCO2e"]),
)
def test_result_in_grams_does_not_depend_on_the_units_chosen(
    amount: float, factor: float, activity_unit: str, factor_mass: str, emissions: str
) -> None:
    kg = convert(amount, activity_unit, "kg")
    grams_per_kg = to_grams(factor, emissions) / convert(1, factor_mass, "kg")
    line = _line(amount, activity_unit, factor, f"{emissions}/{factor_mass}")
    (step,) = footprint(_doc(packaging=[line])).stage("packaging").steps
    assert step.result_g_co2e == pytest.approx(kg * grams_per_kg, rel=1e-9, abs=1e-9)
