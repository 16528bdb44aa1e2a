"""GS1 Digital Link parsing, normalisation, building; the resolver's negotiation and linkset."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.gs1.digital_link import (
    CSET82,
    DigitalLink,
    build_digital_link,
    parse_digital_link,
)
from backend.gs1.errors import DigitalLinkError, GtinError
from backend.gs1.gtin import gtin_check_digit, normalise_gtin
from backend.qr.linkset import linkset, negotiate

H = "https://waymark.example"

VALID = [
    # (uri, gtin14, lot, serial, linkType)
    (f"{H}/01/09506000134352", "09506000134352", None, None, None),
    (f"{H}/01/9506000134352", "09506000134352", None, None, None),  # GTIN-13
    (f"{H}/01/012345678905", "00012345678905", None, None, None),  # GTIN-12 (UPC-A)
    (f"{H}/01/96385074", "00000096385074", None, None, None),  # GTIN-8
    (f"{H}/01/09506000134352/10/LOT42", "09506000134352", "LOT42", None, None),
    (f"{H}/01/09506000134352/21/SN1", "09506000134352", None, "SN1", None),
    (f"{H}/01/09506000134352/10/L1/21/S1", "09506000134352", "L1", "S1", None),
    (f"{H}/01/09506000134352/10/AB%2F12", "09506000134352", "AB/12", None, None),
    (f"{H}/01/09506000134352/21/x%25y%26z", "09506000134352", None, "x%y&z", None),
    (f"{H}/01/09506000134352/21/%21%22%28%29%2A%2B%2C", "09506000134352", None, '!"()*+,', None),
    (f"{H}/01/09506000134352/10/" + "A" * 20, "09506000134352", "A" * 20, None, None),
    # An unsupported linkType answers the default link (GS1-Conformant resolver).
    (f"{H}/01/09506000134352?linkType=gs1:recipeInfo", "09506000134352", None, None, None),
    (f"{H}/01/09506000134352/?linkType=gs1:pip", "09506000134352", None, None, "gs1:pip"),
    (f"{H}/01/09506000134352?linkType=gs1:epcis", "09506000134352", None, None, "gs1:epcis"),
    (
        f"{H}/01/09506000134352?linkType=https://gs1.org/voc/traceability",
        "09506000134352",
        None,
        None,
        "gs1:traceability",
    ),
    (f"{H}/01/09506000134352?linkType=all", "09506000134352", None, None, "all"),
    (f"{H}/01/09506000134352?utm_source=box", "09506000134352", None, None, None),
    (f"{H}/shop/p/01/09506000134352/21/7", "09506000134352", None, "7", None),  # path prefix
    (f"http://{'localhost:8000'}/01/09506000134352", "09506000134352", None, None, None),
]

INVALID = [
    # (uri, expected message fragment, field)
    (f"{H}/01/09506000134353", "GTIN check digit should be 2, got 3", "gtin"),
    (f"{H}/01/9506000134357", "GTIN check digit should be 2, got 7", "gtin"),
    (f"{H}/01/0950600013435X", "GTIN must contain digits only, found 'X'", "gtin"),
    (f"{H}/01/1234567", "GTIN must have 8, 12, 13 or 14 digits, got 7", "gtin"),
    (f"{H}/01/095060001343520", "GTIN must have 8, 12, 13 or 14 digits, got 15", "gtin"),
    (f"{H}/01/", "GTIN is missing after '/01/'", "gtin"),
    (f"{H}/10/LOT42", "no GTIN", "gtin"),
    (f"{H}/", "no GTIN", "gtin"),
    (
        f"{H}/01/09506000134352/10/" + "A" * 21,
        "lot is 21 characters long; AI 10 allows at most 20",
        "lot",
    ),
    (f"{H}/01/09506000134352/21/" + "9" * 21, "serial is 21 characters long", "serial"),
    (
        f"{H}/01/09506000134352/10/%E2%82%AC",
        "lot contains a character outside GS1 AI encodable set 82: '€'",
        "lot",
    ),
    (
        f"{H}/01/09506000134352/21/a%20b",
        "serial contains a character outside GS1 AI encodable set 82: ' '",
        "serial",
    ),
    (f"{H}/01/09506000134352/21/a%2", "serial has a malformed percent-encoding", "serial"),
    (f"{H}/01/09506000134352/21/S1/10/L1", "go in the order 22 (cpv), 10 (lot), 21", "path"),
    (f"{H}/01/09506000134352/10/L1/10/L2", "a key qualifier appears twice", "path"),
    (f"{H}/01/09506000134352/17/261231", "AI '17' is not a key qualifier", "path"),
    (f"{H}/01/09506000134352/10", "AI '10' has no value", "path"),
    (
        f"{H}/01/09506000134352?linkType=gs1:pip&linkType=gs1:epcis",
        "linkType appears more than once",
        "linkType",
    ),
    ("ftp://x.example/01/09506000134352", "scheme must be http or https", "uri"),
    (f"{H}/01/09506000134352#top", "fragment", "uri"),
    (f"{H}/01/09506000134352/10/€", "must be percent-encoded: '€'", "uri"),
    (f"{H}//01/09506000134352", "empty segment", "path"),
]


@pytest.mark.parametrize(("uri", "gtin", "lot", "serial", "link_type"), VALID)
def test_parse_accepts_valid_links_and_normalises(uri, gtin, lot, serial, link_type) -> None:
    link = parse_digital_link(uri)
    assert link == DigitalLink(gtin, lot, serial, link_type)
    # Round trip: the built URI parses back to the same link.
    assert parse_digital_link(link.uri(H)) == link


@pytest.mark.parametrize(("uri", "message", "field"), INVALID)
def test_parse_rejects_invalid_links_with_a_precise_message(uri, message, field) -> None:
    with pytest.raises(DigitalLinkError) as info:
        parse_digital_link(uri)
    assert message in str(info.value)
    assert info.value.field == field


def test_table_has_at_least_25_cases() -> None:
    assert len(VALID) + len(INVALID) >= 25


def test_build_percent_encodes_reserved_characters_canonically() -> None:
    link = build_digital_link("9506000134352", lot="A/B%C&D", serial="x+y")
    assert link.path == "/01/09506000134352/10/A%2FB%25C%26D/21/x%2By"
    assert link.canonical == "https://id.gs1.org/01/09506000134352/10/A%2FB%25C%26D/21/x%2By"
    assert link.hri == "(01) 09506000134352 (10) A/B%C&D (21) x+y"


def test_build_rejects_lot_outside_cset82() -> None:
    with pytest.raises(DigitalLinkError, match="outside GS1 AI encodable set 82: '€'"):
        build_digital_link("9506000134352", lot="€1")


@pytest.mark.parametrize(
    ("body", "digit"),
    [
        ("950600013435", 2),
        ("01234567890", 5),
        ("9638507", 4),
        ("0950600013435", 2),
        ("629104150021", 3),
    ],
)
def test_gtin_check_digit_matches_known_gtins(body: str, digit: int) -> None:
    assert gtin_check_digit(body) == digit


def test_normalise_gtin_pads_to_14_and_raises_typed_error() -> None:
    assert normalise_gtin("96385074") == "00000096385074"
    with pytest.raises(GtinError, match="should be 4, got 0"):
        normalise_gtin("96385070")


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "html"),
        ("", "html"),
        ("*/*", "html"),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "html"),
        ("application/json", "json"),
        ("application/ld+json", "json"),
        ("application/linkset+json", "linkset"),
        ("text/html;q=0.5, application/json", "json"),
        ("application/json;q=0, */*", "html"),
        ("application/*", "json"),
        ("image/png", None),
    ],
)
def test_negotiate_chooses_representation_from_accept(accept, expected) -> None:
    assert negotiate(accept) == expected


def test_linkset_lists_every_supported_link_type() -> None:
    link = build_digital_link("9506000134352", serial="S1")
    doc = linkset(link, base=H)
    entry = doc["linkset"][0]
    assert entry["anchor"] == "https://id.gs1.org/01/09506000134352/21/S1"
    for name in ("pip", "traceability", "epcis", "certificationInfo", "sustainabilityInfo"):
        assert entry[f"https://gs1.org/voc/{name}"][0]["href"].startswith(
            f"{H}/01/09506000134352/21/S1"
        )
    assert entry["https://gs1.org/voc/epcis"][0]["type"] == "application/ld+json"


CSET82_TEXT = st.text(alphabet=sorted(CSET82), min_size=1, max_size=20)


@settings(max_examples=100, deadline=None)
@given(body=st.from_regex(r"\A[0-9]{12}[1-9]\Z"), lot=CSET82_TEXT, serial=st.none() | CSET82_TEXT)
def test_build_then_parse_round_trips_any_cset82_value(body: str, lot: str, serial) -> None:
    gtin = body + str(gtin_check_digit(body))
    link = build_digital_link(gtin, lot=lot, serial=serial)
    assert parse_digital_link(link.uri(H)) == link
    assert parse_digital_link(link.canonical) == link
