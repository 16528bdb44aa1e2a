"""The field app's pages and signed writes: only a party's own signed milestones go through."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from eth_account.messages import encode_defunct
from fastapi.testclient import TestClient

from backend.chain import eip712
from backend.chain.typed_data.shipments import CREATE_SHIPMENT, MILESTONE
from backend.chain.typed_data.shipments import MilestoneType as M
from backend.paths import PROJECT_ROOT
from backend.relayer.models import RelayRequest
from tests.backend.factories import Org, make_org
from tests.backend.shipments.factories import Service, create_body, milestone_body, post
from tests.context import context
from tests.helpers import miscased

ORIGIN = {"Origin": "http://testserver"}


def _sign_in(api: TestClient, org: Org) -> None:
    chain = context(api).chain
    issued = api.post(
        "/app/api/sign-in/message",
        json={"address": org.signer.address, "chainId": chain.chain_id},
        headers=ORIGIN,
    ).json()["message"]
    signature = org.signer.sign_message(encode_defunct(text=issued)).signature.hex()
    resp = api.post(
        "/app/api/sign-in",
        json={"message": issued, "signature": "0x" + signature},
        headers=ORIGIN,
    )
    assert resp.status_code == 200, resp.text


@pytest.fixture
def story(svc: Service) -> dict[str, Any]:
    """A shipment picked up by the carrier and cleared for export; an outsider org."""
    seller = make_org(svc.api, "seller", scopes=("seller",))
    carrier = make_org(svc.api, "carrier")
    broker = make_org(svc.api, "broker")
    outsider = make_org(svc.api, "outsider")
    svc.settle()
    body = create_body(
        svc, seller.signer, [carrier.signer.address], customs_broker=broker.signer.address
    )
    sid = body["terms"]["shipmentId"]
    post(svc, "/v1/shipments", body, seller)
    svc.settle()
    pickup = milestone_body(svc, sid, M.PICKED_UP, seller.signer, receiver=carrier.signer)
    post(svc, f"/v1/shipments/{sid}/milestones", pickup, seller)
    svc.settle()
    post(
        svc,
        f"/v1/shipments/{sid}/milestones",
        milestone_body(svc, sid, M.EXPORT_CLEARED, broker.signer),
        broker,
    )
    svc.settle()
    return {"sid": sid, "seller": seller, "carrier": carrier, "outsider": outsider}


def _draft(api: TestClient, sid: str, **form: Any) -> Any:
    return api.post(f"/app/api/shipments/{sid}/milestones/draft", json=form, headers=ORIGIN)


def test_pages_and_writes_need_a_wallet_session(svc: Service, story: dict[str, Any]) -> None:
    sid = story["sid"]
    assert "Sign in with wallet" in svc.api.get("/app").text
    assert "Sign in with wallet" in svc.api.get(f"/app/shipments/{sid}").text
    assert _draft(svc.api, sid, milestone="DEPARTED").status_code == 401
    # An organisation API key does not open the app's write paths.
    resp = svc.api.post(
        f"/app/api/shipments/{sid}/milestones/draft",
        json={"milestone": "DEPARTED"},
        headers={**ORIGIN, **story["carrier"].writer},
    )
    assert resp.status_code == 401


def test_my_shipments_lists_the_party_with_its_next_move(
    svc: Service, story: dict[str, Any]
) -> None:
    _sign_in(svc.api, story["carrier"])
    html = svc.api.get("/app").text
    assert f'data-shipment="{story["sid"]}"' in html
    assert "you hold the goods" in html
    assert "Your move: departed" in html


def test_outsider_sees_no_shipment_and_cannot_draft_for_it(
    svc: Service, story: dict[str, Any]
) -> None:
    _sign_in(svc.api, story["outsider"])
    assert story["sid"] not in svc.api.get("/app").text
    assert svc.api.get(f"/app/shipments/{story['sid']}").status_code == 404
    assert _draft(svc.api, story["sid"], milestone="DEPARTED").status_code == 404


def test_every_field_is_checked_with_its_own_message(svc: Service, story: dict[str, Any]) -> None:
    _sign_in(svc.api, story["carrier"])
    errors = _draft(
        svc.api,
        story["sid"],
        milestone="IMPORT_CLEARED",
        location="Haiphong",
        weight_kg="-3",
        reason="2",
        evidence=["0x1234"],
    ).json()["errors"]
    assert errors["milestone"].startswith("Not allowed for you now; you may record: departed")
    assert "UN/LOCODE" in errors["location"]
    assert "kg" in errors["weight_kg"]
    assert "only given with an exception" in errors["reason"]
    assert "32-byte hash" in errors["evidence"]
    errors = _draft(svc.api, story["sid"], milestone="DEPARTED", weight_kg="1.2345").json()
    assert errors["errors"] == {"weight_kg": "At most three decimals (whole grams)."}
    errors = _draft(svc.api, story["sid"], milestone="EXCEPTION").json()["errors"]
    assert "Choose why" in errors["reason"]


def test_draft_is_typed_data_for_the_signed_in_key_that_the_api_accepts(
    svc: Service, story: dict[str, Any]
) -> None:
    carrier = story["carrier"]
    _sign_in(svc.api, carrier)
    draft = _draft(svc.api, story["sid"], milestone="DEPARTED", location="vn hap", weight_kg="520")
    body = draft.json()
    assert body["errors"] == {}
    typed = body["typed_data"]
    assert typed["primaryType"] == "Milestone"
    assert typed["domain"]["chainId"] == svc.chain.chain_id
    assert typed["message"]["signer"] == carrier.signer.address
    assert typed["message"]["measuredWeightGrams"] == 520_000
    assert body["submission"]["location"] == "VNHAP"
    domain = svc.registry.domain()
    message = {
        **typed["message"],
        "shipmentId": bytes.fromhex(typed["message"]["shipmentId"][2:]),
        "location": b"VNHAP",
        "evidenceHash": bytes(32),
    }
    signature = "0x" + eip712.sign(carrier.signer.key, domain, MILESTONE, message).hex()
    resp = svc.api.post(
        f"/app/api/shipments/{story['sid']}/milestones",
        json={"milestone": body["submission"], "signature": signature},
        headers=ORIGIN,
    )
    assert resp.status_code == 202, resp.text
    svc.settle()
    relay = svc.api.get(f"/app/api/relay/{resp.json()['relay_id']}").json()
    assert relay["status"] == "final"


def test_session_submits_only_milestones_its_own_key_signed(
    svc: Service, story: dict[str, Any]
) -> None:
    # The outsider's session relays the carrier's correctly signed milestone: refused.
    carrier, outsider = story["carrier"], story["outsider"]
    good = milestone_body(svc, story["sid"], M.DEPARTED, carrier.signer)
    _sign_in(svc.api, outsider)
    resp = svc.api.post(f"/app/api/shipments/{story['sid']}/milestones", json=good, headers=ORIGIN)
    assert resp.status_code == 403
    assert "submits only milestones that key signed" in resp.json()["detail"]
    # Its own key signing the carrier's move: the contract's rule, answered 409 or 404.
    own = milestone_body(svc, story["sid"], M.DEPARTED, outsider.signer)
    resp = svc.api.post(f"/app/api/shipments/{story['sid']}/milestones", json=own, headers=ORIGIN)
    assert resp.status_code in (404, 409), resp.text


def test_a_location_not_on_the_un_locode_list_is_refused_naming_the_field(
    svc: Service, story: dict[str, Any]
) -> None:
    carrier = story["carrier"]
    _sign_in(svc.api, carrier)
    errors = _draft(svc.api, story["sid"], milestone="DEPARTED", location="XXZZZ").json()["errors"]
    assert errors == {
        "location": "XXZZZ is not a UN/LOCODE; search by the place's name and pick one."
    }
    # Signed outside the form, the same code is refused when submitted.
    signed = milestone_body(svc, story["sid"], M.DEPARTED, carrier.signer, location="XXZZZ")
    resp = svc.api.post(
        f"/app/api/shipments/{story['sid']}/milestones", json=signed, headers=ORIGIN
    )
    assert resp.status_code == 422
    assert resp.json()["detail"] == "location: XXZZZ is not a UN/LOCODE"
    # The shipment's own route is accepted, and so is a listed code.
    for code in ("USLAX", "VNCMT"):
        assert (
            _draft(svc.api, story["sid"], milestone="DEPARTED", location=code).json()["errors"]
            == {}
        )


def test_relay_status_of_another_organisation_is_not_found(
    svc: Service, story: dict[str, Any]
) -> None:
    carrier = story["carrier"]
    body = milestone_body(svc, story["sid"], M.DEPARTED, carrier.signer)
    relay = post(svc, f"/v1/shipments/{story['sid']}/milestones", body, carrier)["relay_id"]
    _sign_in(svc.api, story["outsider"])
    assert svc.api.get(f"/app/api/relay/{relay}").status_code == 404
    svc.api.cookies.clear()
    _sign_in(svc.api, carrier)
    assert svc.api.get(f"/app/api/relay/{relay}").status_code == 200


def test_cross_site_write_is_refused(svc: Service, story: dict[str, Any]) -> None:
    _sign_in(svc.api, story["carrier"])
    resp = svc.api.post(
        f"/app/api/shipments/{story['sid']}/milestones/draft",
        json={"milestone": "DEPARTED"},
        headers={"Origin": "http://evil.example"},
    )
    assert resp.status_code == 403


def test_committed_app_bundle_equals_a_fresh_build(tmp_path: Path) -> None:
    out = tmp_path / "app.bundle.js"
    subprocess.run(
        ["node", "scripts/build_app.mjs", str(out)], cwd=PROJECT_ROOT, check=True, timeout=120
    )
    committed = (PROJECT_ROOT / "frontend_static" / "app" / "app.bundle.js").read_bytes()
    assert out.read_bytes() == committed, "frontend_static/app is stale: run `make app`"


# ------------------------------------------------------------------ handovers


@pytest.fixture
def pickup(svc: Service, story: dict[str, Any]) -> dict[str, Any]:
    """A second shipment waiting for its pickup, and the seller's signed PICKED_UP for it."""
    seller, carrier = story["seller"], story["carrier"]
    body = create_body(svc, seller.signer, [carrier.signer.address])
    sid = body["terms"]["shipmentId"]
    post(svc, "/v1/shipments", body, seller)
    svc.settle()
    signed = milestone_body(svc, sid, M.PICKED_UP, seller.signer, receiver=carrier.signer)
    return {"sid": sid, "signed": signed}


def _link(pickup: dict[str, Any]) -> dict[str, Any]:
    signed = pickup["signed"]
    return {"milestone": signed["milestone"], "signature": signed["signature"]}


def test_handover_is_reviewed_and_submitted_by_its_receiver_only(
    svc: Service, story: dict[str, Any], pickup: dict[str, Any]
) -> None:
    # Someone else who got hold of the link: refused, naming who it is for.
    _sign_in(svc.api, story["outsider"])
    resp = svc.api.post("/app/api/handover/review", json=_link(pickup), headers=ORIGIN)
    assert resp.status_code == 403
    assert "this handover is for" in resp.json()["detail"]
    resp = svc.api.post("/app/api/handover", json=pickup["signed"], headers=ORIGIN)
    assert resp.status_code == 403
    svc.api.cookies.clear()
    _sign_in(svc.api, story["carrier"])
    review = svc.api.post("/app/api/handover/review", json=_link(pickup), headers=ORIGIN)
    assert review.status_code == 200, review.text
    assert review.json()["typed_data"]["primaryType"] == "CustodyAcceptance"
    assert review.json()["summary"].startswith("You accept: picked up to Carrier by Seller")
    resp = svc.api.post("/app/api/handover", json=pickup["signed"], headers=ORIGIN)
    assert resp.status_code == 202, resp.text
    svc.settle()
    assert svc.registry.custodian(bytes.fromhex(pickup["sid"][2:])) == (
        story["carrier"].signer.address
    )


def test_handover_link_with_a_forged_or_edited_release_is_refused(
    svc: Service, story: dict[str, Any], pickup: dict[str, Any]
) -> None:
    _sign_in(svc.api, story["carrier"])
    edited = _link(pickup)
    edited["milestone"] = {**edited["milestone"], "measuredWeightGrams": 1}
    resp = svc.api.post("/app/api/handover/review", json=edited, headers=ORIGIN)
    assert resp.status_code == 422
    assert "not signer" in resp.json()["detail"]
    single = milestone_body(svc, story["sid"], M.DEPARTED, story["carrier"].signer)
    resp = svc.api.post("/app/api/handover/review", json=single, headers=ORIGIN)
    assert resp.status_code == 403
    # A QR is drawn only for this site's handover links.
    resp = svc.api.post("/app/api/qr", json={"text": "https://evil.example/x"}, headers=ORIGIN)
    assert resp.status_code == 403
    link = "http://testserver/app/handover#abc"
    resp = svc.api.post("/app/api/qr", json={"text": link}, headers=ORIGIN)
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("image/svg+xml")


# ------------------------------------------------------------------ new shipments


def _shipment_form(carrier: str, **overrides: str) -> dict[str, str]:
    return {
        "reference": "PO-77",
        "origin": "VNSGN",
        "destination": "USLAX",
        "carrier": carrier,
        "weight_kg": "520",
        "pieces": "12",
        "mode": "sea",
        "lines": "0x" + "ab" * 32 + ", 120",
        **overrides,
    }


def test_new_shipment_fields_are_checked_one_by_one(svc: Service, story: dict[str, Any]) -> None:
    _sign_in(svc.api, story["seller"])
    resp = svc.api.post(
        "/app/api/shipments/draft",
        json=_shipment_form(
            "0x1234",
            origin="Saigon",
            weight_kg="0",
            pieces="x",
            mode="boat",
            lines="08936045870013",
            delivered_by="2001-01-01T00:00",
            reference="",
        ),
        headers=ORIGIN,
    )
    errors = resp.json()["errors"]
    assert set(errors) == {
        "carrier",
        "origin",
        "weight_kg",
        "pieces",
        "mode",
        "lines",
        "delivered_by",
        "reference",
    }
    assert "already passed" in errors["delivered_by"]
    assert "Line 1" in errors["lines"]


def test_a_mistyped_party_address_is_refused_next_to_its_field(
    svc: Service, story: dict[str, Any]
) -> None:
    """A mixed-case address carries an EIP-55 checksum: one mistyped letter is caught
    there, not signed into the terms as someone else's key."""
    _sign_in(svc.api, story["seller"])
    carrier = story["carrier"].signer.address
    form = _shipment_form(miscased(carrier), consignee=miscased(carrier).lower())
    errors = svc.api.post("/app/api/shipments/draft", json=form, headers=ORIGIN).json()["errors"]
    assert errors == {
        "carrier": "The carrier's address has a mistyped letter (wrong checksum); copy it again."
    }


def test_seller_creates_a_shipment_it_signed_and_no_one_else_submits_it(
    svc: Service, story: dict[str, Any]
) -> None:
    seller, carrier = story["seller"], story["carrier"]
    _sign_in(svc.api, seller)
    draft = svc.api.post(
        "/app/api/shipments/draft", json=_shipment_form(carrier.signer.address), headers=ORIGIN
    ).json()
    assert draft["errors"] == {}
    typed = draft["typed_data"]
    assert typed["primaryType"] == "CreateShipment"
    terms = typed["message"]["terms"]
    message = {
        "terms": {
            **terms,
            "shipmentId": bytes.fromhex(terms["shipmentId"][2:]),
            "origin": b"VNSGN",
            "destination": b"USLAX",
            "manifestHash": bytes.fromhex(terms["manifestHash"][2:]),
        },
        "nonce": typed["message"]["nonce"],
        "deadline": typed["message"]["deadline"],
    }
    signature = (
        "0x" + eip712.sign(seller.signer.key, svc.registry.domain(), CREATE_SHIPMENT, message).hex()
    )
    body = {**draft["submission"], "signature": signature}
    # Another organisation's session cannot relay the seller's signed shipment.
    svc.api.cookies.clear()
    _sign_in(svc.api, story["outsider"])
    resp = svc.api.post("/app/api/shipments", json=body, headers=ORIGIN)
    assert resp.status_code == 403
    svc.api.cookies.clear()
    _sign_in(svc.api, seller)
    resp = svc.api.post("/app/api/shipments", json=body, headers=ORIGIN)
    assert resp.status_code == 202, resp.text
    svc.settle()
    sid = terms["shipmentId"]
    assert sid.startswith(seller.signer.address.lower())
    assert f'data-shipment="{sid}"' in svc.api.get("/app").text


# -- nothing signed is written twice -------------------------------------------------


def _relay_rows(svc: Service) -> int:
    with context(svc.api).sessions() as session:
        return session.query(RelayRequest).count()


def test_a_milestone_sent_again_is_the_same_write_not_a_second(
    svc: Service, story: dict[str, Any]
) -> None:
    _sign_in(svc.api, story["carrier"])
    sid = story["sid"]
    body = milestone_body(svc, sid, M.DEPARTED, story["carrier"].signer)
    path = f"/app/api/shipments/{sid}/milestones"
    before = _relay_rows(svc)
    first = svc.api.post(path, json=body, headers=ORIGIN)
    assert first.status_code == 202, first.text
    again = svc.api.post(path, json=body, headers=ORIGIN)
    assert again.status_code == 202, again.text
    assert again.json()["relay_id"] == first.json()["relay_id"]
    assert _relay_rows(svc) == before + 1
    svc.settle()
    # Once on chain, the phone's late resend is told the write is done.
    late = svc.api.post(path, json=body, headers=ORIGIN)
    assert late.status_code == 202, late.text
    assert late.json()["relay_id"] == first.json()["relay_id"]
    assert late.json()["status"] in ("mined", "final")
    assert _relay_rows(svc) == before + 1
    # A new signature over a new nonce is a new write (and the contract's order applies).
    other = milestone_body(svc, sid, M.ARRIVED, story["carrier"].signer, location="USLAX")
    assert svc.api.post(path, json=other, headers=ORIGIN).status_code == 202


def test_a_shipment_sent_again_is_the_same_write_not_a_conflict(svc: Service) -> None:
    seller = make_org(svc.api, "seller", scopes=("seller",))
    carrier = make_org(svc.api, "carrier")
    svc.settle()
    _sign_in(svc.api, seller)
    body = create_body(svc, seller.signer, [carrier.signer.address])
    first = svc.api.post("/app/api/shipments", json=body, headers=ORIGIN)
    assert first.status_code == 202, first.text
    again = svc.api.post("/app/api/shipments", json=body, headers=ORIGIN)
    assert again.status_code == 202, again.text
    assert again.json()["relay_id"] == first.json()["relay_id"]
    svc.settle()
    late = svc.api.post("/app/api/shipments", json=body, headers=ORIGIN)
    assert late.status_code == 202, late.text
    assert late.json()["relay_id"] == first.json()["relay_id"]
    assert late.json()["status"] in ("mined", "final")
