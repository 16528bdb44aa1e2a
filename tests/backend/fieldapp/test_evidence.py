"""Evidence photos: content-addressed, size- and type-checked, for the shipment's parties only."""

from __future__ import annotations

import hashlib
import io
import secrets
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select

from backend.chain import ChainClient
from backend.shipments import evidence
from backend.shipments.models import ShipmentEvidence
from tests.backend.factories import APP_ORIGIN, OPERATOR, Org, app_sign_in, make_org
from tests.backend.shipments.factories import Service, create_body, post
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
    outsider = make_org(api, "outsider")
    svc.settle()
    body = create_body(svc, seller.signer, [carrier.signer.address])
    post(svc, "/v1/shipments", body, seller)
    svc.settle()
    return {
        "svc": svc,
        "sid": body["terms"]["shipmentId"],
        "seller": seller,
        "carrier": carrier,
        "outsider": outsider,
    }


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
    form = {"milestone": "PICKED_UP", "evidence_hash": hash_of(content)}
    resp = api.post(f"/app/api/shipments/{sid}/milestones/draft", json=form, headers=APP_ORIGIN)
    assert "not reached the service" in resp.json()["errors"]["evidence"]
    assert upload(api, sid, content).status_code == 201
    resp = api.post(f"/app/api/shipments/{sid}/milestones/draft", json=form, headers=APP_ORIGIN)
    assert "evidence" not in resp.json()["errors"]
