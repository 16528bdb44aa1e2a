"""The resolver routes on the real app, with data created through the API."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from backend.chain import ChainClient
from backend.db import migrate
from backend.db.engine import make_engine
from backend.epcis.document import schema_errors
from backend.gs1.digital_link import DigitalLink
from backend.gs1.keys import passport_id
from backend.main import create_app
from backend.qr.bundle.verify import verify_bundle
from backend.qr.images import sheet_layout
from tests.backend.conftest import api_settings
from tests.backend.qr.flow import Flow, make_flow
from tests.backend.qr.third_party import rpc_of, trust_of
from tests.conftest import deployment_for
from tests.context import context

GTIN = "08936045870013"
ITEM = f"/01/{GTIN}/10/L1/21/SN-1"
HTML_ACCEPT = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"}
JSON_ACCEPT = {"Accept": "application/json"}
# Names a public view must never carry (database ids, keys, organisation internals).
INTERNAL = re.compile(r"(^|_)(org|org_id|api|key|keys|internal|owner|relay|lease|outbox)($|_)")


@pytest.fixture(scope="module")
def shared(
    tester_chain: ChainClient, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Flow, dict[str, Any]]]:
    """One app and database for the read-only tests: an item passport (lot L1, serial
    SN-1) shipped VNSGN → USLAX through a customs hold, with anchored events, plus a
    batch passport for lot L1 and the model passport."""
    dep = deployment_for(tester_chain)
    snap = tester_chain.snapshot()
    url = f"sqlite:///{tmp_path_factory.mktemp('resolver') / 'waymark.sqlite3'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    try:
        with TestClient(create_app(api_settings(url), tester_chain, deployment=dep)) as client:
            flow = make_flow(client, tester_chain)
            link, doc = flow.issue(lot="L1", serial="SN-1")
            flow.issue(lot="L1")
            flow.issue()
            pid = passport_id(link.gtin, link.lot, link.serial)
            sid = flow.ship(pid, hold=True)
            flow.sign_events(pid, by=flow.carrier)
            flow.anchor()
            yield flow, {"link": link, "doc": doc, "pid": pid, "sid": sid}
    finally:
        tester_chain.revert(snap)


@pytest.fixture
def world(shared: tuple[Flow, dict[str, Any]]) -> dict[str, Any]:
    return shared[1]


@pytest.fixture
def reader(shared: tuple[Flow, dict[str, Any]]) -> Flow:
    return shared[0]


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        out = set(value)
        for v in value.values():
            out |= _keys(v)
        return out
    if isinstance(value, list):
        return set().union(*(_keys(v) for v in value)) if value else set()
    return set()


def test_item_page_shows_passport_carbon_working_journey_and_proof(
    reader: Flow, world: dict[str, Any]
) -> None:
    resp = reader.api.get(ITEM, headers=HTML_ACCEPT)
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/html")
    assert 'rel="linkset"' in resp.headers["link"]
    html = resp.text
    assert "Solid bamboo dinner set" in html
    assert 'id="resolved-level">item passport<' in html
    assert "Verified on chain" in html
    # Carbon working: the sea leg from the attested DEPARTED/ARRIVED pair, written out.
    assert re.search(r"t × [\d,]+ km = [\d.,]+ t·km × 0\.016 kg", html)
    assert "Ho Chi Minh City" in html
    assert "Los Angeles" in html
    # Journey in plain words.
    for text in (
        "Picked up by the carrier",
        "Cleared for export at",
        "Held by customs at Los Angeles",
        "Released by customs at Los Angeles",
    ):
        assert text in html
    assert reader.seller.signer.address in html  # signer addresses in the proof section
    assert "Merkle root" in html
    assert f'href="/proof-bundle/0x{world["pid"].hex()}.json"' in html


RESOLUTION = [
    (ITEM, "item passport"),
    (f"/01/{GTIN}/10/L1/21/SN-2", "batch passport (lot L1)"),
    (f"/01/{GTIN}/10/L1", "batch passport (lot L1)"),
    (f"/01/{GTIN}/21/SN-9", "model passport"),
    (f"/01/{GTIN}/10/L9", "model passport"),
    (f"/01/{GTIN}", "model passport"),
]


def test_resolution_falls_back_item_then_batch_then_model(reader: Flow, world: Any) -> None:
    for path, level in RESOLUTION:
        resp = reader.api.get(path)
        assert resp.status_code == 200, resp.text
        shown = re.search(r'id="resolved-level">([^<]*)<', resp.text)
        assert shown is not None
        assert shown.group(1).startswith(level), path
        exact = path in (ITEM, f"/01/{GTIN}/10/L1", f"/01/{GTIN}")
        assert ("closest one" in shown.group(1)) is not exact, path


def test_route_table(reader: Flow, world: dict[str, Any]) -> None:
    api = reader.api
    # GTIN-13 and a trailing slash redirect permanently to the canonical 14-digit URI.
    for given, canonical in (
        ("/01/8936045870013/10/L1/21/SN-1", ITEM),
        (ITEM + "/", ITEM),
        ("/01/8936045870013?linkType=all", f"/01/{GTIN}?linkType=all"),
        (f"/01/{GTIN}/10/L%31", f"/01/{GTIN}/10/L1"),
    ):
        resp = api.get(given, follow_redirects=False)
        assert resp.status_code == 301, given
        assert resp.headers["location"] == canonical
    # Invalid links: 400 page saying what is wrong; JSON error for JSON clients.
    for bad, message in (
        ("/01/08936045870014", "GTIN check digit should be 3, got 4"),
        ("/01/089360458700131", "GTIN must have 8, 12, 13 or 14 digits, got 15"),
        (f"/01/{GTIN}/21/S/10/L", "go in the order 22 (cpv), 10 (lot), 21 (serial)"),
        (f"/01/{GTIN}/10/" + "A" * 21, "lot is 21 characters long"),
        (f"/01/{GTIN}?17=261340", "AI 17 (USE BY) is not a YYMMDD date"),
    ):
        page = api.get(bad, headers=HTML_ACCEPT)
        assert page.status_code == 400, bad
        assert page.headers["content-type"].startswith("text/html")
        assert message.replace("'", "&#39;") in page.text, page.text
        err = api.get(bad, headers=JSON_ACCEPT)
        assert err.status_code == 400
        assert err.json()["error"] == "invalid_digital_link"
        assert message in err.json()["detail"]
    # An unsupported linkType answers the default link; tracking parameters are ignored.
    for extra in ("?linkType=gs1:recipeInfo", "?fbclid", "?utm_source=x&"):
        default = api.get(ITEM + extra)
        assert default.status_code == 200, extra
        assert "Solid bamboo" in default.text
    # A custom path prefix: the canonical link.
    prefixed = api.get("/shop/en" + ITEM, follow_redirects=False)
    assert prefixed.status_code == 301
    assert prefixed.headers["location"] == ITEM
    # Unknown item: 404 in both representations.
    assert api.get("/01/09506000134352").status_code == 404
    assert "No product passport" in api.get("/01/09506000134352").text
    assert api.get("/01/09506000134352", headers=JSON_ACCEPT).json()["error"] == "not_found"
    # Content negotiation.
    assert api.get(ITEM, headers={"Accept": "image/png"}).status_code == 406
    body = api.get(ITEM, headers=JSON_ACCEPT).json()
    assert body["passport"]["product_name"].startswith("Solid bamboo")
    assert body["passport"]["state"] == "verified"
    assert body["proof_bundle"]["format"] == "waymark-proof-bundle/3"
    assert api.get(ITEM, headers={"Accept": "application/linkset+json"}).json()["linkset"]


def test_each_link_type(reader: Flow, world: dict[str, Any]) -> None:
    api = reader.api
    linkset = api.get(ITEM + "?linkType=all")
    assert linkset.headers["content-type"].startswith("application/linkset+json")
    entry = linkset.json()["linkset"][0]
    assert entry["anchor"] == f"https://id.gs1.org{ITEM}"
    assert "https://gs1.org/voc/pip" in entry
    assert "https://gs1.org/voc/epcis" in entry
    pip = api.get(ITEM + "?linkType=gs1:pip")
    assert pip.status_code == 200
    assert "Solid bamboo" in pip.text
    for link_type in ("gs1:epcis", "https://gs1.org/voc/epcis"):
        epcis = api.get(ITEM + f"?linkType={link_type}")
        assert epcis.headers["content-type"].startswith("application/ld+json")
        doc = epcis.json()
        assert schema_errors(doc) == []
        steps = [e["bizStep"] for e in doc["epcisBody"]["eventList"]]
        assert steps == ["shipping", "inspecting", "departing", "arriving", "holding", "inspecting"]
        assert doc["epcisBody"]["eventList"][0]["epcList"] == [
            f"https://id.gs1.org/01/{GTIN}/21/SN-1"
        ]
    trace = api.get(ITEM + "?linkType=gs1:traceability", headers=JSON_ACCEPT)
    assert trace.headers["content-type"].startswith("application/ld+json")
    for link_type, anchor in (
        ("gs1:traceability", "#journey"),
        ("gs1:certificationInfo", "#certifications"),
        ("gs1:sustainabilityInfo", "#footprint"),
    ):
        resp = api.get(ITEM + f"?linkType={link_type}", follow_redirects=False)
        assert resp.status_code == 303
        assert resp.headers["location"] == ITEM + anchor
    certs = api.get(ITEM + "?linkType=gs1:certificationInfo", headers=JSON_ACCEPT).json()
    assert set(certs) == {"digital_link", "state", "certifications"}
    assert certs["certifications"]
    footprint = api.get(ITEM + "?linkType=gs1:sustainabilityInfo", headers=JSON_ACCEPT).json()
    assert set(footprint) == {"digital_link", "state", "carbon", "water"}
    assert any(stage["legs"] for stage in footprint["carbon"])


def test_public_views_carry_no_internal_fields(reader: Flow, world: dict[str, Any]) -> None:
    body = reader.api.get(ITEM, headers=JSON_ACCEPT).json()
    leaked = {k for k in _keys(body) if INTERNAL.search(k)}
    assert leaked == set()
    html = reader.api.get(ITEM).text
    for secret in (*reader.seller.writer.values(), *reader.carrier.writer.values()):
        assert secret not in html
        assert secret not in json.dumps(body)
    assert "org_id" not in html
    assert "relay" not in html.lower()


def test_proof_bundle_holds_everything_and_verifies_without_the_database(
    reader: Flow, world: dict[str, Any], tester: ChainClient
) -> None:
    pid_hex = "0x" + world["pid"].hex()
    resp = reader.api.get(f"/proof-bundle/{pid_hex}.json")
    assert resp.headers["content-disposition"].startswith("attachment;")
    bundle = resp.json()
    assert bundle["chain_id"] == tester.chain_id
    assert set(bundle["contracts"]) >= {"AnchorRegistry", "ProductPassportRegistry"}
    assert bundle["passport"]["canonical_hash"] == bundle["passport"]["on_chain_document_hash"]
    assert len(bundle["events"]) == 2
    assert all(e["typed_data"]["primaryType"] == "SupplyEvent" for e in bundle["events"])
    assert len(bundle["milestones"]) == 6
    assert bundle["verification"]["steps"]
    # Only the chain answers: verify_bundle has no database or API to ask.
    report = verify_bundle(json.loads(json.dumps(bundle)), rpc_of(tester), trust_of(tester))
    assert report.ok, report.failures()
    assert bundle["subject"]["gs1_path"].startswith("/01/")
    assert all(e["authorisation"]["basis"] for e in bundle["events"])
    assert report.passport_status == "active"
    assert reader.api.get("/proof-bundle/0x" + "ab" * 32 + ".json").status_code == 404
    assert reader.api.get("/proof-bundle/nothex.json").status_code == 422


ZBARIMG = shutil.which("zbarimg")


@pytest.mark.skipif(ZBARIMG is None, reason="zbarimg not installed")
def test_qr_png_encodes_the_absolute_link(api: TestClient, tmp_path: Path) -> None:
    resp = api.get("/qr/01/8936045870013/10/A%2F1/21/SN-1.png")
    assert resp.headers["content-type"] == "image/png"
    image = tmp_path / "qr.png"
    image.write_bytes(resp.content)
    out = subprocess.run(
        [str(ZBARIMG), "--raw", "-q", str(image)], capture_output=True, text=True, check=True
    )
    base = context(api).settings.public_base_url
    assert out.stdout.strip() == f"{base}/01/{GTIN}/10/A%2F1/21/SN-1"


def test_qr_svg_labels_and_errors(api: TestClient) -> None:
    svg = api.get(f"/qr/01/{GTIN}.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert ET.fromstring(svg.text).tag.endswith("svg")  # noqa: S314 (parses our own output)
    assert api.get(f"/qr/01/{GTIN}.gif").status_code == 404
    assert api.get("/qr/01/08936045870014.png").json()["field"] == "gtin"
    sheet = api.get(
        "/qr/labels", params={"gtin": GTIN, "lot": "L1", "serial": ["SN-1", "SN-2", "SN-3"]}
    )
    assert sheet.headers["content-type"].startswith("image/svg+xml")
    root = ET.fromstring(sheet.text)  # noqa: S314 (parses our own output)
    texts = "".join(t.text or "" for t in root.iter() if t.tag.endswith("text"))
    assert all(f"(21) SN-{i}" in texts for i in (1, 2, 3))
    many = api.get(
        "/qr/labels",
        params={"gtin": GTIN, "serial": [f"S{i}" for i in range(40)], "format": "html"},
    )
    pages = -(-40 // sheet_layout(3).per_page)
    assert pages > 1
    assert many.text.count('<section class="sheet">') == pages
    assert api.get("/qr/labels", params={"gtin": GTIN, "serial": ["bad serial"]}).status_code == 400
    too_many = api.get("/qr/labels", params={"gtin": GTIN, "serial": [f"S{i}" for i in range(40)]})
    assert too_many.status_code == 422


def test_epcis_exports_for_passport_and_shipment(reader: Flow, world: dict[str, Any]) -> None:
    pid_hex = "0x" + world["pid"].hex()
    passport = reader.api.get(f"/v1/epcis/passports/{pid_hex}")
    assert passport.headers["content-type"].startswith("application/ld+json")
    assert schema_errors(passport.json()) == []
    sid = world["sid"]
    assert reader.api.get(f"/v1/epcis/shipments/{sid}").status_code == 401
    shipment = reader.api.get(f"/v1/epcis/shipments/{sid}", headers=reader.seller.writer)
    assert shipment.status_code == 200, shipment.text
    doc = shipment.json()
    assert schema_errors(doc) == []
    events = doc["epcisBody"]["eventList"]
    assert [e["readPoint"]["id"][-5:] for e in events] == [
        "VNSGN",
        "VNSGN",
        "VNSGN",
        "USLAX",
        "USLAX",
        "USLAX",
    ]
    assert events[4]["disposition"] == "sellable_not_accessible"
    assert events[0]["epcList"] == [DigitalLink(GTIN, serial="SN-1").canonical]
