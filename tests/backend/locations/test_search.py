"""UN/LOCODE search (``GET /v1/locations``) over the current release kept in the repository.

The searches only read, so the module shares one app and database (``module_api``).
"""

from __future__ import annotations

import threading

import pytest
from fastapi.testclient import TestClient

from backend.chain import ChainClient
from backend.locations import unlocode
from backend.main import create_app
from tests.backend.conftest import api_settings
from tests.conftest import deployment_for


@pytest.fixture(scope="module")
def api(module_api: TestClient) -> TestClient:
    """The module's shared app (searches read the index, never the database)."""
    return module_api


def codes(api: TestClient, **params: str | int) -> list[str]:
    resp = api.get("/v1/locations", params=params)
    assert resp.status_code == 200, resp.text
    return [item["code"] for item in resp.json()["items"]]


def test_an_exact_code_comes_first_with_its_place_and_country(api: TestClient) -> None:
    resp = api.get("/v1/locations", params={"q": "nlrtm"})
    body = resp.json()
    assert body["items"][0] == {
        "code": "NLRTM",
        "name": "Rotterdam",
        "country": "NL",
        "country_name": "Netherlands",
    }
    assert body["source"].startswith("UN/LOCODE 2024-2")


def test_current_codes_resolve_and_are_found_by_name(api: TestClient) -> None:
    """Haiphong is VNHPH in the current list (the 2015 list had only VNHAP)."""
    resp = api.get("/v1/locations", params={"q": "VNHPH"})
    assert resp.json()["items"][0] == {
        "code": "VNHPH",
        "name": "Haiphong",
        "country": "VN",
        "country_name": "Viet Nam",
    }
    for name in ("Haiphong", "hai phong", "Hải Phòng"):
        assert codes(api, q=name)[0] == "VNHPH", name
    # The older code is still accepted where it was signed, but no longer offered.
    assert unlocode.known("VNHAP")
    assert "VNHAP" not in codes(api, q="VNHA", limit=20)
    assert unlocode.lookup("vn hph") == unlocode.search("VNHPH")[0]


def test_place_names_match_by_prefix_without_diacritics(api: TestClient) -> None:
    assert codes(api, q="ho chi")[0] == "VNSGN"
    assert codes(api, q="goteborg")[0] == "SEGOT"
    # A word inside the name matches too, after the names that start with the text.
    found = codes(api, q="cai mep")
    assert found[:2] == ["VNTOT", "VNCMT"]


def test_a_country_filter_narrows_and_reads_three_letters_as_a_code(api: TestClient) -> None:
    rotterdams = codes(api, q="rotterdam")
    assert {"NLRTM", "USRAJ"} <= set(rotterdams)
    assert codes(api, q="rotterdam", country="us")[0] == "USRAJ"
    assert "NLRTM" not in codes(api, q="rotterdam", country="US")
    assert codes(api, q="sgn", country="VN") == ["VNSGN"]
    assert len(codes(api, country="VN", limit=20)) == 20


@pytest.mark.parametrize(
    "params",
    [{"country": "VNM"}, {"country": "1"}, {"q": "x" * 41}, {"limit": 0}, {"limit": 21}],
)
def test_bad_parameters_are_422_naming_the_parameter(
    api: TestClient, params: dict[str, str | int]
) -> None:
    resp = api.get("/v1/locations", params=params)
    assert resp.status_code == 422
    assert next(iter(params)) in resp.text


def test_nothing_found_is_an_empty_list() -> None:
    assert unlocode.search("zzzzzz") == []
    assert unlocode.lookup("VNHAP") is not None
    assert unlocode.lookup("XXZZZ") is None
    assert unlocode.known("XXZZZ", also=frozenset({"XXZZZ"}))


def test_the_index_is_built_at_start_up_before_any_search(
    db_url: str, tester: ChainClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh = unlocode._Once(unlocode._read_index)
    monkeypatch.setattr(unlocode, "_INDEX", fresh)
    assert not unlocode.ready()
    app = create_app(api_settings(db_url), tester, deployment=deployment_for(tester))
    with TestClient(app):
        # No search was made: the app's start began the build; wait for it to end.
        assert fresh.wait()
        assert unlocode.ready()


def test_a_search_during_the_start_up_build_waits_for_it_and_nothing_is_built_twice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    searching = threading.Event()
    builds: list[int] = []

    def build() -> unlocode._Index:
        builds.append(1)
        searching.wait()  # hold this build until a search has come in
        return unlocode._read_index()

    fresh = unlocode._Once(build)
    monkeypatch.setattr(unlocode, "_INDEX", fresh)
    unlocode.warm_up()
    found: list[list[str]] = []

    def search() -> None:
        searching.set()
        found.append([loc.code for loc in unlocode.search("nlrtm")])

    searcher = threading.Thread(target=search)
    searcher.start()
    searcher.join()
    assert found == [["NLRTM"]]
    assert fresh.wait()
    unlocode.warm_up()  # started once: a later start builds nothing
    assert builds == [1]


def test_a_code_of_the_older_list_is_found_by_reading_its_country_only() -> None:
    found = unlocode.lookup("vn hap")
    assert found is not None
    assert (found.code, found.country_name) == ("VNHAP", "Viet Nam")
    assert unlocode.lookup("ZZHAP") is None
    assert unlocode.lookup("../..") is None
    assert unlocode.lookup("") is None
