"""A capacity pool end to end through the API with the relayer and indexer running."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from backend.chain import ChainClient
from tests.backend.alliance.conftest import CAPACITY, LEASE, RATE
from tests.backend.alliance.support import (
    OPERATOR,
    USD,
    Member,
    action_done,
    deployment_of,
    drive,
    pool_client,
)
from tests.contracts.alliance_drivers import PoolDriver
from tests.contracts.alliance_support import DAY, HOUR


def _statement(api: TestClient, pool: dict[str, Any], m: Member) -> dict[str, Any]:
    resp = api.get(
        f"/v1/alliance/pools/{pool['id']}/periods/{pool['period']}/statement/{m.address}",
        headers=m.writer,
    )
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


def test_pool_books_transfers_reports_disputes_and_settles_matching_the_contract(
    api: TestClient, tester: ChainClient, pool: dict[str, Any]
) -> None:
    dep = deployment_of(api)
    pid, per = pool["id"], pool["period"]
    a, b, c = (pool["members"][s] for s in ("a", "b", "c"))
    factory: Member = pool["factory"]
    for m, units in ((a, 40), (b, 30), (c, 20)):
        client = pool_client(m.chain, dep)
        client.deposit(pid, 2_000 * USD)
        client.book(pid, per, units)

    # Before the member day: a hands 10 units to b, who consents and pays 5 USD.
    now = tester.block()["timestamp"]
    msg = pool_client(a.chain, dep).booking_transfer_message(
        pid, per, from_=a.address, to=b.address, units=10, price=5 * USD, deadline=now + HOUR
    )
    consent = pool_client(b.chain, dep).sign_booking_transfer(b.account.key, msg)
    pool_client(a.chain, dep).transfer_booking(msg, consent)
    drive(api)
    period = api.get(f"/v1/alliance/pools/{pid}/periods/{per}", headers=a.writer).json()
    units = {row["member"]: row["units"] for row in period["bookings"]}
    assert units == {a.address: 30, b.address: 40, c.address: 20}
    assert period["booked"] == 90
    chain_view = pool_client(tester, dep)
    for row in period["bookings"]:
        assert int(row["locked"]) == chain_view.booking(pid, per, row["member"]).locked

    # After the period: the factory reports, a co-signs (gasless), b disputes, c stays silent.
    tester.advance_time(9 * DAY)
    pool_client(factory.chain, dep).report_usage(
        pid, per, {a.address: 25, b.address: 40, c.address: 20}
    )
    now = tester.block()["timestamp"]
    usage = chain_view.usage_message(pid, per, member=a.address, used_units=25, deadline=now + DAY)
    sig = pool_client(a.chain, dep).sign_usage(a.account.key, usage)
    resp = api.post(
        f"/v1/alliance/pools/{pid}/periods/{per}/cosign",
        json={
            "member": a.address,
            "used_units": 25,
            "deadline": now + DAY,
            "signature": "0x" + sig.hex(),
        },
        headers=a.writer,
    )
    action_done(api, resp, a.writer)
    pool_client(b.chain, dep).dispute(pid, per, 33, b"\x11" * 32)
    drive(api)
    statuses = {
        row["member"]: row["status"]
        for row in api.get(f"/v1/alliance/pools/{pid}/periods/{per}", headers=a.writer).json()[
            "bookings"
        ]
    }
    assert statuses == {a.address: "confirmed", b.address: "disputed", c.address: "reported"}

    # Settling a frozen member is refused with the decoded contract error.
    resp = api.post(
        f"/v1/alliance/pools/{pid}/periods/{per}/settle",
        json={"members": [b.address]},
        headers=b.writer,
    )
    assert resp.status_code == 409
    assert resp.json()["error"] == "PoolSettlementFrozen"
    assert resp.json()["arguments"]["member"].lower() == b.address.lower()

    resp = api.post(
        f"/v1/alliance/pools/{pid}/periods/{per}/resolve",
        json={"member": b.address, "used_units": 36},
        headers=OPERATOR,
    )
    action_done(api, resp, OPERATOR)
    tester.advance_time(3 * DAY)
    drive(api)
    assert _statement(api, pool, c)["status"] == "standing"

    resp = api.post(f"/v1/alliance/pools/{pid}/periods/{per}/settle", json={}, headers=c.writer)
    action = action_done(api, resp, c.writer)
    settled = {
        ev.args["member"]: ev.args
        for ev in tester.get_logs(
            [chain_view.address], action["block_number"], action["block_number"]
        )
        if ev.name == "MemberSettled"
    }
    assert set(settled) == {a.address, b.address, c.address}
    total_lease = 0
    for m, used, booked in ((a, 25, 30), (b, 36, 40), (c, 20, 20)):
        st = _statement(api, pool, m)
        ev = settled[m.address]
        assert st["settled"] is True
        assert st["status"] == "settled"
        assert (st["booked_units"], st["used_units"]) == (booked, used)
        assert int(st["lease_share"]) == ev["leaseCharge"]
        assert int(st["variable_charge"]) == ev["usageCharge"] == RATE * used
        assert int(st["released_lock"]) == ev["released"]
        assert int(st["total"]) == ev["leaseCharge"] + ev["usageCharge"]
        assert st["settlement_tx"] == action["tx_hash"]
        total_lease += int(st["lease_share"])
    # Cumulative floor: the period's lease charges telescope to floor(L * B / C).
    assert total_lease == LEASE * 90 // CAPACITY
    assert chain_view.operator_credit(pid) == total_lease + RATE * (25 + 36 + 20)
    assert int(_statement(api, pool, b)["transfers_paid"]) == 5 * USD
    assert int(_statement(api, pool, a)["transfers_received"]) == 5 * USD


def test_cosign_refuses_a_signature_of_another_key_before_spending_gas(
    api: TestClient, tester: ChainClient, pool: dict[str, Any]
) -> None:
    a, b = pool["members"]["a"], pool["members"]["b"]
    dep = deployment_of(api)
    client: PoolDriver = pool_client(tester, dep)
    now = tester.block()["timestamp"]
    usage = client.usage_message(
        pool["id"], pool["period"], member=a.address, used_units=1, deadline=now + DAY
    )
    wrong = client.sign_usage(b.account.key, usage)
    resp = api.post(
        f"/v1/alliance/pools/{pool['id']}/periods/{pool['period']}/cosign",
        json={
            "member": a.address,
            "used_units": 1,
            "deadline": now + DAY,
            "signature": "0x" + wrong.hex(),
        },
        headers=a.writer,
    )
    assert resp.status_code == 422
    assert b.address in resp.json()["detail"]
