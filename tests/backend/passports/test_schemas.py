"""Passport documents: the sample validates; bad documents fail with clear messages."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from backend.gs1.keys import passport_id
from backend.passports.errors import DocumentInvalid
from backend.passports.schemas import ISO_3166_ALPHA2, PassportDocument, parse_document

SAMPLE = Path(__file__).resolve().parents[3] / "backend/passports/samples/bamboo_tableware.json"


@pytest.fixture
def raw() -> dict[str, Any]:
    return json.loads(SAMPLE.read_text())


def test_sample_document_validates_and_is_in_published_form(raw: dict[str, Any]) -> None:
    doc = parse_document(raw)
    assert doc.origin.country == "VN"
    assert doc.passport_id == passport_id("8936045870013", lot="TH2611-07")
    assert sum(m.mass_share_pct for m in doc.materials) == pytest.approx(100)
    # The sample is stored exactly as the schema publishes it, so raw and parsed hash alike.
    assert doc.to_json_dict() == raw


def test_country_table_is_iso_3166_alpha_2() -> None:
    assert {"VN", "CN", "US", "GB", "DE"} <= ISO_3166_ALPHA2
    assert "UK" not in ISO_3166_ALPHA2
    assert len(ISO_3166_ALPHA2) >= 249


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def apply(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = doc
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        node[int(last) if last.isdigit() else last] = value

    return apply


def _shares(*values: float) -> Callable[[dict[str, Any]], None]:
    def apply(doc: dict[str, Any]) -> None:
        for material, value in zip(doc["materials"], values, strict=True):
            material["mass_share_pct"] = value

    return apply


@pytest.mark.parametrize(
    ("mutate", "problem"),
    [
        (
            _set("materials.0.mass_share_pct", 120),
            "materials[0].mass_share_pct: mass share must be between 0 and 100 %, got 120",
        ),
        (
            _set("materials.1.mass_share_pct", -4.5),
            "materials[1].mass_share_pct: mass share must be between 0 and 100 %, got -4.5",
        ),
        (
            _set("materials.2.recycled_share_pct", 101),
            "materials[2].recycled_share_pct: recycled share must be between 0 and 100 %, got 101",
        ),
        (
            _shares(90, 4.5, 1.5),
            "$: material mass shares sum to 96 %, expected 100 % (tolerance ±0.1)",
        ),
        (
            _shares(94, 4.5, 1.7),
            "$: material mass shares sum to 100.2 %, expected 100 % (tolerance ±0.1)",
        ),
        (
            _set("origin.country", "UK"),
            "origin.country: unknown ISO 3166-1 alpha-2 country code 'UK'",
        ),
        (
            _set("materials.2.origin_country", "cn"),
            "materials[2].origin_country: unknown ISO 3166-1 alpha-2 country code 'cn'",
        ),
        (
            _set("carbon.raw_materials.0.factor.value", -0.5),
            "carbon.raw_materials[0].factor.value: emission factor must not be negative, got -0.5",
        ),
        (
            _set("carbon.use.0.activity.amount", -5),
            "carbon.use[0].activity.amount: activity amount must not be negative, got -5",
        ),
        (
            _set("carbon.packaging.0.activity.unit", "lbs"),
            "carbon.packaging[0].activity.unit: unknown activity unit 'lbs'",
        ),
        (
            _set("carbon.packaging.0.factor.unit", "kgCO2/kg"),
            "carbon.packaging[0].factor.unit: unknown emission factor unit 'kgCO2/kg'",
        ),
        (
            _set("carbon.use.0.factor.unit", "kgCO2e/kg"),
            "carbon.use[0]: activity unit 'kWh' (energy) does not match factor unit "
            "'kgCO2e/kg' (per mass)",
        ),
        (_set("water.use", -1), "water.use: water use must not be negative, got -1"),
        (
            _set("certifications.1.valid_until", "2025-01-01"),
            "certifications[1]: valid_until 2025-01-01 is before valid_from 2026-01-15",
        ),
        (
            _set("materials.1.certifications", ["oeko-tex"]),
            "refers to certification 'oeko-tex', which the document does not list",
        ),
        (
            _set("identity.gtin", "8936045870014"),
            "identity: GTIN check digit should be 3, got 4 (in '8936045870014')",
        ),
        (_set("origin.colour", "green"), "origin.colour: Extra inputs are not permitted"),
        (_set("materials", []), "materials: List should have at least 1 item"),
    ],
)
def test_invalid_document_is_rejected_with_clear_message(
    raw: dict[str, Any], mutate: Callable[[dict[str, Any]], None], problem: str
) -> None:
    doc = copy.deepcopy(raw)
    mutate(doc)
    with pytest.raises(DocumentInvalid) as info:
        parse_document(doc)
    assert any(problem in p for p in info.value.problems), info.value.problems


def test_mass_shares_within_tolerance_are_accepted(raw: dict[str, Any]) -> None:
    _shares(33.33, 33.33, 33.33)(raw)
    assert len(parse_document(raw).materials) == 3


def test_every_problem_is_reported_at_once(raw: dict[str, Any]) -> None:
    raw["origin"]["country"] = "XX"
    raw["water"]["use"] = -1
    with pytest.raises(DocumentInvalid) as info:
        parse_document(raw)
    assert len(info.value.problems) == 2
    assert "origin.country" in str(info.value)


def test_parse_document_reports_bad_json() -> None:
    with pytest.raises(DocumentInvalid, match="not valid JSON"):
        parse_document("{not json")


def test_parse_document_accepts_json_text_and_normalises_gtin(raw: dict[str, Any]) -> None:
    raw["identity"]["gtin"] = "8936045870013"
    doc = parse_document(json.dumps(raw))
    assert doc.identity.gtin == "08936045870013"


def test_recycled_content_is_mass_weighted(raw: dict[str, Any]) -> None:
    raw["materials"][0]["recycled_share_pct"] = 50.0
    raw["materials"][2]["recycled_share_pct"] = 100.0
    doc = PassportDocument.model_validate(raw)
    assert doc.recycled_content_pct() == pytest.approx(94 * 0.5 + 1.5)
