"""The field app in headless Chromium at 390x844, with a wallet whose keys stay in node.

The real app with its relayer and indexer threads, on eth-tester and on anvil: a
carrier signs in with its registered key (EIP-4361), sees its shipment and what is
expected of it, records a departure with two photos (each hashed in the browser and kept
by the service's evidence store, one hash over both signed, both shown on the journey) and watches it go from queued
to final, then signs the arrival while offline and sees it sent once the phone is
back online; a seller creates a shipment (signed offline, sent when back) and
releases a pickup its carrier co-signs on another phone. The same flows with a
contract wallet (ERC-1271), and the failure states a person at the dock meets,
each said in words.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import Engine, select

from backend.chain import ChainClient
from backend.chain.anvil import free_port
from backend.chain.typed_data.shipments import MilestoneType as M
from backend.gs1.gtin import with_check_digit
from backend.gs1.keys import passport_id
from backend.main import create_app
from backend.qr.images import qr_png
from backend.relayer.models import RelayRequest
from tests.backend.conftest import api_settings
from tests.backend.factories import SAMPLE_PREFIX, Org, gtin_under, make_org
from tests.backend.shipments.factories import Service, create_body, milestone_body, post
from tests.backend.wallets import register_key, two_key_wallet
from tests.browser import CHROMIUM, PHONE, camera_from_image, shot, visit
from tests.conftest import deployment_for
from tests.context import context
from tests.db_fixtures import PG_ENV
from tests.integration.live_server import serve
from tests.integration.world import wait_for

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")

# The database each run uses. Every flow runs once on each chain: eth-tester on SQLite,
# anvil on PostgreSQL when WAYMARK_TEST_DATABASE_URL is set (on SQLite otherwise); the
# failure states (eth-tester only) run on PostgreSQL when it is set. Both databases and
# both chains are covered without running every flow four times.
_PG = bool(os.environ.get(PG_ENV))
_SECOND_DB = pytest.param("postgresql", marks=pytest.mark.postgres) if _PG else "sqlite"
ON_BOTH_CHAINS = pytest.mark.parametrize(
    ("db_url", "chain"),
    [
        ("sqlite", "tester"),
        pytest.param(
            "postgresql" if _PG else "sqlite",
            "anvil",
            marks=[pytest.mark.anvil, *([pytest.mark.postgres] if _PG else [])],
        ),
    ],
    indirect=True,
)
ON_ONE_DB = pytest.mark.parametrize("db_url", [_SECOND_DB], indirect=True)
# The label of the shipment waiting for its pickup (GS1 prefix 8936045, serial 1).
SSCC = with_check_digit("0" + "8936045" + "000000001")


@dataclass
class Field:
    url: str
    svc: Service
    seller: Org
    carrier: Org
    broker: Org
    shipment: str
    # A second shipment, created and waiting for its pickup.
    waiting: str = ""

    def wallet(self, key: LocalAccount, **extra: Any) -> dict[str, Any]:
        return {"privateKey": key.key.hex(), "chainId": self.svc.chain.chain_id, **extra}

    def shipment_json(self) -> dict[str, Any]:
        resp = self.svc.api.get(f"/v1/shipments/{self.shipment}", headers=self.seller.writer)
        assert resp.status_code == 200, resp.text
        return dict(resp.json())


def _idle(svc: Service) -> bool:
    with context(svc.api).sessions() as session:
        busy = session.scalars(
            select(RelayRequest.id).where(RelayRequest.status.in_(("queued", "sent", "mined")))
        ).first()
    return busy is None


def _status(field: Field) -> str:
    return str(field.shipment_json()["status"])


@pytest.fixture
def field(db_url: str, db_engine: Engine, chain: ChainClient) -> Iterator[Field]:
    """A seller, a carrier and a broker; one shipment picked up and cleared for export,
    one waiting for its pickup; the app served live over eth-tester, then anvil."""
    yield from _field(db_url, chain)


@pytest.fixture
def tester_field(db_url: str, db_engine: Engine, tester: ChainClient) -> Iterator[Field]:
    """:func:`field` on eth-tester only (the failure states, whose chain does not matter)."""
    yield from _field(db_url, tester)


def _field(db_url: str, chain: ChainClient) -> Iterator[Field]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = api_settings(
        db_url,
        public_base_url=url,
        anchor_worker_enabled=True,
        indexer_enabled=True,
        anchor_interval_seconds=0.05,
        indexer_interval_seconds=0.1,
    )
    app = create_app(settings, chain, deployment=deployment_for(chain))
    with TestClient(app) as client:
        svc = Service(client, chain)
        seller = make_org(
            client,
            "lang-tre",
            scopes=("seller",),
            prefixes=(SAMPLE_PREFIX,),
            name="Lang Tre Homeware",
        )
        carrier = make_org(client, "hp-freight", scopes=("carrier",), name="Haiphong Freight")
        broker = make_org(client, "hp-customs", scopes=("carrier",), name="Haiphong Customs")
        assert wait_for(lambda: _idle(svc))
        body = create_body(
            svc, seller.signer, [carrier.signer.address], customs_broker=broker.signer.address
        )
        body["reference"] = "LT-2612-001"
        sid = body["terms"]["shipmentId"]
        post(svc, "/v1/shipments", body, seller)
        assert wait_for(lambda: _idle(svc))
        pickup = milestone_body(svc, sid, M.PICKED_UP, seller.signer, receiver=carrier.signer)
        post(svc, f"/v1/shipments/{sid}/milestones", pickup, seller)
        assert wait_for(lambda: _idle(svc))
        cleared = milestone_body(svc, sid, M.EXPORT_CLEARED, broker.signer)
        post(svc, f"/v1/shipments/{sid}/milestones", cleared, broker)
        field = Field(url, svc, seller, carrier, broker, sid)
        assert wait_for(lambda: _idle(svc) and _status(field) == "export_cleared")
        second = create_body(svc, seller.signer, [carrier.signer.address], sscc=SSCC)
        second["reference"] = "LT-2612-002"
        field.waiting = second["terms"]["shipmentId"]
        post(svc, "/v1/shipments", second, seller)
        assert wait_for(lambda: _idle(svc))
        with serve(app, port=port, lifespan="off"):
            yield field


def _sign_in(name: str) -> list[dict[str, Any]]:
    """The driver's signIn flow, with a screenshot of the sign-in page first."""
    return [{"flow": "signIn", "shot": shot(f"app-{name}-sign-in", PHONE)["screenshot"]}]


def _milestone(kind: str, summary: str, **fields: str | list[str]) -> dict[str, Any]:
    """The driver's reviewMilestone flow (``goto``, ``counterparty``, ``location``, ``weight``,
    ``photos``: paths to attach)."""
    return {"flow": "reviewMilestone", "milestone": kind, "summary": summary, **fields}


RELEASE = {"flow": "release"}
OPEN_HANDOVER = {"flow": "openHandover"}


@ON_BOTH_CHAINS
def test_carrier_signs_in_records_a_departure_with_a_photo_and_an_arrival_offline(
    field: Field, tmp_path: Path
) -> None:
    photo = tmp_path / "pallet.jpg"
    Image.new("RGB", (120, 90), (200, 120, secrets.randbelow(256))).save(photo, format="JPEG")
    seal = tmp_path / "seal.png"
    Image.new("RGB", (90, 120), (30, secrets.randbelow(256), 90)).save(seal, format="PNG")
    fake = tmp_path / "not-a-photo.jpg"
    fake.write_bytes(b"\xff\xd8\xff\xe0" + secrets.token_bytes(2048))
    page = f"{field.url}/app/shipments/{field.shipment}"
    row = f"li.shipment[data-shipment='{field.shipment}']"
    run = visit(
        f"{field.url}/app",
        [
            *_sign_in("departure"),
            {"text": row},
            {"count": "li.shipment"},
            shot("app-my-shipments", PHONE),
            {"click": f"{row} a"},
            {"select": "#f-milestone", "value": "DEPARTED"},
            {"fill": "#f-location", "value": "cai mep"},
            {"waitFor": "#locodes option[value='VNCMT']", "state": "attached"},
            {"attr": "#locodes option", "name": "label"},
            {"fill": "#f-location", "value": "VNCMT"},
            {"fill": "#f-weight", "value": "five hundred"},
            {"setFiles": "#f-photo", "files": [str(fake)]},
            {"waitForText": "#e-evidence", "value": "only JPEG, PNG or WebP"},
            shot("app-photo-refused", PHONE),
            {"setFiles": "#f-photo", "files": [str(photo), str(seal)]},
            {"waitForText": "#photo-hash", "value": "2 photos kept by the service"},
            {"count": "#photo-list li"},
            {"click": "#review"},
            {"waitForText": "#e-weight_kg", "value": "measured weight in kg"},
            shot("app-milestone-field-error", PHONE),
            {"fill": "#f-weight", "value": "520"},
            {"click": "#review"},
            {"waitForText": "#summary-text", "value": "You confirm"},
            {"text": "#summary-text"},
            shot("app-milestone-review", PHONE),
            {"click": "#sign"},
            {"waitForText": "#form-status", "value": "final"},
            shot("app-milestone-final", PHONE),
            {"scrollWidth": True},
            {"console": True},
            {"reload": True},
            {"count": "#journey img"},
            shot("app-journey-photos", PHONE),
        ],
        wallet=field.wallet(field.carrier.signer),
    )
    card = run.values("text")[0]
    assert "LT-2612-001" in card
    assert "VNSGN → USLAX" in card
    assert "Your move: departed" in card
    # Two shipments listed; two photos attached; both shown on the journey once final.
    assert run.values("count") == [2, 2, 2]
    assert "Cai Mep International Terminal, Viet Nam" in run.values("attr")[0]
    assert run.values("text")[1] == (
        "You confirm: 520 kg departed at VNCMT with 2 photos for shipment LT-2612-001 of "
        "Lang Tre Homeware, signed by Haiphong Freight."
    )
    assert run.values("scrollWidth") == [PHONE[0]]
    # The one console line is the browser's own note of the refused photo (415).
    assert [e for e in run.values("console")[0] if "415" not in e] == []
    departed = field.shipment_json()["milestones"][-1]
    assert departed["milestone_name"] == "departed"
    assert departed["signer"] == field.carrier.signer.address
    assert departed["location"] == "VNCMT"
    assert departed["measured_weight_grams"] == 520_000
    # One signed hash over both photos' SHA-256, in the order attached.
    hashes = [hashlib.sha256(p.read_bytes()).digest() for p in (photo, seal)]
    assert departed["evidence_hash"] == "0x" + hashlib.sha256(b"".join(hashes)).hexdigest()
    assert departed["evidence_photos"] == ["0x" + h.hex() for h in hashes]
    for path, hash_ in zip((photo, seal), departed["evidence_photos"], strict=True):
        kept = field.svc.api.get(
            f"/v1/shipments/{field.shipment}/evidence/{hash_}", headers=field.seller.writer
        )
        assert kept.status_code == 200
        assert kept.content == path.read_bytes()
    assert wait_for(lambda: _status(field) == "in_transit")

    # Offline at the quay: the arrival is signed, kept on the phone, sent once online.
    run = visit(
        f"{field.url}/app",
        [
            *_sign_in("arrival"),
            _milestone("ARRIVED", "arrived at USLAX", goto=page, location="USLAX"),
            {"offline": True},
            {"click": "#sign"},
            {"waitForText": "#form-status", "value": "saved on this phone"},
            {"waitForText": "#pending", "value": "1 signed milestone"},
            shot("app-offline-saved", PHONE),
            {"offline": False},
            {"waitForText": "#form-status", "value": "final"},
            shot("app-back-online-final", PHONE),
        ],
        wallet=field.wallet(field.carrier.signer),
    )
    assert wait_for(lambda: _status(field) == "arrived")
    assert field.shipment_json()["milestones"][-1]["milestone_name"] == "arrived"


@ON_BOTH_CHAINS
def test_pickup_is_signed_by_the_seller_and_co_signed_on_the_carriers_phone(
    field: Field, tmp_path: Path
) -> None:
    """The seller releases the goods with two photos; the carrier's phone shows those two
    (the ones the seller's signature covers, not a photo uploaded and removed) before it
    co-signs."""
    carrier = field.carrier.signer.address
    photos = [tmp_path / name for name in ("pallets.jpg", "seal.jpg", "stray.jpg")]
    for path in photos:
        colour = tuple(secrets.randbelow(256) for _ in range(3))
        Image.new("RGB", (160, 120), colour).save(path, format="JPEG")
    pallets, seal, stray = photos
    run = visit(
        f"{field.url}/app",
        [
            *_sign_in("pickup"),
            {"goto": f"{field.url}/app/shipments/{field.waiting}"},
            {"setFiles": "#f-photo", "files": [str(stray)]},
            {"waitForText": "#photo-hash", "value": "1 photo kept by the service"},
            {"click": "#photo-list li button"},
            _milestone(
                "PICKED_UP",
                "picked up to Haiphong Freight",
                counterparty=carrier,
                location="VNSGN",
                weight="118.5",
                photos=[str(pallets), str(seal)],
            ),
            RELEASE,
            shot("app-handover-qr", PHONE),
        ],
        wallet=field.wallet(field.seller.signer),
    )
    link = run.values("attr")[0][0]
    assert link.startswith(f"{field.url}/app/handover#")
    # The carrier's own phone: another browser, another wallet.
    run = visit(
        link,
        [
            OPEN_HANDOVER,
            {"text": "#handover-summary"},
            {"attr": "#handover-photos img", "name": "src"},
            shot("app-handover-review", PHONE),
            {"scrollWidth": True},
            {"click": "#accept"},
            {"waitForText": "#handover-status", "value": "you now hold the goods"},
            shot("app-handover-done", PHONE),
        ],
        wallet=field.wallet(field.carrier.signer),
    )
    assert run.values("text")[0] == (
        "You accept: 118.5 kg picked up to Haiphong Freight by Lang Tre Homeware at VNSGN "
        "with 2 photos for shipment LT-2612-002 of Lang Tre Homeware."
    )
    hashes = ["0x" + hashlib.sha256(p.read_bytes()).hexdigest() for p in photos]
    evidence = f"/app/api/shipments/{field.waiting}/evidence/"
    # The photos the signature covers, in order, each fetched from the evidence store.
    assert run.values("attr")[0] == [evidence + h for h in hashes[:2]]
    assert {f"{field.url}{evidence}{h}" for h in hashes[:2]} <= set(run.requests)
    assert not any(hashes[2] in url for url in run.requests)
    assert run.values("scrollWidth") == [PHONE[0]]
    resp = field.svc.api.get(f"/v1/shipments/{field.waiting}", headers=field.seller.writer)
    assert resp.json()["status"] == "picked_up"
    assert resp.json()["custodian"] == carrier
    assert resp.json()["milestones"][-1]["evidence_photos"] == hashes[:2]


@ON_BOTH_CHAINS
def test_carrier_scans_the_sscc_label_with_the_camera_and_the_shipment_opens(
    field: Field, tmp_path: Path
) -> None:
    # The label's QR as the service draws it: the SSCC's Digital Link on the public base.
    label = tmp_path / "label.png"
    label.write_bytes(qr_png(f"https://id.example.com/00/{SSCC}", module_px=8))
    camera = camera_from_image(label, tmp_path / "label.y4m")
    run = visit(
        f"{field.url}/app",
        [
            *_sign_in("scan"),
            {"click": "#scan-label"},
            {"waitForText": "h1", "value": "LT-2612-002"},
            {"url": True},
            shot("app-scan-opened", PHONE),
        ],
        wallet=field.wallet(field.carrier.signer),
        camera=camera,
    )
    # Headless Chromium on Linux has no BarcodeDetector: npm jsqr decoded the frames.
    assert run.values("url") == [f"{field.url}/app/shipments/{field.waiting}"]
    # A product's QR (a GTIN link) is not a shipment label: said, and the page stays.
    product = tmp_path / "product.png"
    product.write_bytes(qr_png("https://id.example.com/01/08936045870013", module_px=8))
    run = visit(
        f"{field.url}/app",
        [
            *_sign_in("scan-product"),
            {"goto": f"{field.url}/app/scan"},
            {"waitForText": "#scan-status", "value": "not a shipment label"},
            {"url": True},
            {"attr": "#scanner", "name": "data-decoder"},
            shot("app-scan-not-a-label", PHONE),
            {"scrollWidth": True},
        ],
        wallet=field.wallet(field.carrier.signer),
        camera=camera_from_image(product, tmp_path / "product.y4m"),
    )
    assert run.values("url") == [f"{field.url}/app/scan"]
    assert run.values("attr") == [["jsQR"]]
    assert run.values("scrollWidth") == [PHONE[0]]


@ON_BOTH_CHAINS
def test_seller_creates_a_shipment_from_the_phone(field: Field) -> None:
    carrier = field.carrier.signer.address
    run = visit(
        f"{field.url}/app",
        [
            *_sign_in("new-shipment"),
            {"click": "#new-shipment"},
            {"fill": "#s-reference", "value": "LT-2612-003"},
            {"fill": "#s-origin", "value": "VNHPH"},
            {"fill": "#s-destination", "value": "NLRTM"},
            {"fill": "#s-carrier", "value": "not an address"},
            {"fill": "#s-weight", "value": "840"},
            {"fill": "#s-pieces", "value": "24"},
            {"select": "#s-mode", "value": "sea"},
            {"fill": "#s-lines", "value": "0x" + "cd" * 32 + ", 240"},
            {"click": "#s-review"},
            {"waitForText": "#e-carrier", "value": "40 hex digits"},
            {"fill": "#s-carrier", "value": carrier},
            {"click": "#s-review"},
            {"waitForText": "#s-summary-text", "value": "You create shipment LT-2612-003"},
            shot("app-new-shipment-review", PHONE),
            # Signed in a dead spot: kept on the phone, sent once the network is back.
            {"offline": True},
            {"click": "#s-sign"},
            {"waitForText": "#s-status", "value": "saved on this phone"},
            {"waitForText": "#pending", "value": "1 signed shipment(s)"},
            shot("app-new-shipment-offline", PHONE),
            {"offline": False},
            {"waitForText": "#s-status", "value": "Shipment final"},
            shot("app-new-shipment-final", PHONE),
            {"goto": f"{field.url}/app"},
            {"text": "ul.list"},
        ],
        wallet=field.wallet(field.seller.signer),
    )
    assert "LT-2612-003" in run.values("text")[0]
    assert "VNHPH → NLRTM" in run.values("text")[0]


@ON_BOTH_CHAINS
def test_seller_issues_and_amends_a_passport_from_the_phone(field: Field) -> None:
    gtin = gtin_under(SAMPLE_PREFIX, "87031")
    run = visit(
        f"{field.url}/app",
        [
            *_sign_in("passport"),
            {"click": "#new-passport"},
            {"fill": "#p-gtin", "value": gtin[:-1] + str((int(gtin[-1]) + 1) % 10)},
            {"fill": "#p-lot", "value": "TH2612-05"},
            {"fill": "#p-name", "value": "Bamboo serving tray"},
            {"fill": "#p-category", "value": "Tableware / Kitchenware"},
            {"fill": "#p-country", "value": "VN"},
            {"fill": "#p-materials", "value": "Moso bamboo, 96\nTung oil; 3; 0; CN"},
            {"click": "#p-review"},
            {"waitForText": "#e-gtin", "value": "check digit"},
            {"waitForText": "#e-materials", "value": "Line 1: write name; mass %"},
            shot("app-passport-field-errors", PHONE),
            {"fill": "#p-gtin", "value": gtin},
            {"fill": "#p-materials", "value": "Moso bamboo; 96; 0; VN\nTung oil; 3; 0; CN"},
            {"click": "#p-review"},
            {"waitForText": "#e-materials", "value": "sum to 99 %"},
            {"fill": "#p-materials", "value": "Moso bamboo; 97; 0; VN\nTung oil; 3; 0; CN"},
            {"click": "#p-review"},
            {"waitForText": "#p-summary-text", "value": "You sign the passport of"},
            {"text": "#p-summary-text"},
            shot("app-passport-review", PHONE),
            {"click": "#p-sign"},
            {"waitForText": "#p-status", "value": "Passport final"},
            {"click": "#p-amend-link"},
            {"waitForText": "h1", "value": "Amend a product passport"},
            {"fill": "#p-description", "value": "Oiled by hand; hand wash only."},
            {"click": "#p-review"},
            {"waitForText": "#p-summary-text", "value": "You sign version 2 of"},
            {"click": "#p-sign"},
            {"waitForText": "#p-status", "value": "Passport final"},
            shot("app-passport-amended", PHONE),
            {"url": True},
            {"scrollWidth": True},
        ],
        wallet=field.wallet(field.seller.signer),
    )
    assert "Bamboo serving tray (GTIN " + gtin in run.values("text")[0]
    assert run.values("scrollWidth") == [PHONE[0]]
    pid = run.values("url")[0].split("/")[-2]
    shown = field.svc.api.get(f"/v1/passports/{pid}").json()
    assert shown["version"] == 2
    assert shown["issuer"] == field.seller.signer.address
    assert shown["document"]["product"]["description"] == "Oiled by hand; hand wash only."


@ON_BOTH_CHAINS
def test_two_key_wallet_signs_in_and_issues_a_passport_from_the_phone(field: Field) -> None:
    """The seller's key is a 2-of-2 ERC-1271 wallet: every signature the phone makes (the
    sign-in and the passport) is both keys' (130 bytes), and the wallet is the issuer."""
    svc = field.svc
    wallet = two_key_wallet(svc.chain)
    register_key(svc.api, lambda: wait_for(lambda: _idle(svc)), field.seller, wallet.address)
    gtin = gtin_under(SAMPLE_PREFIX, "87032")
    visit(
        f"{field.url}/app",
        [
            *_sign_in("erc1271-passport"),
            {"click": "#new-passport"},
            {"fill": "#p-gtin", "value": gtin},
            {"fill": "#p-lot", "value": "TH2612-06"},
            {"fill": "#p-name", "value": "Bamboo rice bowl"},
            {"fill": "#p-category", "value": "Tableware / Kitchenware"},
            {"fill": "#p-country", "value": "VN"},
            {"fill": "#p-materials", "value": "Moso bamboo; 97; 0; VN\nTung oil; 3; 0; CN"},
            {"click": "#p-review"},
            {"waitForText": "#p-summary-text", "value": "You sign the passport of"},
            {"click": "#p-sign"},
            {"waitForText": "#p-status", "value": "Passport final"},
            shot("app-erc1271-passport-final", PHONE),
        ],
        wallet=field.wallet(
            wallet.first, account=wallet.address, cosigners=[wallet.second.key.hex()]
        ),
    )
    pid = "0x" + passport_id(gtin, "TH2612-06", None).hex()
    resp = field.svc.api.get(f"/v1/passports/{pid}")
    assert resp.status_code == 200, resp.text
    shown = resp.json()
    assert (shown["issuer"], shown["version"]) == (wallet.address, 1)
    assert shown["document"]["product"]["name"] == "Bamboo rice bowl"


@ON_BOTH_CHAINS
def test_contract_wallet_signs_in_co_signs_a_pickup_and_records_a_departure(
    field: Field,
) -> None:
    """The carrier's key is an ERC-1271 wallet: its owner key signs, the wallet speaks."""
    owner = Account.create()
    svc = field.svc
    wallet = svc.chain.deploy("OwnedSigningWallet", owner.address).address
    resp = svc.api.post(
        "/v1/orgs/hp-freight/signers", json={"address": wallet}, headers=field.carrier.admin
    )
    assert resp.status_code == 201, resp.text
    assert wait_for(lambda: _idle(svc))
    body = create_body(
        svc, field.seller.signer, [wallet], customs_broker=field.broker.signer.address
    )
    body["reference"] = "LT-2612-009"
    sid = body["terms"]["shipmentId"]
    post(svc, "/v1/shipments", body, field.seller)
    assert wait_for(lambda: _idle(svc))
    run = visit(
        f"{field.url}/app",
        [
            *_sign_in("erc1271-release"),
            _milestone(
                "PICKED_UP",
                "picked up to Haiphong Freight",
                goto=f"{field.url}/app/shipments/{sid}",
                counterparty=wallet,
                location="VNSGN",
                weight="96",
            ),
            RELEASE,
        ],
        wallet=field.wallet(field.seller.signer),
    )
    link = run.values("attr")[0][0]
    as_wallet = field.wallet(owner, account=wallet)
    run = visit(
        link,
        [
            OPEN_HANDOVER,
            {"click": "#accept"},
            {"waitForText": "#handover-status", "value": "you now hold the goods"},
            shot("app-erc1271-handover-done", PHONE),
        ],
        wallet=as_wallet,
    )
    state = svc.api.get(f"/v1/shipments/{sid}", headers=field.seller.writer).json()
    assert state["custodian"] == wallet
    cleared = milestone_body(svc, sid, M.EXPORT_CLEARED, field.broker.signer)
    post(svc, f"/v1/shipments/{sid}/milestones", cleared, field.broker)
    assert wait_for(lambda: _idle(svc))
    run = visit(
        f"{field.url}/app",
        [
            *_sign_in("erc1271"),
            {"text": ".muted"},
            shot("app-erc1271-signed-in", PHONE),
            _milestone(
                "DEPARTED",
                "departed at VNCMT",
                goto=f"{field.url}/app/shipments/{sid}",
                location="VNCMT",
            ),
            {"click": "#sign"},
            {"waitForText": "#form-status", "value": "final"},
            shot("app-erc1271-departure-final", PHONE),
            {"scrollWidth": True},
        ],
        wallet=as_wallet,
    )
    assert wallet in run.values("text")[0]
    assert "Haiphong Freight" in run.values("text")[0]
    assert run.values("scrollWidth") == [PHONE[0]]
    state = svc.api.get(f"/v1/shipments/{sid}", headers=field.seller.writer).json()
    assert state["status"] == "in_transit"
    assert state["milestones"][-1]["signer"] == wallet


@ON_ONE_DB
@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("unregistered", "key not registered"),
        ("wrong-chain", "wrong network: the wallet is on chain 1"),
        ("rejected", "You declined in the wallet; nothing was signed."),
    ],
)
def test_sign_in_failures_are_said_in_words(tester_field: Field, case: str, expected: str) -> None:
    field = tester_field
    key = Account.create() if case == "unregistered" else field.carrier.signer
    wallet = field.wallet(key)
    if case == "wrong-chain":
        wallet["chainId"] = 1
    if case == "rejected":
        wallet["reject"] = True
    run = visit(
        f"{field.url}/app",
        [
            {"click": "#sign-in-button"},
            {"waitForText": "#sign-in-status", "value": expected},
            shot(f"app-sign-in-{case}", PHONE),
        ],
        wallet=wallet,
    )
    assert run.status == 200


def _reviewed_departure(field: Field, name: str) -> list[dict[str, Any]]:
    page = f"{field.url}/app/shipments/{field.shipment}"
    return [
        *_sign_in(name),
        _milestone("DEPARTED", "departed at VNCMT", goto=page, location="VNCMT"),
    ]


@ON_ONE_DB
def test_signing_failures_are_said_in_words(tester_field: Field) -> None:
    field = tester_field
    run = visit(
        f"{field.url}/app",
        [
            *_reviewed_departure(field, "signing-failures"),
            {"walletChain": 1},
            {"click": "#sign"},
            {"waitForText": "#form-status", "value": "Wrong network: the wallet is on chain 1"},
            shot("app-sign-wrong-network", PHONE),
            {"walletChain": field.svc.chain.chain_id},
            {"walletReject": True},
            {"click": "#sign"},
            {"waitForText": "#form-status", "value": "You declined in the wallet"},
            shot("app-sign-rejected", PHONE),
            {"localStorage": "waymark.app.pending"},
        ],
        wallet=field.wallet(field.carrier.signer),
    )
    assert run.values("localStorage") == ["[]"]
    assert _status(field) == "export_cleared"
    # A haulier registered with the carrier role only may not create shipments.
    haulier = make_org(field.svc.api, "hp-haulage", scopes=("carrier",), roles=("carrier",))
    assert wait_for(lambda: _idle(field.svc))
    visit(
        f"{field.url}/app",
        [
            *_sign_in("role"),
            {"goto": f"{field.url}/app/new-shipment"},
            {"click": "#s-review"},
            {"waitForText": "#e-form", "value": "Role not allowed"},
            shot("app-role-not-allowed", PHONE),
        ],
        wallet=field.wallet(haulier.signer),
    )


@ON_ONE_DB
def test_a_kept_milestone_whose_deadline_passed_is_refused_in_words(
    tester_field: Field, tmp_path: Path
) -> None:
    field = tester_field
    phone = tmp_path / "phone.json"
    visit(
        f"{field.url}/app",
        [
            *_reviewed_departure(field, "deadline"),
            {"offline": True},
            {"click": "#sign"},
            {"waitForText": "#pending", "value": "1 signed milestone(s)"},
        ],
        wallet=field.wallet(field.carrier.signer),
        storage_out=phone,
    )
    # The phone stays in a dead spot past the signature's one-hour deadline.
    field.svc.chain.advance_time(2 * 3600)
    run = visit(
        f"{field.url}/app/shipments/{field.shipment}",
        [
            {"waitForText": "#form-status", "value": "deadline passed"},
            shot("app-deadline-passed", PHONE),
            {"localStorage": "waymark.app.pending"},
        ],
        wallet=field.wallet(field.carrier.signer),
        storage_in=phone,
    )
    assert run.values("localStorage") == ["[]"]
    assert _status(field) == "export_cleared"


@ON_ONE_DB
def test_a_5xx_keeps_the_co_signature_on_the_phone_until_it_is_sent_once(
    tester_field: Field, tmp_path: Path
) -> None:
    field = tester_field
    carrier = field.carrier.signer.address
    run = visit(
        f"{field.url}/app",
        [
            *_sign_in("release-5xx"),
            _milestone(
                "PICKED_UP",
                "picked up",
                goto=f"{field.url}/app/shipments/{field.waiting}",
                counterparty=carrier,
                location="VNSGN",
            ),
            RELEASE,
        ],
        wallet=field.wallet(field.seller.signer),
    )
    link = run.values("attr")[0][0]
    phone = tmp_path / "carrier.json"
    before = _relay_count(field.svc)
    visit(
        link,
        [
            OPEN_HANDOVER,
            {"failRoute": "**/app/api/handover", "status": 503},
            {"click": "#accept"},
            {"waitForText": "#handover-status", "value": "the service answered 503"},
            {"waitForText": "#pending", "value": "1 signed handover(s)"},
            shot("app-handover-5xx-kept", PHONE),
        ],
        wallet=field.wallet(field.carrier.signer),
        storage_out=phone,
    )
    assert _relay_count(field.svc) == before
    # Opened again: the kept co-signature is sent, once.
    run = visit(
        link,
        [
            {"waitForText": "#handover-status", "value": "Handover final"},
            shot("app-handover-resent-final", PHONE),
            {"localStorage": "waymark.app.pending"},
            {"attr": "#accept", "name": "hidden"},
        ],
        wallet=field.wallet(field.carrier.signer),
        storage_in=phone,
    )
    assert run.values("localStorage") == ["[]"]
    assert run.values("attr") == [[""]]
    resp = field.svc.api.get(f"/v1/shipments/{field.waiting}", headers=field.seller.writer)
    assert resp.json()["custodian"] == carrier
    assert _relay_count(field.svc) == before + 1


def _relay_count(svc: Service) -> int:
    with context(svc.api).sessions() as session:
        return len(session.scalars(select(RelayRequest.id)).all())
