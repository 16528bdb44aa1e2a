"""The demo's links come from the app's real routes, included routers too."""

from __future__ import annotations

from eth_account import Account
from fastapi import FastAPI

from backend.config import Settings
from backend.demo.links import demo_links, render, summary_line
from backend.demo.scenario import DemoResult, Org
from backend.main import create_app
from backend.qr.router import router as qr_router
from backend.qr.router import scan_router

BASE = "http://127.0.0.1:8123"
PID = "0x" + "ab" * 32


def _result() -> DemoResult:
    signer = Account.from_key("0x" + "11" * 32)
    orgs = {
        slug: Org(slug, slug.title(), f"wm_{i:012x}_secret", signer, "admin")
        for i, slug in enumerate(("hearth-grove", "lumen-row"))
    }
    return DemoResult(
        orgs=orgs,
        shipments={"delivered": "0x" + "01" * 32, "late": "0x" + "02" * 32},
        expected_colours={"delivered": "closed", "late": "yellow"},
        passport_path="/01/08936045870013/10/TH2611-07",
        passport_id=PID,
        event_digests=["0x" + "cd" * 32],
        pool_id=1,
        period_id=1,
        transfer_request_id=1,
        token="0x" + "00" * 20,
    )


def test_every_kind_of_link_is_found_through_the_included_routers() -> None:
    app = create_app(Settings(chain_backend="tester"))
    result = _result()
    carrier = Account.from_key("0x" + "22" * 32)
    result.orgs["pacific-bridge"] = Org("pacific-bridge", "Pacific Bridge", "wm_c", carrier)
    links = demo_links(app, base=BASE, result=result, rpc_url="http://127.0.0.1:8545")
    kinds = {link.kind for link in links}
    assert kinds >= {
        "consumer-page",
        "qr-image",
        "label-sheet",
        "proof-bundle",
        "proof",
        "passport",
        "dashboard",
        "api-docs",
    }
    urls = {link.label: link.url for link in links}
    assert urls["Consumer page, lot"] == f"{BASE}/01/08936045870013/10/TH2611-07"
    assert urls["Consumer page, one item"].endswith("/10/TH2611-07/21/TH07-0001")
    assert urls["Consumer page, serial"].endswith("/10/TH2611-07/21/TH07-0420")
    assert urls["QR code for screens (SVG)"].endswith("/qr/01/08936045870013/10/TH2611-07.svg")
    assert urls["QR code for print (PNG)"].endswith("/10/TH2611-07.png?use=print")
    assert urls["Proof bundle"] == f"{BASE}/proof-bundle/{PID}.json"
    assert urls["Proof verifier page"] == f"{BASE}/static/verify/index.html"
    bundle = next(link for link in links if link.kind == "proof-bundle")
    assert bundle.hints[1].endswith(
        "waymark proof verify bundle.json --rpc http://127.0.0.1:8545"
        f" --trust {BASE}/.well-known/waymark/deployment.json"
    )
    app_link = next(link for link in links if link.kind == "field-app")
    assert app_link.url == f"{BASE}/app"
    assert app_link.hints[0].startswith("import this demo key into a wallet: 0x" + "22" * 32)
    assert app_link.hints[1] == "the wallet's network: RPC http://127.0.0.1:8545 (the demo chain)"
    text = render(links, result=_result())
    assert "Hearth & Grove API key     wm_000000000000_secret" in text
    assert "lumen-row" in text


def test_a_route_the_build_does_not_serve_is_not_printed() -> None:
    app = FastAPI()
    app.include_router(scan_router)  # consumer routes only: no dashboard, no docs, no proofs
    app.include_router(qr_router)
    links = demo_links(app, base=BASE, result=_result(), rpc_url=None)
    kinds = {link.kind for link in links}
    assert "consumer-page" in kinds
    assert "dashboard" not in kinds
    assert "proof" not in kinds
    bundle = next(link for link in links if link.kind == "proof-bundle")
    # The in-process chain is read through the service's own read-only JSON-RPC route.
    assert f"--rpc {BASE}/rpc --trust {BASE}/.well-known/waymark/deployment.json" in bundle.hints[1]


def test_the_late_purchase_agreement_is_printed_with_what_the_keeper_paid() -> None:
    app = create_app(Settings(chain_backend="tester"))
    result = _result()
    assert "agreement" not in {link.kind for link in demo_links(app, base=BASE, result=result,
                                                                 rpc_url=None)}  # fmt: skip
    result.agreement_id = 7
    result.agreement = {
        "status": "settled",
        "payout": {"outcome": "late", "days_late": 2, "to_buyer": 300 * 10**6,
                   "to_seller": 9_600 * 10**6, "to_bonder": 300 * 10**6},
    }  # fmt: skip
    (link,) = [x for x in demo_links(app, base=BASE, result=result, rpc_url=None)
               if x.kind == "agreement"]  # fmt: skip
    assert link.url == f"{BASE}/v1/agreements/7"
    assert link.hints[0] == (
        "2 started days late: the keeper settled it by itself, 300.00 tUSD compensation "
        "to the buyer from the bond, 9,600.00 tUSD to the seller"
    )
    assert "Purchase agreements" in link.hints[1]
    assert summary_line(result, 1.0).endswith(", 1 purchase agreement settled late.")


def test_summary_is_one_line_naming_counts_by_colour() -> None:
    line = summary_line(_result(), 12.34)
    assert "\n" not in line
    assert line.startswith("Seeded in 12.3 s: 2 organisations, 2 shipments (1 closed, 1 yellow)")
