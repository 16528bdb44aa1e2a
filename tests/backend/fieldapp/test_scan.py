"""A scanned or typed SSCC opens its shipment in the field app, for a party of it only."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from backend.chain import ChainClient
from backend.gs1.gtin import with_check_digit
from tests.backend.factories import app_sign_in, make_org
from tests.backend.shipments.factories import Service, create_body, post

SSCC = with_check_digit("0" + "8936045" + "000000042")


@pytest.fixture
def labelled(api: TestClient, tester: ChainClient) -> dict[str, Any]:
    """A shipment whose manifest carries an SSCC; its carrier and an outsider."""
    svc = Service(api, tester)
    seller = make_org(api, "seller", scopes=("seller",))
    carrier = make_org(api, "carrier")
    outsider = make_org(api, "outsider")
    svc.settle()
    body = create_body(svc, seller.signer, [carrier.signer.address], sscc=SSCC)
    post(svc, "/v1/shipments", body, seller)
    svc.settle()
    return {
        "api": api,
        "sid": body["terms"]["shipmentId"],
        "carrier": carrier,
        "outsider": outsider,
    }


def test_a_party_scanning_the_label_is_sent_to_the_shipment(labelled: dict[str, Any]) -> None:
    api: TestClient = labelled["api"]
    assert "Sign in with wallet" in api.get(f"/app/00/{SSCC}").text
    app_sign_in(api, labelled["carrier"])
    for path in (f"/app/00/{SSCC}", f"/app/00?sscc={SSCC[:9]}%20{SSCC[9:]}"):
        resp = api.get(path, follow_redirects=False)
        assert resp.status_code == 303, resp.text
        assert resp.headers["location"] == f"/app/shipments/{labelled['sid']}"
    assert 'id="scanner"' in api.get("/app/scan").text


def test_an_outsider_scanning_someone_elses_label_learns_nothing(
    labelled: dict[str, Any],
) -> None:
    api: TestClient = labelled["api"]
    app_sign_in(api, labelled["outsider"])
    resp = api.get(f"/app/00/{SSCC}", follow_redirects=False)
    unknown = api.get(f"/app/00/{with_check_digit('0' + '8936045' + '000000043')}")
    assert resp.status_code == unknown.status_code == 404
    assert resp.json()["detail"] == f"no shipment is labelled with SSCC {SSCC}"
    assert labelled["sid"] not in resp.text


@pytest.mark.parametrize(
    ("sscc", "reason"),
    [(SSCC[:-1] + str((int(SSCC[-1]) + 1) % 10), "check digit"), ("12345", "18 digits")],
)
def test_a_mistyped_sscc_is_422_with_the_reason(
    labelled: dict[str, Any], sscc: str, reason: str
) -> None:
    api: TestClient = labelled["api"]
    app_sign_in(api, labelled["carrier"])
    resp = api.get(f"/app/00/{sscc}")
    assert resp.status_code == 422
    assert resp.json()["detail"].startswith("sscc: ")
    assert reason in resp.json()["detail"]
