"""Fixtures of the alliance API tests."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from backend.chain import ChainClient
from tests.backend.alliance.support import (
    USD,
    action_done,
    deployment_of,
    make_member,
    pool_client,
)
from tests.contracts.alliance_support import DAY, HOUR

LEASE = 1_000 * USD + 7  # not divisible by the capacity: exercises the rounding rule
RATE = 2 * USD
CAPACITY = 100


@pytest.fixture
def pool(api: TestClient, tester: ChainClient) -> dict[str, Any]:
    """Factory operator + three member orgs; org ``a`` creates the pool through the API."""
    factory = make_member(api, tester, "factory")
    members = {s: make_member(api, tester, s, cash=5_000 * USD) for s in ("a", "b", "c")}
    resp = api.post(
        "/v1/alliance/pools",
        json={
            "operator": factory.address,
            "lease_per_period": LEASE,
            "rate_per_unit": RATE,
            "dispute_window": 2 * DAY,
            "report_window": 3 * DAY,
            "cancel_penalty_bps": 1_000,
            "members": [m.address for m in members.values()],
        },
        headers=members["a"].writer,
    )
    pool_id = action_done(api, resp, members["a"].writer)["pool_id"]
    pools = api.get("/v1/alliance/pools", headers=members["a"].writer).json()["items"]
    assert [p["pool_id"] for p in pools] == [pool_id]
    assert sorted(pools[0]["members"]) == sorted(m.address for m in members.values())
    dep = deployment_of(api)
    now = tester.block()["timestamp"]
    operator = pool_client(factory.chain, dep)
    period_id, _ = operator.open_period(
        pool_id, start=now + DAY, end=now + 8 * DAY, cutoff=now + 12 * HOUR, capacity=CAPACITY
    )
    return {"id": pool_id, "period": period_id, "factory": factory, "members": members}
