"""GS1 keys to passport ids: GTIN normalisation, check digits, Digital Link paths."""

from __future__ import annotations

import pytest
from eth_hash.auto import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.gs1.digital_link import DigitalLink, KeyLevel, parse_digital_link
from backend.gs1.errors import (
    DigitalLinkError,
    GS1Error,
    GtinInvalid,
    IdentifierInvalid,
    KeyQualifierInvalid,
)
from backend.gs1.gtin import gtin_check_digit
from backend.gs1.keys import key, normalise_gtin, passport_id

CSET82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"


@pytest.mark.parametrize(
    ("given_gtin", "gtin14"),
    [
        ("96385074", "00000096385074"),  # GTIN-8
        ("036000291452", "00036000291452"),  # GTIN-12 (UPC-A)
        ("4006381333931", "04006381333931"),  # GTIN-13 (EAN-13)
        ("09506000134352", "09506000134352"),  # GTIN-14, GS1 Digital Link examples
        ("10614141000415", "10614141000415"),  # GTIN-14 with indicator digit 1
        (" 4006381333931\n", "04006381333931"),  # surrounding whitespace is dropped
    ],
)
def test_normalise_gtin_pads_to_fourteen_digits(given_gtin: str, gtin14: str) -> None:
    assert normalise_gtin(given_gtin) == gtin14


@pytest.mark.parametrize(
    ("given_gtin", "message"),
    [
        ("4006381333932", "check digit should be 1, got 2"),
        ("96385075", "check digit should be 4, got 5"),
        ("12345", "must have 8, 12, 13 or 14 digits, got 5"),
        ("400638133393100", "digits, got 15"),
        ("40063813339A1", "must contain digits only"),
        ("4006381-333931", "must contain digits only"),
        ("", "GTIN is missing"),
        ("٤٠٠٦٣٨١٣٣٣٩٣١", "must contain digits only"),  # non-ASCII digits
        ("00000000000000", "must not be all zeros"),
    ],
)
def test_normalise_gtin_rejects_with_clear_message(given_gtin: str, message: str) -> None:
    with pytest.raises(GtinInvalid, match=message) as info:
        normalise_gtin(given_gtin)
    assert isinstance(info.value, IdentifierInvalid)
    assert isinstance(info.value, GS1Error)


def test_normalise_gtin_rejects_integers_which_lose_leading_zeros() -> None:
    with pytest.raises(GtinInvalid, match="must be a string"):
        normalise_gtin(4006381333931)  # type: ignore[arg-type]


def test_check_digit_matches_gs1_worked_example() -> None:
    # GS1 General Specifications 7.9.1: 629104150021 -> check digit 3.
    assert gtin_check_digit("629104150021") == 3


def test_passport_id_is_keccak_of_canonical_path() -> None:
    assert passport_id("09506000134352") == keccak(b"/01/09506000134352")
    assert passport_id("09506000134352", lot="ABC123") == keccak(b"/01/09506000134352/10/ABC123")
    assert passport_id("09506000134352", serial="12345") == keccak(b"/01/09506000134352/21/12345")
    assert passport_id("09506000134352", lot="L1", serial="S1") == keccak(
        b"/01/09506000134352/10/L1/21/S1"
    )


def test_passport_id_is_the_same_for_every_length_of_one_gtin() -> None:
    ids = {passport_id(g) for g in ("4006381333931", "04006381333931", " 4006381333931")}
    assert len(ids) == 1
    assert passport_id("4006381333931") != passport_id("4006381333931", lot="1")
    assert passport_id("4006381333931", lot="1") != passport_id("4006381333931", serial="1")


def test_path_percent_encodes_reserved_characters() -> None:
    assert key("96385074", lot="AB/12%", serial="x&y=1").path == (
        "/01/00000096385074/10/AB%2F12%25/21/x%26y%3D1"
    )


@pytest.mark.parametrize(
    ("lot", "serial", "message"),
    [
        ("", None, "lot \\(AI 10\\) is empty"),
        (None, "", "serial \\(AI 21\\) is empty"),
        ("A" * 21, None, "is 21 characters long; AI 10 allows at most 20"),
        ("LOT 7", None, "outside GS1 AI encodable set 82"),
        (None, "é1", "outside GS1 AI encodable set 82"),
    ],
)
def test_key_qualifiers_are_validated(lot: str | None, serial: str | None, message: str) -> None:
    with pytest.raises(KeyQualifierInvalid, match=message):
        passport_id("4006381333931", lot=lot, serial=serial)


def test_levels() -> None:
    assert key("4006381333931").level is KeyLevel.MODEL
    assert key("4006381333931", lot="L").level is KeyLevel.BATCH
    assert key("4006381333931", lot="L", serial="S").level is KeyLevel.ITEM


def test_parsed_link_has_the_key_and_passport_id_of_its_values() -> None:
    parsed = parse_digital_link(
        "https://id.example.com/01/4006381333931/10/A%2F1/21/S9?linkType=all"
    )
    assert parsed.without_link_type() == DigitalLink("04006381333931", "A/1", "S9")
    short = parse_digital_link("https://id.example.com/01/9506000134352")
    assert short.passport_id == passport_id("09506000134352")


@pytest.mark.parametrize(
    "uri",
    [
        "https://x.example/02/09506000134352",
        "https://x.example/01/09506000134352/21/S/10/L",
        "https://x.example/01/",
        "https://x.example/",
    ],
)
def test_parse_digital_link_rejects_other_paths(uri: str) -> None:
    with pytest.raises(DigitalLinkError):
        parse_digital_link(uri)


@settings(max_examples=60, deadline=None)
@given(
    lot=st.none() | st.text(alphabet=CSET82, min_size=1, max_size=20),
    serial=st.none() | st.text(alphabet=CSET82, min_size=1, max_size=20),
)
def test_path_round_trips_through_parse(lot: str | None, serial: str | None) -> None:
    given_key = key("09506000134352", lot, serial)
    assert parse_digital_link("https://resolver.example" + given_key.path) == given_key
    assert given_key.path.isascii()
