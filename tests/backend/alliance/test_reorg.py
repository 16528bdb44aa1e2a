"""The alliance read model follows the canonical chain through a reorg."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from backend.chain import ChainClient
from tests.backend.alliance.support import USD, deployment_of, drive, pool_client
from tests.context import workers


def _bookings(api: TestClient, pool: dict[str, Any], headers: dict[str, str]) -> dict[str, int]:
    period = api.get(
        f"/v1/alliance/pools/{pool['id']}/periods/{pool['period']}", headers=headers
    ).json()
    return {row["member"]: row["units"] for row in period["bookings"] if row["units"]}


def test_read_model_drops_orphaned_bookings_and_follows_the_new_fork(
    api: TestClient, tester: ChainClient, pool: dict[str, Any]
) -> None:
    dep = deployment_of(api)
    pid, per = pool["id"], pool["period"]
    a, b, c = (pool["members"][s] for s in ("a", "b", "c"))
    for m in (a, b, c):
        pool_client(m.chain, dep).deposit(pid, 1_000 * USD)
    pool_client(a.chain, dep).book(pid, per, 10)
    drive(api)
    snap = tester.snapshot()
    pool_client(a.chain, dep).book(pid, per, 15)
    pool_client(b.chain, dep).book(pid, per, 30)
    pool_client(b.chain, dep).cancel(pid, per, 5)
    drive(api)
    assert _bookings(api, pool, a.writer) == {a.address: 25, b.address: 25}

    # Another fork wins: the blocks after the snapshot vanish, c books instead.
    tester.revert(snap)
    for m in (a, b, c):
        m.chain.reset_nonce()
    tester.mine(2)
    pool_client(c.chain, dep).book(pid, per, 7)
    drive(api)
    assert workers(api).indexer.reorgs == 1
    chain_view = pool_client(tester, dep)
    expected = {
        m.address: chain_view.booking(pid, per, m.address).units
        for m in (a, b, c)
        if chain_view.booking(pid, per, m.address).units
    }
    assert expected == {a.address: 10, c.address: 7}
    assert _bookings(api, pool, a.writer) == expected
    period = api.get(f"/v1/alliance/pools/{pid}/periods/{per}", headers=a.writer).json()
    assert period["booked"] == chain_view.period(pid, per).booked == 17
    for row in period["bookings"]:
        assert int(row["locked"]) == chain_view.booking(pid, per, row["member"]).locked
    statement = api.get(
        f"/v1/alliance/pools/{pid}/periods/{per}/statement/{b.address}", headers=b.writer
    )
    assert statement.status_code == 404
