"""CapacityPool: deposits, bookings, consent transfers, usage, disputes and settlement."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from backend.chain import ChainClient
from backend.chain.alliance import PoolConfig, UsageStatus
from backend.chain.deployments import Deployment
from backend.chain.typed_data.alliance import TYPEHASH_CONSTANTS
from tests.conftest import deployment_for
from tests.contracts.alliance_drivers import PoolDriver
from tests.contracts.alliance_support import (
    DAY,
    USD,
    PoolSetup,
    advance_to,
    make_pool,
    party,
)
from tests.helpers import reverts


@pytest.fixture
def setup(tester: ChainClient) -> PoolSetup:
    return make_pool(tester, deployment_for(tester).address("CapacityPool"))


def _sign_transfer(
    s: PoolSetup, src: int, dst: int, units: int, price: int = 0, **kw: Any
) -> tuple[dict[str, Any], bytes]:
    deadline = kw.pop("deadline", s.cutoff)
    signer = kw.pop("signer_key", None) or s.members[dst].key
    msg = s.pool.booking_transfer_message(
        s.pool_id,
        s.period_id,
        from_=s.members[src].address,
        to=s.members[dst].address,
        units=units,
        price=price,
        deadline=deadline,
        **kw,
    )
    return msg, s.pool.sign_booking_transfer(signer, msg)


def _finish_period(s: PoolSetup, usage: dict[int, int]) -> None:
    advance_to(s.chain, s.end)
    s.as_(s.operator).report_usage(
        s.pool_id, s.period_id, {s.members[i].address: u for i, u in usage.items()}
    )


@pytest.mark.parametrize("constant", sorted(TYPEHASH_CONSTANTS))
def test_python_type_strings_hash_to_contract_typehashes(
    tester: ChainClient, constant: str
) -> None:
    pool = PoolDriver(tester, deployment_for(tester).address("CapacityPool"))
    assert pool.role(constant) == TYPEHASH_CONSTANTS[constant].typehash


def test_deposit_and_withdraw_keep_balances_conserved(setup: PoolSetup) -> None:
    a = setup.members[0]
    setup.deposit(a, 500 * USD)
    assert setup.pool.free_balance(setup.pool_id, a.address) == 500 * USD
    assert setup.conserved()
    setup.as_(a).withdraw(setup.pool_id, 200 * USD)
    assert setup.pool.free_balance(setup.pool_id, a.address) == 300 * USD
    assert setup.token.balance_of(a.address) == 9_700 * USD
    assert setup.conserved()
    with reverts(
        "PoolInsufficientFree",
        poolId=setup.pool_id,
        account=a.address,
        requested=301 * USD,
        available=300 * USD,
    ):
        setup.as_(a).withdraw(setup.pool_id, 301 * USD)


def test_deposit_reverts_when_sender_is_not_a_member(setup: PoolSetup) -> None:
    outsider = party(setup.chain)
    with reverts("PoolNotMember", poolId=setup.pool_id, account=outsider.address):
        setup.pool.using(outsider.chain).deposit(setup.pool_id, 1, approve=False)


def test_book_locks_the_maximum_charge(setup: PoolSetup) -> None:
    a = setup.members[0]
    setup.deposit(a, 1_000 * USD)
    setup.as_(a).book(setup.pool_id, setup.period_id, 30)
    # ceil(1000 USD * 30 / 100) + 2 USD * 30
    expected = 300 * USD + 60 * USD
    assert setup.pool.lock_for(setup.pool_id, setup.period_id, 30) == expected
    booking = setup.pool.booking(setup.pool_id, setup.period_id, a.address)
    assert (booking.units, booking.locked) == (30, expected)
    assert setup.pool.locked_balance(setup.pool_id, a.address) == expected
    assert setup.pool.free_balance(setup.pool_id, a.address) == 1_000 * USD - expected
    assert setup.pool.period(setup.pool_id, setup.period_id).booked == 30
    assert setup.conserved()


def test_book_reverts_when_capacity_or_funds_are_short(setup: PoolSetup) -> None:
    a, b = setup.members[:2]
    setup.deposit(a, 5_000 * USD)
    setup.deposit(b, 100 * USD)
    setup.as_(a).book(setup.pool_id, setup.period_id, 90)
    with reverts("PoolCapacityExceeded", poolId=setup.pool_id, requested=11, available=10):
        setup.as_(b).book(setup.pool_id, setup.period_id, 11)
    need = setup.pool.lock_for(setup.pool_id, setup.period_id, 10)
    with reverts(
        "PoolInsufficientFree",
        poolId=setup.pool_id,
        account=b.address,
        requested=need,
        available=100 * USD,
    ):
        setup.as_(b).book(setup.pool_id, setup.period_id, 10)


def test_book_reverts_after_cutoff(setup: PoolSetup) -> None:
    a = setup.members[0]
    setup.deposit(a, 1_000 * USD)
    advance_to(setup.chain, setup.cutoff)
    with reverts("PoolCutoffPassed", poolId=setup.pool_id, cutoff=setup.cutoff):
        setup.as_(a).book(setup.pool_id, setup.period_id, 1)


def test_transfer_booking_moves_units_and_locks_with_receiver_consent(setup: PoolSetup) -> None:
    a, b = setup.members[:2]
    setup.deposit(a, 1_000 * USD)
    setup.deposit(b, 1_000 * USD)
    setup.as_(a).book(setup.pool_id, setup.period_id, 40)
    msg, sig = _sign_transfer(setup, 0, 1, 15, price=7 * USD)
    result = setup.as_(a).transfer_booking(msg, sig)
    assert result.event("BookingTransferred").args["units"] == 15
    lock25 = setup.pool.lock_for(setup.pool_id, setup.period_id, 25)
    lock15 = setup.pool.lock_for(setup.pool_id, setup.period_id, 15)
    assert setup.pool.booking(setup.pool_id, setup.period_id, a.address).locked == lock25
    assert setup.pool.booking(setup.pool_id, setup.period_id, b.address).units == 15
    assert setup.pool.free_balance(setup.pool_id, a.address) == 1_007 * USD - lock25
    assert setup.pool.free_balance(setup.pool_id, b.address) == 993 * USD - lock15
    assert setup.pool.nonce(b.address) == 1
    assert setup.conserved()
    # The same consent cannot be replayed: its nonce is spent.
    with reverts("PoolSignatureInvalid", signer=b.address):
        setup.as_(a).transfer_booking(msg, sig)


def test_transfer_booking_reverts_without_valid_consent(setup: PoolSetup) -> None:
    a, b, c = setup.members
    setup.deposit(a, 1_000 * USD)
    setup.as_(a).book(setup.pool_id, setup.period_id, 10)
    msg, sig = _sign_transfer(setup, 0, 1, 5, signer_key=c.key)
    with reverts("PoolSignatureInvalid", signer=b.address):
        setup.as_(a).transfer_booking(msg, sig)
    now = setup.chain.block()["timestamp"]
    msg, sig = _sign_transfer(setup, 0, 1, 5, deadline=now)
    with reverts("PoolSignatureExpired", deadline=now):
        setup.as_(a).transfer_booking(msg, sig)
    msg, sig = _sign_transfer(setup, 0, 1, 11)
    with reverts("PoolBookingExceeded", member=a.address, requested=11, booked=10):
        setup.as_(a).transfer_booking(msg, sig)


def test_cancel_booking_forfeits_penalty_to_operator(setup: PoolSetup) -> None:
    a = setup.members[0]
    setup.deposit(a, 1_000 * USD)
    setup.as_(a).book(setup.pool_id, setup.period_id, 20)
    result = setup.as_(a).cancel(setup.pool_id, setup.period_id, 5)
    # floor(1000 USD * 5 / 100) * 10% = 5 USD
    assert result.event("BookingCancelled").args["penalty"] == 5 * USD
    assert setup.pool.operator_credit(setup.pool_id) == 5 * USD
    lock15 = setup.pool.lock_for(setup.pool_id, setup.period_id, 15)
    assert setup.pool.free_balance(setup.pool_id, a.address) == 995 * USD - lock15
    assert setup.pool.period(setup.pool_id, setup.period_id).booked == 15
    assert setup.conserved()
    advance_to(setup.chain, setup.cutoff)
    with reverts("PoolCutoffPassed", poolId=setup.pool_id, periodId=setup.period_id):
        setup.as_(a).cancel(setup.pool_id, setup.period_id, 1)


def test_full_period_cosigned_usage_settles_and_pays_operator(setup: PoolSetup) -> None:
    a, b, c = setup.members
    for m in setup.members:
        setup.deposit(m, 2_000 * USD)
    setup.as_(a).book(setup.pool_id, setup.period_id, 50)
    setup.as_(b).book(setup.pool_id, setup.period_id, 30)
    setup.as_(c).book(setup.pool_id, setup.period_id, 20)
    _finish_period(setup, {0: 45, 1: 30, 2: 0})
    # b co-signs off-line; the relayer submits it.
    msg = setup.pool.usage_message(
        setup.pool_id, setup.period_id, member=b.address, used_units=30, deadline=setup.end + DAY
    )
    setup.pool.cosign_usage(msg, setup.pool.sign_usage(b.key, msg))
    assert (
        setup.pool.booking(setup.pool_id, setup.period_id, b.address).status
        is UsageStatus.CONFIRMED
    )
    # A co-signed member settles at once; the others wait for the dispute window.
    setup.pool.settle(setup.pool_id, setup.period_id, [b.address])
    with reverts("PoolSettlementTooEarly", member=a.address):
        setup.pool.settle(setup.pool_id, setup.period_id, [a.address])
    advance_to(setup.chain, setup.end + 2 * DAY + 1)
    result = setup.pool.settle(setup.pool_id, setup.period_id)
    settled = {e.args["member"]: e.args for e in result.events if e.name == "MemberSettled"}
    assert set(settled) == {a.address, c.address}
    assert settled[a.address]["usageCharge"] == 90 * USD
    # Fully booked period: lease 1000 split 500/300/200, usage 2 USD/unit.
    assert setup.pool.operator_credit(setup.pool_id) == 1_000 * USD + 150 * USD
    assert setup.pool.free_balance(setup.pool_id, a.address) == 2_000 * USD - 590 * USD
    assert setup.pool.free_balance(setup.pool_id, b.address) == 2_000 * USD - 360 * USD
    assert setup.pool.free_balance(setup.pool_id, c.address) == 2_000 * USD - 200 * USD
    assert setup.pool.totals(setup.pool_id).locked == 0
    assert setup.conserved()
    setup.as_(setup.operator).withdraw_operator_credit(setup.pool_id, 1_150 * USD)
    assert setup.token.balance_of(setup.operator.address) == 1_150 * USD
    assert setup.conserved()
    with reverts("PoolUsageStatusInvalid", member=a.address, status=int(UsageStatus.SETTLED)):
        setup.pool.settle(setup.pool_id, setup.period_id, [a.address])


def test_lease_rounding_neither_creates_nor_destroys_tokens(tester: ChainClient) -> None:
    s = make_pool(
        tester,
        deployment_for(tester).address("CapacityPool"),
        lease=1_000_000_007,
        rate=3,
        capacity=7,
    )
    for m in s.members:
        s.deposit(m, 2_000 * USD)
    for i, units in enumerate((3, 2, 2)):
        s.as_(s.members[i]).book(s.pool_id, s.period_id, units)
    advance_to(s.chain, s.end + 3 * DAY)
    total_before = s.pool.totals(s.pool_id).total
    result = s.pool.settle(
        s.pool_id, s.period_id, [s.members[2].address, s.members[0].address, s.members[1].address]
    )
    lease = [e.args["leaseCharge"] for e in result.events if e.name == "MemberSettled"]
    assert sum(lease) == 1_000_000_007  # the full lease of a fully booked period, exactly
    # Each member pays its exact share rounded down or up: 2/7 and 3/7 of the lease.
    assert lease[0] in (1_000_000_007 * 2 // 7, 1_000_000_007 * 2 // 7 + 1)
    assert lease[1] in (1_000_000_007 * 3 // 7, 1_000_000_007 * 3 // 7 + 1)
    assert s.pool.operator_credit(s.pool_id) == 1_000_000_007
    assert s.pool.totals(s.pool_id).total == total_before
    assert s.conserved()


def test_dispute_freezes_only_the_disputed_member_until_arbiter_resolves(
    setup: PoolSetup,
) -> None:
    a, b = setup.members[:2]
    setup.deposit(a, 2_000 * USD)
    setup.deposit(b, 2_000 * USD)
    setup.as_(a).book(setup.pool_id, setup.period_id, 10)
    setup.as_(b).book(setup.pool_id, setup.period_id, 5)
    _finish_period(setup, {0: 10, 1: 5})
    setup.as_(a).dispute(setup.pool_id, setup.period_id, 4, b"\x01" * 32)
    advance_to(setup.chain, setup.end + 5 * DAY)
    # The period settles everyone but the disputed member.
    swept = setup.pool.settle(setup.pool_id, setup.period_id)
    assert [e.args["member"] for e in swept.events if e.name == "MemberSettled"] == [b.address]
    assert (
        setup.pool.booking(setup.pool_id, setup.period_id, a.address).status == UsageStatus.DISPUTED
    )
    with reverts("PoolSettlementFrozen", poolId=setup.pool_id, member=a.address):
        setup.pool.settle(setup.pool_id, setup.period_id, [a.address])
    role = setup.pool.role("ARBITER_ROLE")
    with reverts("AccessControlUnauthorizedAccount", account=b.address, neededRole=role):
        setup.as_(b).resolve(setup.pool_id, setup.period_id, a.address, 4)
    with reverts("PoolUsageExceedsBooking", member=a.address, usedUnits=11, booked=10):
        setup.pool.resolve(setup.pool_id, setup.period_id, a.address, 11)
    setup.pool.resolve(setup.pool_id, setup.period_id, a.address, 4)
    result = setup.pool.settle(setup.pool_id, setup.period_id)
    (settled,) = [e for e in result.events if e.name == "MemberSettled"]
    assert settled.args["member"] == a.address
    assert settled.args["usageCharge"] == 8 * USD
    assert setup.conserved()


def test_dispute_reverts_after_window_and_cosign_reverts_on_mismatch(setup: PoolSetup) -> None:
    a = setup.members[0]
    setup.deposit(a, 2_000 * USD)
    setup.as_(a).book(setup.pool_id, setup.period_id, 10)
    _finish_period(setup, {0: 9})
    reported_at = setup.pool.booking(setup.pool_id, setup.period_id, a.address).reported_at
    msg = setup.pool.usage_message(
        setup.pool_id, setup.period_id, member=a.address, used_units=8, deadline=setup.end + DAY
    )
    with reverts("PoolUsageMismatch", member=a.address, reported=9, signed=8):
        setup.pool.cosign_usage(msg, setup.pool.sign_usage(a.key, msg))
    advance_to(setup.chain, reported_at + 2 * DAY)
    with reverts("PoolDisputeWindowClosed", member=a.address, closedAt=reported_at + 2 * DAY):
        setup.as_(a).dispute(setup.pool_id, setup.period_id, 1)


def test_report_usage_reverts_before_end_and_above_booking(setup: PoolSetup) -> None:
    a = setup.members[0]
    setup.deposit(a, 2_000 * USD)
    setup.as_(a).book(setup.pool_id, setup.period_id, 10)
    op = setup.as_(setup.operator)
    with reverts("PoolPeriodNotEnded", end=setup.end):
        op.report_usage(setup.pool_id, setup.period_id, {a.address: 1})
    advance_to(setup.chain, setup.end)
    with reverts("PoolUsageExceedsBooking", member=a.address, usedUnits=11, booked=10):
        op.report_usage(setup.pool_id, setup.period_id, {a.address: 11})
    with reverts("PoolNotOperator", account=a.address):
        setup.as_(a).report_usage(setup.pool_id, setup.period_id, {a.address: 1})


def test_unreported_member_settles_as_unused_after_report_window(setup: PoolSetup) -> None:
    a = setup.members[0]
    setup.deposit(a, 2_000 * USD)
    setup.as_(a).book(setup.pool_id, setup.period_id, 10)
    advance_to(setup.chain, setup.end)
    with reverts("PoolSettlementTooEarly", member=a.address, readyAt=setup.end + 3 * DAY):
        setup.pool.settle(setup.pool_id, setup.period_id)
    advance_to(setup.chain, setup.end + 3 * DAY)
    result = setup.pool.settle(setup.pool_id, setup.period_id)
    args = result.event("MemberSettled").args
    assert (args["leaseCharge"], args["usageCharge"]) == (100 * USD, 0)
    assert setup.conserved()


def test_open_period_reverts_for_non_operator_and_bad_times(setup: PoolSetup) -> None:
    now = setup.chain.block()["timestamp"]
    with reverts("PoolNotOperator", poolId=setup.pool_id, account=setup.chain.address):
        setup.pool.open_period(
            setup.pool_id, start=now + 10, end=now + 20, cutoff=now + 5, capacity=1
        )
    with reverts("PoolPeriodInvalid", start=now + 10, end=now + 20, cutoff=now + 11, capacity=1):
        setup.as_(setup.operator).open_period(
            setup.pool_id, start=now + 10, end=now + 20, cutoff=now + 11, capacity=1
        )
    with reverts("PoolPeriodUnknown", poolId=setup.pool_id, periodId=99):
        setup.pool.period(setup.pool_id, 99)
    with reverts("PoolUnknown", poolId=999):
        setup.pool.pool(999)


def test_full_flow_on_each_chain_backend(chain: ChainClient, deployment: Deployment) -> None:
    s = make_pool(chain, deployment.address("CapacityPool"), members=2)
    a, b = s.members
    s.deposit(a, 1_000 * USD)
    s.deposit(b, 1_000 * USD)
    s.as_(a).book(s.pool_id, s.period_id, 60)
    msg, sig = _sign_transfer(s, 0, 1, 20)
    s.as_(a).transfer_booking(msg, sig)
    _finish_period(s, {0: 40, 1: 20})
    for i, used in ((0, 40), (1, 20)):
        m = s.members[i]
        umsg = s.pool.usage_message(
            s.pool_id, s.period_id, member=m.address, used_units=used, deadline=s.end + DAY
        )
        s.pool.cosign_usage(umsg, s.pool.sign_usage(m.key, umsg))
    s.pool.settle(s.pool_id, s.period_id)
    assert s.pool.operator_credit(s.pool_id) == 600 * USD + 120 * USD
    assert s.conserved()
    s.as_(a).withdraw(s.pool_id, s.pool.free_balance(s.pool_id, a.address))
    assert s.token.balance_of(a.address) == 10_000 * USD - 400 * USD - 80 * USD
    assert s.conserved()


def test_membership_and_amount_guards_revert_with_arguments(setup: PoolSetup) -> None:
    a, b, _c = setup.members
    setup.deposit(a, 1_000 * USD)
    setup.as_(a).book(setup.pool_id, setup.period_id, 10)
    with reverts("PoolAmountZero"):
        setup.as_(a).withdraw(setup.pool_id, 0)
    with reverts("PoolAmountZero"):
        setup.as_(a).book(setup.pool_id, setup.period_id, 0)
    msg, sig = _sign_transfer(setup, 0, 0, 1)
    with reverts("PoolSelfTransfer", member=a.address):
        setup.as_(a).transfer_booking(msg, sig)
    with reverts("PoolNotAdmin", poolId=setup.pool_id, account=a.address):
        setup.as_(a).remove_member(setup.pool_id, b.address)
    setup.pool.remove_member(setup.pool_id, b.address)
    assert not setup.pool.is_member(setup.pool_id, b.address)
    msg, sig = _sign_transfer(setup, 0, 1, 1)
    with reverts("PoolNotMember", poolId=setup.pool_id, account=b.address):
        setup.as_(a).transfer_booking(msg, sig)
    # A removed member can no longer deposit, but keeps what it holds.
    setup.pool.remove_member(setup.pool_id, a.address)
    with reverts("PoolNotMember", account=a.address):
        setup.as_(a).deposit(setup.pool_id, 1, approve=False)
    setup.as_(a).withdraw(setup.pool_id, setup.pool.free_balance(setup.pool_id, a.address))
    assert setup.conserved()


def test_operator_guards_revert_with_arguments(setup: PoolSetup) -> None:
    op = setup.as_(setup.operator)
    with reverts("PoolInsufficientCredit", poolId=setup.pool_id, requested=1, available=0):
        op.withdraw_operator_credit(setup.pool_id, 1)
    advance_to(setup.chain, setup.end)
    with reverts("PoolUsageLengthMismatch", members=1, units=2):
        op.chain.transact(
            op.contract,
            "reportUsage",
            setup.pool_id,
            setup.period_id,
            [setup.operator.address],
            [1, 2],
        )


@pytest.mark.parametrize(
    ("overrides", "error", "args"),
    [
        ({"token": "0x" + "00" * 20}, "PoolTokenZero", {}),
        ({"operator": "0x" + "00" * 20}, "PoolOperatorZero", {}),
        ({"cancel_penalty_bps": 10_001}, "PoolPenaltyInvalid", {"cancelPenaltyBps": 10_001}),
        ({"dispute_window": 0}, "PoolDisputeWindowZero", {}),
    ],
    ids=["token", "operator", "penalty", "dispute-window"],
)
def test_create_pool_names_the_broken_rule(
    chain: ChainClient, overrides: dict[str, Any], error: str, args: dict[str, Any]
) -> None:
    pool = PoolDriver(chain, deployment_for(chain).address("CapacityPool"))
    before = chain.call(pool.contract, "poolCount")
    config = PoolConfig(
        token="0x" + "11" * 20,
        operator="0x" + "22" * 20,
        lease_per_period=1,
        rate_per_unit=1,
        dispute_window=DAY,
        report_window=DAY,
        cancel_penalty_bps=500,
    )
    with reverts(error, **args):
        pool.create_pool(dataclasses.replace(config, **overrides), [])
    assert chain.call(pool.contract, "poolCount") == before
