"""Alliance authorisation (BOLA matrix) and malformed input (4xx, never 500)."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account import Account
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from backend.alliance.models import AllianceAction, AllianceMember
from backend.chain import ChainClient
from backend.chain.alliance import StockRequest, Terms
from tests.backend.alliance.support import (
    OPERATOR,
    USD,
    Member,
    action_done,
    deployment_of,
    drive,
    make_member,
    pool_client,
    proof,
    stock_client,
)
from tests.context import context
from tests.contracts.alliance_support import DAY


def _writes(victim: Member, ids: dict[str, Any], cosign: dict[str, Any]) -> list[tuple[str, Any]]:
    pool, per, rid = ids["pool"], ids["period"], ids["request"]
    return [
        (f"/v1/alliance/pools/{pool}/members", {"address": "0x" + "44" * 20}),
        (f"/v1/alliance/pools/{pool}/periods/{per}/cosign", cosign),
        (f"/v1/alliance/pools/{pool}/periods/{per}/settle", {}),
        (f"/v1/alliance/pools/{pool}/periods/{per}/settle", {"members": [victim.address]}),
        (
            f"/v1/alliance/pools/{pool}/periods/{per}/resolve",
            {"member": victim.address, "used_units": 0},
        ),
        ("/v1/alliance/stock-members", {"address": victim.address}),
        (f"/v1/alliance/transfers/{rid}/release", None),
        (f"/v1/alliance/transfers/{rid}/refund", None),
        (f"/v1/alliance/transfers/{rid}/close-return", None),
    ]


@pytest.fixture
def world(api: TestClient, tester: ChainClient, pool: dict[str, Any]) -> dict[str, Any]:
    """Org ``a`` owns the pool, a booking and an open stock request; ``x``/``y`` are strangers."""
    dep = deployment_of(api)
    a: Member = pool["members"]["a"]
    pool_client(a.chain, dep).deposit(pool["id"], 100 * USD)
    pool_client(a.chain, dep).book(pool["id"], pool["period"], 5)
    resp = api.post("/v1/alliance/stock-members", json={"address": a.address}, headers=OPERATOR)
    action_done(api, resp, OPERATOR)
    now = tester.block()["timestamp"]
    rid, _ = stock_client(a.chain, dep).request(
        StockRequest(1, 1, "NLRTM", now + DAY, Terms.CASH, USD)
    )
    drive(api)
    usage = pool_client(tester, dep).usage_message(
        pool["id"], pool["period"], member=a.address, used_units=0, deadline=now + DAY
    )
    sig = pool_client(a.chain, dep).sign_usage(a.account.key, usage)
    cosign = {
        "member": a.address,
        "used_units": 0,
        "deadline": now + DAY,
        "signature": "0x" + sig.hex(),
    }
    strangers = [make_member(api, tester, s) for s in ("x", "y")]
    ids = {"pool": pool["id"], "period": pool["period"], "request": rid}
    return {"victim": a, "ids": ids, "cosign": cosign, "strangers": strangers}


def test_bola_every_alliance_write_with_another_orgs_key_is_refused(
    api: TestClient, world: dict[str, Any]
) -> None:
    victim: Member = world["victim"]
    writes = _writes(victim, world["ids"], world["cosign"])
    refused = 0
    for attacker in world["strangers"]:
        for headers in (attacker.admin, attacker.writer):
            for path, body in writes:
                resp = api.post(path, json=body, headers=headers)
                assert resp.status_code in (403, 404), (path, resp.text)
                assert "error" in resp.json()
                refused += 1
            # Registering the victim's address needs the victim's signature over this org.
            resp = api.post(
                "/v1/alliance/members",
                json={"address": victim.address, "signature": proof(victim.account, victim.slug)},
                headers=headers,
            )
            assert resp.status_code in (403, 409, 422), resp.text
            refused += 1
    assert refused == 2 * 2 * (len(writes) + 1)
    # Nothing was queued for the strangers and the victim's address stayed its own.
    with context(api).sessions() as session:
        # pool creation and the victim's stock membership: the only actions queued
        assert session.scalar(select(func.count()).select_from(AllianceAction)) == 2
        owner = session.scalar(
            select(AllianceMember.org_id).where(AllianceMember.address == victim.address)
        )
        assert owner is not None
        assert owner not in {
            session.scalar(select(AllianceMember.org_id).where(AllianceMember.address == s.address))
            for s in world["strangers"]
        }
    # The victim's own actions are invisible to others.
    for attacker in world["strangers"]:
        assert api.get("/v1/alliance/actions/1", headers=attacker.writer).status_code == 404


def test_member_registration_refuses_a_proof_signed_for_another_org(
    api: TestClient, tester: ChainClient
) -> None:
    x = make_member(api, tester, "x")
    other = Account.create()
    resp = api.post(
        "/v1/alliance/members",
        json={"address": other.address, "signature": proof(other, "someone-else")},
        headers=x.admin,
    )
    assert resp.status_code == 422
    resp = api.post(
        "/v1/alliance/members",
        json={"address": other.address, "signature": proof(other, "x")},
        headers=x.writer,
    )
    assert resp.status_code == 403


BIG = 2**256
MALFORMED: list[tuple[str, str, Any]] = [
    ("POST", "/v1/alliance/members", {"address": "0x12", "signature": "0x00"}),
    ("POST", "/v1/alliance/members", {"address": "0x" + "ab" * 20, "signature": "0x" + "00" * 65}),
    ("POST", "/v1/alliance/members", [1, 2, 3]),
    ("POST", "/v1/alliance/pools", {"operator": "0x" + "11" * 20, "lease_per_period": -1}),
    (
        "POST",
        "/v1/alliance/pools",
        {
            "operator": "0x" + "11" * 20,
            "lease_per_period": BIG,
            "rate_per_unit": 1,
            "dispute_window": 1,
            "report_window": 1,
        },
    ),
    (
        "POST",
        "/v1/alliance/pools",
        {
            "operator": "0x" + "11" * 20,
            "lease_per_period": 1,
            "rate_per_unit": 1,
            "dispute_window": 2**32,
            "report_window": 1,
            "extra": 1,
        },
    ),
    ("POST", "/v1/alliance/pools/1/periods/0/cosign", {"member": "nope"}),
    ("POST", f"/v1/alliance/pools/{2**63}/periods/0/settle", {}),
    ("POST", "/v1/alliance/pools/999/periods/0/settle", {"members": ["0x" + "zz" * 20]}),
    ("POST", "/v1/alliance/pools/999/periods/0/settle", {}),
    ("POST", "/v1/alliance/transfers/1/explode", None),
    ("POST", "/v1/alliance/transfers/999/release", None),
    ("GET", "/v1/alliance/transfers?status=bogus", None),
    ("GET", "/v1/alliance/net-positions?a=0x1&b=0x2&gtin=1", None),
    ("GET", f"/v1/alliance/net-positions?a=0x{'11' * 20}&b=0x{'22' * 20}&gtin={2**64}", None),
    ("GET", "/v1/alliance/pools/1/periods/0/statement/0xnothex", None),
    ("GET", "/v1/alliance/pools/-1", None),
    ("GET", "/v1/alliance/actions/0", None),
]


def test_malformed_alliance_input_is_4xx_never_500(api: TestClient, tester: ChainClient) -> None:
    x = make_member(api, tester, "x")
    for method, path, body in MALFORMED:
        resp = api.request(method, path, json=body, headers=x.admin)
        assert 400 <= resp.status_code < 500, (method, path, resp.status_code, resp.text)
        assert "error" in resp.json(), resp.text
