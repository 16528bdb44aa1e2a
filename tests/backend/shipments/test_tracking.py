"""SSCC Digital Links: the public tracking page a logistic label opens, and the label itself."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from backend.chain.typed_data.shipments import MilestoneType as M
from backend.qr.images import qr_svg
from tests.backend.factories import make_org
from tests.backend.shipments.factories import (
    Parties,
    Service,
    create_body,
    milestone_body,
    post,
)

SSCC = "095212345000000018"
OTHER_SSCC = "095212345000000025"
JSON = {"Accept": "application/json"}


@pytest.fixture
def parties(api: TestClient) -> Parties:
    return Parties(
        seller=make_org(api, "seller", ("seller",)),
        carrier=make_org(api, "carrier", ("carrier",)),
        broker=make_org(api, "broker", ("supplier",)),
        other=make_org(api, "other", ("seller", "carrier")),
    )


def _labelled(svc: Service, p: Parties, sscc: str = SSCC, **kwargs: object) -> str:
    body = create_body(
        svc,
        p.seller.signer,
        [p.carrier.signer.address],
        customs_broker=p.broker.signer.address,
        sscc=sscc,
        **kwargs,  # type: ignore[arg-type]
    )
    post(svc, "/v1/shipments", body, p.seller)
    return str(body["terms"]["shipmentId"])


def test_label_link_opens_public_tracking_without_commercial_data(
    api: TestClient, svc: Service, parties: Parties
) -> None:
    p = parties
    sid = _labelled(svc, p, sla={"picked_up_by": svc.now() + 30})
    pending = api.get(f"/00/{SSCC}", headers=JSON)
    assert pending.status_code == 200
    assert pending.json()["status"] == "pending"
    svc.settle()
    svc.chain.advance_time(60)
    pickup = milestone_body(svc, sid, M.PICKED_UP, p.seller.signer, receiver=p.carrier.signer)
    post(svc, f"/v1/shipments/{sid}/milestones", pickup, p.seller)
    svc.settle()

    got = api.get(f"/00/{SSCC}", headers=JSON)
    assert got.status_code == 200, got.text
    view = got.json()
    assert view["sscc"] == SSCC
    assert view["digital_link"].endswith(f"/00/{SSCC}")
    assert view["status"] == "picked_up"
    assert (view["origin"], view["destination"]) == ("VNSGN", "USLAX")
    assert view["current_holder"] == "Carrier"
    assert view["late"] is True
    assert [m["milestone"] for m in view["milestones"]] == ["Picked up"]
    assert view["custody"][0]["holder"] == "Carrier"
    text = json.dumps(view)
    for secret in ("quantity", "passport", "Weight", "weight", sid, p.seller.signer.address):
        assert secret not in text

    page = api.get(f"/00/{SSCC}")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "Picked up by the carrier" in page.text
    assert "(00) 0 9521234 500000001 8" in page.text
    assert "Running late" in page.text
    assert "120" not in page.text  # the declared weight (kg) is not shown

    label = api.get(f"/labels/00/{SSCC}")
    assert label.status_code == 200
    assert "(00) 0 9521234 500000001 8" in label.text
    assert "Carrier" in label.text
    symbol = qr_svg(view["digital_link"], module_mm=0.6, title=f"SSCC {SSCC}")
    assert symbol[symbol.index("<svg") :].strip() in label.text


@pytest.mark.parametrize(
    ("path", "status", "needle"),
    [
        ("/00/095212345000000019", 400, "check digit should be 8"),
        ("/00/09521234500000001", 400, "18 digits"),
        ("/00/09521234500000001X", 400, "18 digits"),
        ("/00/095212345000000018/21/1", 400, "takes no key qualifiers"),
        ("/00/123456789012345675", 404, "no shipment"),
        ("/labels/00/095212345000000019", 400, "check digit"),
        ("/labels/00/123456789012345675", 404, "no shipment"),
    ],
)
def test_bad_or_unknown_sscc_is_a_clear_4xx(
    api: TestClient, path: str, status: int, needle: str
) -> None:
    resp = api.get(path, headers=JSON)
    assert resp.status_code == status, resp.text
    assert needle in resp.text
    html = api.get(path)
    assert html.status_code == status
    assert html.headers["content-type"].startswith("text/html")


def test_one_sscc_labels_one_shipment_and_a_bad_one_is_refused_at_submission(
    api: TestClient, svc: Service, parties: Parties
) -> None:
    p = parties
    _labelled(svc, p)
    again = create_body(svc, p.seller.signer, [p.carrier.signer.address], sscc=SSCC)
    resp = api.post("/v1/shipments", json=again, headers=p.seller.writer)
    assert resp.status_code == 409
    assert "already labels" in resp.json()["detail"]
    bad = create_body(svc, p.seller.signer, [p.carrier.signer.address], sscc="095212345000000019")
    resp = api.post("/v1/shipments", json=bad, headers=p.seller.writer)
    assert resp.status_code == 422
    assert "check digit" in resp.text
    _labelled(svc, p, OTHER_SSCC)
    assert api.get(f"/00/{OTHER_SSCC}", headers=JSON).status_code == 200
