"""Organisations, API keys (hashing, scopes, revocation, rate limits) and signer keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from eth_account import Account
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from backend.chain import ChainClient
from backend.events.models import SupplyEvent
from backend.main import create_app
from backend.orgs import keys
from backend.orgs.models import ApiKey
from tests.backend.conftest import api_settings
from tests.backend.factories import OPERATOR, domain_of, make_org, signed_event
from tests.conftest import deployment_for
from tests.context import context


def test_create_org_requires_the_operator_token(api: TestClient) -> None:
    acme = make_org(api, "acme")
    resp = api.post("/v1/orgs", json={"slug": "evil", "name": "Evil"}, headers=acme.admin)
    assert resp.status_code == 403
    assert resp.json()["error"] == "forbidden"
    assert api.post("/v1/orgs", json={"slug": "x", "name": "X"}).status_code == 401


def test_duplicate_org_slug_is_a_conflict(api: TestClient) -> None:
    make_org(api, "acme")
    resp = api.post("/v1/orgs", json={"slug": "acme", "name": "Again"}, headers=OPERATOR)
    assert resp.status_code == 409


def test_api_keys_are_stored_hashed_and_work_as_bearer_or_header(api: TestClient) -> None:
    acme = make_org(api, "acme")
    secret = acme.writer["X-API-Key"]
    with context(api).sessions() as session:
        stored = session.scalars(select(ApiKey.key_hash)).all()
    assert keys.hash_key(secret) in stored
    assert all(secret not in h for h in stored)
    assert api.get("/v1/orgs/me", headers=acme.writer).json()["slug"] == "acme"
    bearer = {"Authorization": f"Bearer {secret}"}
    assert api.get("/v1/orgs/me", headers=bearer).status_code == 200


@pytest.mark.parametrize(
    "header",
    [
        {"Authorization": "Bearer wm_000000000000_nope"},
        {"Authorization": "Basic abc"},
        {"X-API-Key": "wm_short"},
        {"Authorization": "Bearer operator-test-tokeX"},
    ],
)
def test_unknown_or_malformed_keys_are_401(api: TestClient, header: dict[str, str]) -> None:
    resp = api.get("/v1/orgs/me", headers=header)
    assert resp.status_code == 401
    assert resp.json()["error"] == "unauthenticated"


def test_revoked_key_stops_authenticating(api: TestClient) -> None:
    acme = make_org(api, "acme")
    listed = api.get("/v1/orgs/acme/api-keys", headers=acme.admin).json()["items"]
    writer_id = next(k["id"] for k in listed if k["scopes"] == ["carrier"])
    assert api.delete(f"/v1/orgs/acme/api-keys/{writer_id}", headers=acme.admin).status_code == 200
    assert api.get("/v1/orgs/me", headers=acme.writer).status_code == 401


def test_writer_key_cannot_manage_keys(api: TestClient) -> None:
    acme = make_org(api, "acme")
    resp = api.post("/v1/orgs/acme/api-keys", json={"scopes": ["admin"]}, headers=acme.writer)
    assert resp.status_code == 403


def test_admin_key_alone_cannot_post_without_org_writer_scope_check(api: TestClient) -> None:
    # Admin keys may do everything in their own org, including posting events.
    acme = make_org(api, "acme")
    body = signed_event(domain_of(api), acme.signer)
    assert api.post("/v1/events", json=body, headers=acme.admin).status_code == 202


def test_key_list_is_paginated_with_a_cap(api: TestClient) -> None:
    acme = make_org(api, "acme")
    for _ in range(4):
        api.post("/v1/orgs/acme/api-keys", json={"scopes": ["seller"]}, headers=acme.admin)
    first = api.get("/v1/orgs/acme/api-keys?limit=2", headers=acme.admin).json()
    assert len(first["items"]) == 2
    rest = api.get(
        f"/v1/orgs/acme/api-keys?limit=10&after={first['next_cursor']}", headers=acme.admin
    ).json()
    assert len(rest["items"]) == 4
    assert rest["next_cursor"] is None
    assert api.get("/v1/orgs/acme/api-keys?limit=0", headers=acme.admin).status_code == 422


def test_rate_limited_request_gets_429(db_url: str, db_engine: Engine, tester: ChainClient) -> None:
    limited = api_settings(db_url, rate_limit_per_second=0.01, rate_limit_burst=3)
    app = create_app(limited, tester, deployment=deployment_for(tester))
    with TestClient(app) as api:
        _assert_limited(api)


def _assert_limited(api: TestClient) -> None:
    acme = make_org(api, "acme")
    codes = [api.get("/v1/orgs/me", headers=acme.writer).status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200]
    last = api.get("/v1/orgs/me", headers=acme.writer)
    assert last.status_code == 429
    assert int(last.headers["Retry-After"]) >= 1
    assert last.json()["error"] == "rate_limited"


def test_revoked_key_cannot_back_date_occurred_at_before_its_revocation(
    api: TestClient,
) -> None:
    acme = make_org(api, "acme")
    dom = domain_of(api)
    rotated = api.post(
        f"/v1/orgs/acme/signers/{acme.signer_id}/rotate",
        json={"address": "0x" + "11" * 20},
        headers=acme.admin,
    )
    assert rotated.status_code == 200, rotated.text
    old, new = rotated.json()
    assert old["revoked_at"] is not None
    assert new["revoked_at"] is None
    revoked_at = int(datetime.fromisoformat(old["revoked_at"]).timestamp())
    back_dated = signed_event(dom, acme.signer, occurred_at=revoked_at - 3600)
    refused = api.post("/v1/events", json=back_dated, headers=acme.writer)
    assert refused.status_code == 403
    assert refused.json()["detail"].startswith(
        f"key validity rule: signer {acme.signer.address} was revoked at"
    )


def test_key_registration_cannot_back_date_valid_from(api: TestClient) -> None:
    acme = make_org(api, "acme")
    key = Account.create()
    past = (datetime.now(UTC) - timedelta(days=365)).isoformat()
    resp = api.post(
        "/v1/orgs/acme/signers",
        json={"address": key.address, "valid_from": past},
        headers=acme.admin,
    )
    assert resp.status_code == 422
    assert resp.json()["detail"].startswith("key validity rule: valid_from")
    # Registered from now instead, it cannot sign "historical" events either.
    assert (
        api.post(
            "/v1/orgs/acme/signers", json={"address": key.address}, headers=acme.admin
        ).status_code
        == 201
    )


def test_key_registered_for_later_signs_nothing_before_its_start(api: TestClient) -> None:
    acme = make_org(api, "acme")
    later = Account.create()
    start = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    reg = api.post(
        "/v1/orgs/acme/signers",
        json={"address": later.address, "valid_from": start},
        headers=acme.admin,
    )
    assert reg.status_code == 201, reg.text
    refused = api.post("/v1/events", json=signed_event(domain_of(api), later), headers=acme.writer)
    assert refused.status_code == 403
    assert "is not valid before" in refused.json()["detail"]


def test_revocation_cannot_be_back_dated(api: TestClient) -> None:
    acme = make_org(api, "acme")
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    resp = api.post(
        f"/v1/orgs/acme/signers/{acme.signer_id}/revoke",
        json={"revoked_at": past},
        headers=acme.admin,
    )
    assert resp.status_code == 422
    assert resp.json()["detail"].startswith("key validity rule: revoked_at")


def test_each_event_records_the_signer_key_active_at_receipt(api: TestClient) -> None:
    acme = make_org(api, "acme")
    body = signed_event(domain_of(api), acme.signer)
    assert api.post("/v1/events", json=body, headers=acme.writer).status_code == 202
    with context(api).sessions() as session:
        row = session.scalar(select(SupplyEvent).where(SupplyEvent.event_id == body["eventId"]))
        assert row is not None
        assert row.signer_key_id == acme.signer_id


def test_signer_address_is_unique_across_orgs(api: TestClient) -> None:
    acme = make_org(api, "acme")
    beta = make_org(api, "beta")
    resp = api.post(
        "/v1/orgs/beta/signers", json={"address": acme.signer.address}, headers=beta.admin
    )
    assert resp.status_code == 409
