"""Passports from the field app: a seller's form, checked field by field, signed in the wallet."""

from __future__ import annotations

import json
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from fastapi.testclient import TestClient

from backend.chain import ChainClient
from tests.backend.factories import (
    APP_ORIGIN,
    SAMPLE_PREFIX,
    Org,
    app_sign_in,
    gtin_under,
    make_org,
)
from tests.backend.shipments.factories import Service

GOOD = {
    "product_name": "Solid bamboo dinner set",
    "category": "Tableware / Kitchenware",
    "origin_country": "VN",
    "region": "Thanh Hoa province",
    "materials": "Moso bamboo; 94; 0; VN\nPVAc adhesive; 4.5; 0; VN\nTung oil; 1.5; 0; CN",
    "sections": json.dumps({"water": {"manufacturing": 12.5}}),
}


@pytest.fixture
def shop(api: TestClient, tester: ChainClient) -> dict[str, Any]:
    svc = Service(api, tester)
    seller = make_org(api, "lang-tre", scopes=("seller",), prefixes=(SAMPLE_PREFIX,))
    rival = make_org(api, "rival", scopes=("seller",), prefixes=("8936046",))
    carrier = make_org(api, "carrier")
    svc.settle()
    return {"svc": svc, "seller": seller, "rival": rival, "carrier": carrier}


def _draft(api: TestClient, form: dict[str, str], passport: str = "") -> Any:
    path = f"/app/api/passports/{passport}/draft" if passport else "/app/api/passports/draft"
    resp = api.post(path, json=form, headers=APP_ORIGIN)
    assert resp.status_code == 200, resp.text
    return resp.json()


def _sign(org: Org, typed: dict[str, Any]) -> str:
    """What the wallet does with ``eth_signTypedData_v4``."""
    signable = encode_typed_data(full_message=typed)
    return "0x" + Account.sign_message(signable, org.signer.key).signature.hex()


def test_every_field_is_checked_with_the_error_next_to_it(shop: dict[str, Any]) -> None:
    api: TestClient = shop["svc"].api
    app_sign_in(api, shop["seller"])
    errors = _draft(
        api,
        {
            **GOOD,
            "gtin": "08936045870014",
            "product_name": "",
            "origin_country": "Vietnam",
            "materials": "Bamboo; 90; 0; VN",
            "sections": '{"colour": "red"}',
        },
    )["errors"]
    assert "check digit" in errors["gtin"]
    assert errors["product_name"]
    assert errors["origin_country"]
    assert errors["sections"].startswith("Unknown section(s): colour")
    errors = _draft(
        api, {**GOOD, "gtin": gtin_under(SAMPLE_PREFIX), "materials": "Bamboo; 90; 0; VN"}
    )["errors"]
    assert errors == {
        "materials": "Material mass shares sum to 90 %, expected 100 % (tolerance ±0.1)."
    }
    errors = _draft(api, {**GOOD, "gtin": gtin_under(SAMPLE_PREFIX), "materials": "Bamboo, 100"})[
        "errors"
    ]
    assert errors["materials"].startswith("Line 1: write name; mass %; recycled %; country")


def test_a_seller_issues_and_amends_a_passport_signed_in_the_wallet(
    shop: dict[str, Any],
) -> None:
    svc: Service = shop["svc"]
    api, seller = svc.api, shop["seller"]
    app_sign_in(api, seller)
    gtin = gtin_under(SAMPLE_PREFIX)
    draft = _draft(api, {**GOOD, "gtin": gtin, "lot": "TH2612-01"})
    assert draft["errors"] == {}
    assert draft["typed_data"]["primaryType"] == "IssuePassport"
    assert draft["summary"].startswith("You sign the passport of Solid bamboo dinner set (GTIN ")
    pid = draft["submission"]["passportId"]
    signature = _sign(seller, draft["typed_data"])
    resp = api.post("/app/api/passports", json={**draft["submission"], "signature": signature},
                    headers=APP_ORIGIN)  # fmt: skip
    assert resp.status_code == 202, resp.text
    svc.settle()
    shown = api.get(f"/v1/passports/{pid}").json()
    assert shown["version"] == 1
    assert shown["document"]["water"]["manufacturing"] == 12.5
    # The amend page starts from the stored document.
    page = api.get(f"/app/passports/{pid}/amend").text
    assert "Solid bamboo dinner set" in page
    assert "Moso bamboo; 94.0; 0.0; VN" in page
    amended = _draft(api, {**GOOD, "gtin": gtin, "lot": "TH2612-01", "description": "Hand wash"},
                     passport=pid)  # fmt: skip
    assert amended["errors"] == {}
    assert amended["typed_data"]["primaryType"] == "AmendPassport"
    assert amended["typed_data"]["message"]["baseVersion"] == 1
    # The identity of an amended passport cannot change.
    moved = _draft(api, {**GOOD, "gtin": gtin, "lot": "TH2612-02"}, passport=pid)
    assert moved["errors"] == {"gtin": "An amendment keeps the passport's GTIN, lot and serial."}
    signature = _sign(seller, amended["typed_data"])
    resp = api.post(f"/app/api/passports/{pid}/versions",
                    json={**amended["submission"], "signature": signature}, headers=APP_ORIGIN)  # fmt: skip
    assert resp.status_code == 202, resp.text
    svc.settle()
    shown = api.get(f"/v1/passports/{pid}").json()
    assert shown["version"] == 2
    assert shown["document"]["product"]["description"] == "Hand wash"
    # Issuing the same GTIN and lot again is named on the GTIN field.
    again = _draft(api, {**GOOD, "gtin": gtin, "lot": "TH2612-01"})
    assert "amend it instead" in again["errors"]["gtin"]


def test_only_the_issuers_own_key_and_organisation_may_sign_passports(
    shop: dict[str, Any],
) -> None:
    svc: Service = shop["svc"]
    api, seller, rival = svc.api, shop["seller"], shop["rival"]
    app_sign_in(api, seller)
    draft = _draft(api, {**GOOD, "gtin": gtin_under(SAMPLE_PREFIX)})
    pid = draft["submission"]["passportId"]
    body = {**draft["submission"], "signature": _sign(seller, draft["typed_data"])}
    # Another organisation's session relays the seller's signed passport: refused.
    api.cookies.clear()
    app_sign_in(api, rival)
    resp = api.post("/app/api/passports", json=body, headers=APP_ORIGIN)
    assert resp.status_code == 403
    assert "submits only what that key signed" in resp.json()["detail"]
    # Its own key signing a GTIN under the seller's prefix: the issuer check refuses it.
    own = _draft(api, {**GOOD, "gtin": gtin_under(SAMPLE_PREFIX)})
    resp = api.post("/app/api/passports",
                    json={**own["submission"], "signature": _sign(rival, own["typed_data"])},
                    headers=APP_ORIGIN)  # fmt: skip
    assert resp.status_code in (403, 409), resp.text
    # The seller's passport, once issued, is not the rival's to open or amend.
    api.cookies.clear()
    app_sign_in(api, seller)
    assert api.post("/app/api/passports", json=body, headers=APP_ORIGIN).status_code == 202
    svc.settle()
    api.cookies.clear()
    app_sign_in(api, rival)
    assert api.get(f"/app/passports/{pid}/amend").status_code == 404
    resp = api.post(f"/app/api/passports/{pid}/draft", json=GOOD, headers=APP_ORIGIN)
    assert resp.status_code == 404
    # A carrier's key signing a GTIN of the seller's prefix: refused with the reason.
    api.cookies.clear()
    carrier = shop["carrier"]
    app_sign_in(api, carrier)
    mine = _draft(api, {**GOOD, "gtin": gtin_under(SAMPLE_PREFIX, "87002")})
    resp = api.post(
        "/app/api/passports",
        json={**mine["submission"], "signature": _sign(carrier, mine["typed_data"])},
        headers=APP_ORIGIN,
    )
    assert resp.status_code in (403, 409), resp.text
    assert "PassportPrefixNotOwned" in resp.text or "seller" in resp.text
