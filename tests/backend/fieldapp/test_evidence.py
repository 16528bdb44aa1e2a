"""Evidence photos: content-addressed, size- and type-checked, for the shipment's parties only."""

from __future__ import annotations

import hashlib
import io
import secrets
from typing import Any

import pytest
from eth_account import Account
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select

from backend.chain import ChainClient
from backend.chain.typed_data.shipments import MilestoneType as M
from backend.shipments import evidence
from backend.shipments.models import ShipmentEvidence
from tests.backend.factories import APP_ORIGIN, OPERATOR, Org, app_sign_in, make_org
from tests.backend.shipments.factories import Service, create_body, milestone_body, post
from tests.context import context


def photo(kind: str = "JPEG", size: tuple[int, int] = (64, 48)) -> bytes:
    """A real image of random-ish colour, so every call hashes differently."""
    out = io.BytesIO()
    colour = tuple(secrets.randbelow(256) for _ in range(3))
    Image.new("RGB", size, colour).save(out, format=kind)
    return out.getvalue()


def hash_of(content: bytes) -> str:
    return "0x" + hashlib.sha256(content).hexdigest()


@pytest.fixture
def world(api: TestClient, tester: ChainClient) -> dict[str, Any]:
    """A created shipment between a seller and a carrier; an outsider organisation."""
    svc = Service(api, tester)
    seller = make_org(api, "seller", scopes=("seller",))
    carrier = make_org(api, "carrier")
    broker = make_org(api, "broker")
    outsider = make_org(api, "outsider")
    svc.settle()
    body = create_body(
        svc, seller.signer, [carrier.signer.address], customs_broker=broker.signer.address
    )
    post(svc, "/v1/shipments", body, seller)
    svc.settle()
    return {
        "svc": svc,
        "sid": body["terms"]["shipmentId"],
        "seller": seller,
        "carrier": carrier,
        "broker": broker,
        "outsider": outsider,
    }


@pytest.fixture
def picked_up(world: dict[str, Any]) -> dict[str, Any]:
    """:func:`world` with the goods picked up: the broker clears them for export next."""
    svc: Service = world["svc"]
    seller, carrier = world["seller"], world["carrier"]
    pickup = milestone_body(svc, world["sid"], M.PICKED_UP, seller.signer, receiver=carrier.signer)
    post(svc, f"/v1/shipments/{world['sid']}/milestones", pickup, seller)
    svc.settle()
    return world


def upload(
    api: TestClient, sid: str, content: bytes, claimed: str | None = None, **headers: str
) -> Any:
    return api.put(
        f"/app/api/shipments/{sid}/evidence/{claimed or hash_of(content)}",
        content=content,
        headers={**APP_ORIGIN, "Content-Type": "image/jpeg", **headers},
    )


def stored(api: TestClient) -> int:
    with context(api).sessions() as session:
        return int(session.scalar(select(func.count()).select_from(ShipmentEvidence)) or 0)


def test_a_party_uploads_a_photo_under_its_sha256_and_the_parties_read_it(
    world: dict[str, Any],
) -> None:
    api: TestClient = world["svc"].api
    sid = world["sid"]
    content = photo()
    app_sign_in(api, world["carrier"])
    resp = upload(api, sid, content)
    assert resp.status_code == 201, resp.text
    assert resp.json() == {
        "evidence_hash": hash_of(content),
        "media_type": "image/jpeg",
        "size": len(content),
    }
    # The same photo again is the same row, not a second copy.
    assert upload(api, sid, content).status_code == 201
    assert stored(api) == 1
    read = api.get(f"/app/api/shipments/{sid}/evidence/{hash_of(content)}")
    assert read.status_code == 200
    assert read.content == content
    assert read.headers["content-type"] == "image/jpeg"
    assert read.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in read.headers["content-security-policy"]
    # The seller's API key and the operator read it through the API.
    seller: Org = world["seller"]
    for headers in (seller.writer, OPERATOR):
        resp = api.get(f"/v1/shipments/{sid}/evidence/{hash_of(content)}", headers=headers)
        assert resp.status_code == 200, resp.text
        assert resp.content == content


def test_a_stranger_cannot_upload_to_someone_elses_shipment(world: dict[str, Any]) -> None:
    api: TestClient = world["svc"].api
    app_sign_in(api, world["outsider"])
    resp = upload(api, world["sid"], photo())
    assert resp.status_code == 404, resp.text
    assert stored(api) == 0


def test_a_stranger_cannot_read_a_shipments_photos(world: dict[str, Any]) -> None:
    api: TestClient = world["svc"].api
    sid = world["sid"]
    content = photo("PNG")
    app_sign_in(api, world["carrier"])
    assert upload(api, sid, content, **{"Content-Type": "image/png"}).status_code == 201
    path = f"evidence/{hash_of(content)}"
    app_sign_in(api, world["outsider"])
    assert api.get(f"/app/api/shipments/{sid}/{path}").status_code == 404
    outsider: Org = world["outsider"]
    resp = api.get(f"/v1/shipments/{sid}/{path}", headers=outsider.writer)
    assert resp.status_code == 404
    assert content not in resp.content
    assert api.get(f"/v1/shipments/{sid}/{path}").status_code == 401


def test_uploads_need_a_wallet_session_from_this_site(world: dict[str, Any]) -> None:
    api: TestClient = world["svc"].api
    carrier: Org = world["carrier"]
    # An organisation API key is not a wallet session.
    assert upload(api, world["sid"], photo(), **carrier.writer).status_code == 401
    app_sign_in(api, carrier)
    resp = upload(api, world["sid"], photo(), Origin="https://evil.example")
    assert resp.status_code == 403
    assert stored(api) == 0


def test_a_photo_whose_bytes_do_not_match_the_hash_is_refused(world: dict[str, Any]) -> None:
    api: TestClient = world["svc"].api
    app_sign_in(api, world["carrier"])
    content = photo()
    resp = upload(api, world["sid"], content, claimed=hash_of(photo()))
    assert resp.status_code == 422
    assert f"SHA-256 is {hash_of(content)}" in resp.json()["detail"]
    assert stored(api) == 0


def test_oversized_and_non_image_files_are_refused_with_the_reason(
    world: dict[str, Any],
) -> None:
    api: TestClient = world["svc"].api
    sid = world["sid"]
    app_sign_in(api, world["carrier"])
    big = b"\xff\xd8\xff\xe0" + secrets.token_bytes(evidence.MAX_BYTES)
    resp = upload(api, sid, big)
    assert resp.status_code == 413
    assert "MiB limit" in resp.json()["detail"]
    # JPEG magic bytes in front of noise, a PDF and an SVG (a script can hide in one).
    for fake in (
        b"\xff\xd8\xff\xe0" + secrets.token_bytes(2048),
        b"%PDF-1.7\n" + secrets.token_bytes(512),
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    ):
        resp = upload(api, sid, fake)
        assert resp.status_code == 415, resp.text
        assert "JPEG, PNG or WebP" in resp.json()["detail"]
    assert upload(api, sid, b"").status_code == 422
    assert stored(api) == 0


def test_a_draft_names_only_a_photo_the_store_holds(world: dict[str, Any]) -> None:
    api: TestClient = world["svc"].api
    sid = world["sid"]
    app_sign_in(api, world["seller"])
    content = photo()
    form = {"milestone": "PICKED_UP", "evidence": [hash_of(content)]}
    resp = api.post(f"/app/api/shipments/{sid}/milestones/draft", json=form, headers=APP_ORIGIN)
    assert "not reached the service" in resp.json()["errors"]["evidence"]
    assert upload(api, sid, content).status_code == 201
    resp = api.post(f"/app/api/shipments/{sid}/milestones/draft", json=form, headers=APP_ORIGIN)
    assert "evidence" not in resp.json()["errors"]


def _draft(api: TestClient, sid: str, photos: list[str], **form: Any) -> Any:
    body = {"milestone": "EXPORT_CLEARED", "evidence": photos, **form}
    resp = api.post(f"/app/api/shipments/{sid}/milestones/draft", json=body, headers=APP_ORIGIN)
    assert resp.status_code == 200, resp.text
    return resp.json()


def _signed(org: Org, draft: dict[str, Any]) -> dict[str, Any]:
    """The draft's milestone signed by ``org``'s key, as the app submits it."""
    signature = Account.sign_typed_data(org.signer.key, full_message=draft["typed_data"])
    return {"milestone": draft["submission"], "signature": "0x" + signature.signature.hex()}


def _broker_uploads(world: dict[str, Any], shots: list[bytes]) -> tuple[TestClient, str, list[str]]:
    """The broker signed in, ``shots`` uploaded: the client, shipment id and photo hashes."""
    api: TestClient = world["svc"].api
    app_sign_in(api, world["broker"])
    for content in shots:
        assert upload(api, world["sid"], content).status_code == 201
    return api, world["sid"], [hash_of(c) for c in shots]


def _recorded(world: dict[str, Any], body: dict[str, Any]) -> None:
    """Submit a signed milestone through the app and wait until it is on chain."""
    api: TestClient = world["svc"].api
    resp = api.post(f"/app/api/shipments/{world['sid']}/milestones", json=body, headers=APP_ORIGIN)
    assert resp.status_code == 202, resp.text
    world["svc"].settle()


def _photos_shown(world: dict[str, Any]) -> list[list[str]]:
    seller: Org = world["seller"]
    resp = world["svc"].api.get(f"/v1/shipments/{world['sid']}", headers=seller.writer)
    return [m["evidence_photos"] for m in resp.json()["milestones"]]


def test_several_photos_are_signed_as_one_hash_over_them_in_order_and_shown_with_it(
    picked_up: dict[str, Any],
) -> None:
    world = picked_up
    shots = [photo(), photo("PNG"), photo("WEBP")]
    api, sid, hashes = _broker_uploads(world, shots)
    draft = _draft(api, sid, hashes)
    assert draft["errors"] == {}
    assert "with 3 photos" in draft["summary"]
    signed = draft["typed_data"]["message"]["evidenceHash"]
    rule = hashlib.sha256(b"".join(bytes.fromhex(h[2:]) for h in hashes)).hexdigest()
    assert signed == "0x" + rule
    # Another order is another hash: the signature commits to the order too.
    assert _draft(api, sid, hashes[::-1])["typed_data"]["message"]["evidenceHash"] != signed
    _recorded(world, _signed(world["broker"], draft))
    assert _photos_shown(world)[-1] == hashes
    # Each photo reads back for a party; the list itself is no photo.
    for content, hash_ in zip(shots, hashes, strict=True):
        assert api.get(f"/app/api/shipments/{sid}/evidence/{hash_}").content == content
    assert api.get(f"/app/api/shipments/{sid}/evidence/{signed}").status_code == 404
    # The app's shipment page shows them with the milestone.
    page = api.get(f"/app/shipments/{sid}").text
    for hash_ in hashes:
        assert f"/app/api/shipments/{sid}/evidence/{hash_}" in page


def test_a_photo_not_covered_by_the_signature_is_neither_shown_nor_accepted(
    picked_up: dict[str, Any],
) -> None:
    world = picked_up
    shots = [photo(), photo(), photo()]
    api, sid, hashes = _broker_uploads(world, shots)
    two = _draft(api, sid, hashes[:2])
    # The signed milestone with a third photo slipped into its evidenceHash: the
    # signature no longer matches and nothing is queued.
    wider = _draft(api, sid, hashes)["typed_data"]["message"]["evidenceHash"]
    tampered = _signed(world["broker"], two)
    tampered["milestone"] = {**tampered["milestone"], "evidenceHash": wider}
    resp = api.post(f"/app/api/shipments/{sid}/milestones", json=tampered, headers=APP_ORIGIN)
    assert 400 <= resp.status_code < 500, resp.text
    assert _photos_shown(world)[-1] == []
    _recorded(world, _signed(world["broker"], two))
    # The third photo is in the store and a wider list exists, yet the milestone shows
    # exactly the two its signature covers.
    assert _photos_shown(world)[-1] == hashes[:2]


def test_a_draft_refuses_too_many_repeated_or_missing_photos(picked_up: dict[str, Any]) -> None:
    world = picked_up
    shots = [photo() for _ in range(9)]
    api, sid, hashes = _broker_uploads(world, shots)
    assert _draft(api, sid, hashes)["errors"] == {"evidence": "At most 8 photos; remove one."}
    assert _draft(api, sid, hashes[:8])["errors"] == {}
    # One photo signs its own SHA-256, as before, and keeps no list of its own.
    before = stored(api)
    assert _draft(api, sid, hashes[:1])["typed_data"]["message"]["evidenceHash"] == hashes[0]
    assert stored(api) == before
    twice = _draft(api, sid, [hashes[0], hashes[0]])["errors"]
    assert twice == {"evidence": "The same photo is attached twice; remove one."}
    missing = _draft(api, sid, [hashes[0], hash_of(photo())])["errors"]
    assert "not reached the service" in missing["evidence"]


def test_a_stranger_sees_no_photo_of_a_milestone(picked_up: dict[str, Any]) -> None:
    world = picked_up
    shots = [photo(), photo()]
    api, sid, hashes = _broker_uploads(world, shots)
    draft = _draft(api, sid, hashes)
    signed = draft["typed_data"]["message"]["evidenceHash"]
    outsider: Org = world["outsider"]
    # Neither the list's hash nor a photo's reads for a stranger, by session or API key.
    app_sign_in(api, outsider)
    assert _draft_status(api, sid, hashes) == 404
    for hash_ in (*hashes, signed):
        assert api.get(f"/app/api/shipments/{sid}/evidence/{hash_}").status_code == 404
        resp = api.get(f"/v1/shipments/{sid}/evidence/{hash_}", headers=outsider.writer)
        assert resp.status_code == 404
    assert api.get(f"/v1/shipments/{sid}", headers=outsider.writer).status_code == 404
    assert stored(api) == 3


def _draft_status(api: TestClient, sid: str, photos: list[str]) -> int:
    body = {"milestone": "EXPORT_CLEARED", "evidence": photos}
    resp = api.post(f"/app/api/shipments/{sid}/milestones/draft", json=body, headers=APP_ORIGIN)
    return int(resp.status_code)


def test_the_receiver_reviews_a_handover_with_the_photos_the_releasers_signature_covers(
    world: dict[str, Any],
) -> None:
    api: TestClient = world["svc"].api
    sid = world["sid"]
    seller: Org = world["seller"]
    carrier: Org = world["carrier"]
    app_sign_in(api, seller)
    shots = [photo(), photo("PNG"), photo()]
    for content in shots:
        assert upload(api, sid, content).status_code == 201
    hashes = [hash_of(c) for c in shots]
    form = {
        "milestone": "PICKED_UP",
        "counterparty": carrier.signer.address,
        "evidence": hashes[:2],
    }
    resp = api.post(f"/app/api/shipments/{sid}/milestones/draft", json=form, headers=APP_ORIGIN)
    assert resp.json()["errors"] == {}, resp.text
    link = _signed(seller, resp.json())
    app_sign_in(api, carrier)
    review = api.post("/app/api/handover/review", json=link, headers=APP_ORIGIN)
    assert review.status_code == 200, review.text
    # The two signed, in order; not the third photo the seller uploaded to the shipment.
    assert review.json()["photos"] == hashes[:2]
    assert " with 2 photos for shipment " in review.json()["summary"]
    for hash_, content in zip(hashes[:2], shots, strict=False):
        assert api.get(f"/app/api/shipments/{sid}/evidence/{hash_}").content == content
    # The link carries the signed milestone only: photos of someone's choosing are refused.
    resp = api.post(
        "/app/api/handover/review", json={**link, "photos": [hashes[2]]}, headers=APP_ORIGIN
    )
    assert resp.status_code == 422
    # A release signed over evidence the service does not hold: no photo, and it says so.
    elsewhere = milestone_body(
        world["svc"], sid, M.PICKED_UP, seller.signer, receiver=carrier.signer
    )
    bare = {"milestone": elsewhere["milestone"], "signature": elsewhere["signature"]}
    review = api.post("/app/api/handover/review", json=bare, headers=APP_ORIGIN)
    assert review.status_code == 200, review.text
    assert review.json()["photos"] == []
    assert "that the service does not hold" in review.json()["summary"]
