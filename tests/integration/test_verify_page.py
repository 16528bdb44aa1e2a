"""The static proof verifier (frontend_static/verify/) in headless Chromium, against anvil.

The real app is served by uvicorn on 127.0.0.1 on an anvil chain; the data goes
in through its HTTP API (passport issued, shipment with milestones, supply
events signed and anchored). The page is opened from the app, given the
bundle, the anvil node's URL and a trust manifest, and its verdict and the
list of checks are read back from the DOM. The page reads the chain through
anvil directly: nothing it checks comes from the service's verify code.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from eth_hash.auto import keccak
from sqlalchemy import Engine

from backend.chain import ChainClient
from backend.chain.anvil import AnvilNode
from backend.chain.deployments import deploy_all
from backend.cli.chainio import verifier_rpc
from backend.gs1.keys import passport_id
from backend.main import create_app
from backend.passports.canonical import document_hash
from backend.qr.bundle.verify import Trust, verify_bundle
from tests.backend.conftest import api_settings
from tests.backend.factories import SAMPLE_PREFIX, make_org
from tests.backend.qr.flow import Flow
from tests.backend.shipments.factories import Service
from tests.browser import ARTIFACTS, CHROMIUM, visit
from tests.browser.verifier import PAGE, PageCase, failing, verify_on_page
from tests.conftest import deployment_for
from tests.context import context
from tests.integration.live_server import free_port, serve

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")


class LiveClient(httpx.Client):
    """An HTTP client on the live server that also reaches the app's workers."""

    def __init__(self, base_url: str, app: Any) -> None:
        super().__init__(base_url=base_url, timeout=30)
        self.app = app


@contextmanager
def _serve(db_url: str, chain: ChainClient) -> Iterator[LiveClient]:
    deployment = deployment_for(chain)
    snap = chain.snapshot()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = create_app(api_settings(db_url, public_base_url=base), chain, deployment=deployment)
    try:
        with serve(app, port), LiveClient(base, app) as client:
            yield client
    finally:
        chain.revert(snap)


@pytest.fixture
def live(db_url: str, db_engine: Engine, anvil_chain: ChainClient) -> Iterator[LiveClient]:
    """The app on anvil, whose node the page reads directly."""
    with _serve(db_url, anvil_chain) as client:
        yield client


@pytest.fixture
def live_tester(db_url: str, db_engine: Engine, tester_chain: ChainClient) -> Iterator[LiveClient]:
    """The app on the in-process chain, which the page reads through the app's ``/rpc``."""
    with _serve(db_url, tester_chain) as client:
        yield client


def _flow(client: Any, chain: ChainClient) -> Flow:
    return Flow(
        Service(client, chain),
        seller=make_org(
            client, "lang-tre", ("seller",), prefixes=(SAMPLE_PREFIX,), name="Lang Tre Homeware JSC"
        ),
        carrier=make_org(client, "pacific-bridge", ("carrier",), name="Pacific Bridge Logistics"),
        broker=make_org(client, "harbor-customs", ("supplier",), name="Harbor Customs Brokerage"),
    )


def failed_items(outcome: dict[str, Any]) -> set[tuple[str, str | None]]:
    return {(c["id"], c["item"]) for c in outcome["checks"] if not c["ok"]}


@pytest.mark.anvil
def test_page_verifies_genuine_bundle_and_rejects_forgeries(
    live: LiveClient,
    anvil_chain: ChainClient,
    anvil_node: AnvilNode,
    tmp_path: Path,
) -> None:
    client: Any = live
    flow = _flow(client, anvil_chain)
    # A name beyond ASCII (Vietnamese, an emoji outside the BMP, a right-to-left
    # override): both JCS implementations must give the bytes the chain committed to.
    name = "Bộ bát đĩa tre 🍜 \u202egnip"
    link, _ = flow.issue(lot="TH2611-07", serial="SN-0042", name=name)
    pid = passport_id(link.gtin, link.lot, link.serial)
    flow.ship(pid, hold=True)
    flow.sign_events(pid, by=flow.carrier)
    flow.sign_events(pid)
    flow.anchor()
    base = str(live.base_url).rstrip("/")
    bundle = live.get(f"/proof-bundle/0x{pid.hex()}.json").json()
    manifest = context(client).loaded().deployment.to_json()
    assert bundle["events"]
    assert bundle["milestones"]

    # A forged document: the text changed and its hash recomputed to match.
    forged = copy.deepcopy(bundle)
    forged["passport"]["document"]["product"]["name"] = "Solid teak dinner set"
    forged["passport"]["canonical_hash"] = (
        "0x" + document_hash(forged["passport"]["document"]).hex()
    )
    # A manifest that trusts another deployment of the same contracts on the same chain.
    foreign = deploy_all(anvil_chain).to_json()
    # A milestone moved to another transaction of the chain.
    moved = copy.deepcopy(bundle)
    moved["milestones"][0]["tx_hash"] = moved["milestones"][1]["tx_hash"]
    moved["milestones"][0]["block_number"] = moved["milestones"][1]["block_number"]
    # An event whose Merkle proof was altered.
    bent = copy.deepcopy(bundle)
    bent["events"][0]["proof"] = ["0x" + keccak(b"elsewhere").hex()] + bent["events"][0]["proof"]
    old_format = dict(bundle, format="waymark-proof-bundle/1")
    # The same signature in forms OpenZeppelin's ECDSA refuses (and so does the Python
    # verifier): v as 0/1, and the malleable twin (n - s, the other v).
    raw = bytes.fromhex(bundle["events"][0]["signature"][2:])
    low_v = copy.deepcopy(bundle)
    low_v["events"][0]["signature"] = "0x" + (raw[:64] + bytes([raw[64] - 27])).hex()
    twin = copy.deepcopy(bundle)
    s_high = SECP256K1_N - int.from_bytes(raw[32:64], "big")
    twin["events"][0]["signature"] = (
        "0x" + (raw[:32] + s_high.to_bytes(32, "big") + bytes([55 - raw[64]])).hex()
    )

    rpc = anvil_node.url
    closed = f"http://127.0.0.1:{free_port()}"
    page_cases = [
        PageCase("genuine", bundle, manifest, rpc),
        PageCase("forged-document", forged, manifest, rpc),
        PageCase("foreign-manifest", bundle, foreign, rpc),
        PageCase("moved-milestone", moved, manifest, rpc),
        PageCase("bent-proof", bent, manifest, rpc),
        PageCase("old-format", old_format, manifest, rpc),
        PageCase("not-json", "{not json", manifest, rpc, given="file"),
        PageCase("too-few-confirmations", bundle, manifest, rpc, confirmations=10_000),
        PageCase("node-down", bundle, manifest, closed),
        PageCase("v-as-0-or-1", low_v, manifest, rpc),
        PageCase("malleable-twin", twin, manifest, rpc),
    ]
    cases = verify_on_page(
        f"{base}{PAGE}",
        page_cases,
        tmp_path,
        screenshot="verify-page-valid",
        console_allows=("ERR_CONNECTION_REFUSED",),
    )
    # The Python verifier on the same input gives the same verdict and failing checks.
    for case, page in zip(page_cases, cases, strict=True):
        if isinstance(case.bundle, str):
            continue
        python = verify_bundle(
            case.bundle,
            verifier_rpc(case.rpc_url),
            Trust.from_manifest(case.manifest),
            confirmations=case.confirmations,
        ).to_json()
        assert (page["verdict"], failed_items(page)) == (
            python["verdict"],
            failed_items(python),
        ), case.name
    genuine, doc, trust, milestone, merkle, unknown, garbage, shallow, unreachable = cases[:9]
    for variant in cases[9:]:
        assert variant["verdict"] == "INVALID"
        assert failing(variant) == {"event.signature"}
    assert genuine["verdict"] == "VALID", failing(genuine)
    ids = {c["id"] for c in genuine["checks"]}
    assert {
        "trust.chain_id",
        "trust.contracts",
        "passport.id",
        "passport.document_hash",
        "passport.on_chain_hash",
        "passport.current_version",
        "passport.status",
        "passport.issuer",
        "event.digest",
        "event.signature",
        "event.merkle",
        "event.anchored",
        "event.confirmations",
        "event.signer_key",
        "event.authorised",
        "milestone.recorded",
    } <= ids
    assert genuine["organisation"] == "Lang Tre Homeware JSC"
    assert sum(c["id"] == "milestone.recorded" for c in genuine["checks"]) == len(
        bundle["milestones"]
    )

    assert doc["verdict"] == "INVALID"
    assert failing(doc) == {"passport.on_chain_hash"}

    assert trust["verdict"] == "INVALID"
    named = {c["item"] for c in trust["checks"] if c["id"] == "trust.contracts" and not c["ok"]}
    assert named == set(bundle["contracts"])

    assert milestone["verdict"] == "INVALID"
    assert failing(milestone) == {"milestone.recorded"}

    assert merkle["verdict"] == "INVALID"
    assert failing(merkle) == {"event.merkle", "event.anchored"}
    assert {c["item"] for c in merkle["checks"] if not c["ok"]} == {bundle["events"][0]["digest"]}

    assert unknown["verdict"] == "could not check"
    assert "waymark-proof-bundle/1" in unknown["problem"]
    assert garbage["verdict"] == "could not check"
    assert "not JSON" in garbage["problem"]
    assert (ARTIFACTS / "verify-page-valid-390x844.png").exists()
    assert shallow["verdict"] == "INVALID"
    assert failing(shallow) == {"event.confirmations"}
    assert unreachable["verdict"] == "could not check"
    assert f"the RPC node at {closed}/ cannot be reached" in unreachable["problem"]


def _from_consumer_page(base: str, page_url: str, rpc_url: str, manifest: Path) -> dict[str, Any]:
    """Follow the consumer page's link to the verifier, which fetches the bundle by URL."""
    run = visit(
        page_url,
        [
            {"click": "a[href*='/verify/index.html']"},
            {"fill": "#rpc-url", "value": rpc_url},
            {"setFiles": "#trust-file", "files": [str(manifest)]},
            {"click": "#verify"},
            {"waitFor": "#result[data-done=true]"},
            {"attr": "#result", "name": "data-outcome"},
        ],
    )
    (url,) = [r["url"] for r in run.results if r["step"] == "click"][:1]
    assert url.startswith(f"{base}{PAGE}?bundle=")
    assert any("/proof-bundle/" in r for r in run.requests)
    return dict(json.loads(run.values("attr")[0][0]))


@pytest.mark.anvil
def test_consumer_page_links_to_the_verifier_with_its_bundle(
    live: LiveClient, anvil_chain: ChainClient, anvil_node: AnvilNode, tmp_path: Path
) -> None:
    client: Any = live
    flow = _flow(client, anvil_chain)
    link, _ = flow.issue(lot="TH2611-09")
    pid = passport_id(link.gtin, link.lot, link.serial)
    flow.sign_events(pid)
    flow.anchor()
    base = str(live.base_url).rstrip("/")
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps(context(client).loaded().deployment.to_json()))
    outcome = _from_consumer_page(base, link.uri(base), anvil_node.url, manifest)
    assert outcome["verdict"] == "VALID", failing(outcome)


@pytest.mark.anvil
def test_page_reports_a_recalled_passport(
    live: LiveClient, anvil_chain: ChainClient, anvil_node: AnvilNode, tmp_path: Path
) -> None:
    client: Any = live
    flow = _flow(client, anvil_chain)
    link, _ = flow.issue(lot="TH2611-08")
    pid = passport_id(link.gtin, link.lot, link.serial)
    flow.recall(pid, "Glaze lead content above limit")
    bundle = live.get(f"/proof-bundle/0x{pid.hex()}.json").json()
    manifest = context(client).loaded().deployment.to_json()
    base = str(live.base_url).rstrip("/")
    (outcome,) = verify_on_page(
        f"{base}{PAGE}",
        [PageCase("recalled", bundle, manifest, anvil_node.url, given="drop")],
        tmp_path,
    )
    assert outcome["verdict"] == "RECALLED"
    assert failing(outcome) == {"passport.status"}
    python = verify_bundle(bundle, verifier_rpc(anvil_node.url), Trust.from_manifest(manifest))
    assert python.to_json()["verdict"] == "RECALLED"
    (status,) = [c for c in outcome["checks"] if c["id"] == "passport.status"]
    assert "Glaze lead content above limit" in status["detail"]


def test_demo_chain_is_checkable_through_the_services_rpc_and_manifest(
    live_tester: LiveClient, tester_chain: ChainClient
) -> None:
    """On the in-process chain: RPC ``{base}/rpc``, trust the page's default (the operator's manifest)."""
    client: Any = live_tester
    flow = _flow(client, tester_chain)
    link, _ = flow.issue(lot="TH2611-10")
    pid = passport_id(link.gtin, link.lot, link.serial)
    flow.ship(pid)
    flow.sign_events(pid, by=flow.carrier)
    flow.anchor()
    base = str(live_tester.base_url).rstrip("/")
    bundle_url = f"{base}/proof-bundle/0x{pid.hex()}.json"
    run = visit(
        f"{base}{PAGE}?bundle={bundle_url}&rpc={base}/rpc",
        [
            {"text": "#prefilled"},
            {"click": "#verify"},
            {"waitFor": "#result[data-done=true]"},
            {"attr": "#result", "name": "data-outcome"},
            # A Digital Link, which the page asks for JSON and takes the bundle from.
            {"goto": f"{base}{PAGE}?bundle={quote(link.uri(base), safe='')}&rpc={base}/rpc"},
            {"click": "#verify"},
            {"waitFor": "#result[data-done=true]"},
            {"attr": "#result", "name": "data-outcome"},
        ],
    )
    by_bundle_url, by_digital_link = (json.loads(v[0]) for v in run.values("attr"))
    for outcome in (by_bundle_url, by_digital_link):
        assert outcome["verdict"] == "VALID", failing(outcome)
    assert by_digital_link["checks"] == by_bundle_url["checks"]
    # The link chose the node, and the page says so before anything is checked; the
    # verdict names what it rests on.
    (notice,) = run.values("text")
    assert f"chose the node {base}/rpc" in notice
    assert "trust manifest" not in notice
    manifest_url = f"{base}/.well-known/waymark/deployment.json"
    assert f"manifest from {manifest_url}" in by_bundle_url["trusted"]
    assert f"chain read through {base}/rpc" in by_bundle_url["trusted"]
    assert f"{base}/rpc" in run.requests
    assert f"{base}/.well-known/waymark/deployment.json" in run.requests
    # The page asked the service for the bundle, the manifest and the chain, and for
    # nothing that decides a verdict (no /v1/ API call).
    assert not [r for r in run.requests if "/v1/" in r]
