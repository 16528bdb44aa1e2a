"""Stateful property test: random pool histories conserve tokens and match a model.

Each example starts from a chain snapshot, opens a fresh period and runs random
deposit / book / transfer / cancel / report / co-sign / dispute / resolve /
settle / withdraw steps. After every step the contract must agree with a plain
Python model, ``token.balanceOf(pool) == Σ free + Σ locked + operator credit``
must hold, and no member may have withdrawn more than it was credited.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from backend.chain import ChainClient
from backend.chain.alliance import UsageStatus
from backend.chain.errors import ContractRevert
from tests.conftest import deployment_for
from tests.contracts.alliance_support import DAY, HOUR, USD, PoolSetup, advance_to, make_pool

LEASE = 1_000 * USD + 1  # odd on purpose: exercises the rounding rule
RATE = 3 * USD
CAPACITY = 37
WINDOW = 2 * DAY
PENALTY_BPS = 500
PHASE_STEPS = 4  # booking-phase steps before the period ends


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def lock_for(units: int) -> int:
    return _ceil_div(LEASE * units, CAPACITY) + RATE * units


@dataclass
class Model:
    """What the pool should hold, recomputed independently of the contract."""

    free: list[int] = field(default_factory=lambda: [0, 0, 0])
    locked: list[int] = field(default_factory=lambda: [0, 0, 0])
    units: list[int] = field(default_factory=lambda: [0, 0, 0])
    used: list[int] = field(default_factory=lambda: [0, 0, 0])
    status: list[UsageStatus] = field(default_factory=lambda: [UsageStatus.NONE] * 3)
    credited: list[int] = field(default_factory=lambda: [0, 0, 0])
    withdrawn: list[int] = field(default_factory=lambda: [0, 0, 0])
    operator_credit: int = 0
    settled_units: int = 0

    @property
    def booked(self) -> int:
        return sum(self.units)

    def relock(self, m: int, new_units: int) -> None:
        new = lock_for(new_units)
        delta = new - self.locked[m]
        self.free[m] -= delta
        self.locked[m] = new
        self.units[m] = new_units


def test_random_pool_histories_conserve_tokens(tester_chain: ChainClient) -> None:
    chain = tester_chain
    pool_address = deployment_for(chain).address("CapacityPool")
    base = chain.snapshot()
    setup = make_pool(
        chain,
        pool_address,
        lease=LEASE,
        rate=RATE,
        capacity=CAPACITY,
        dispute_window=WINDOW,
        report_window=WINDOW,
        penalty_bps=PENALTY_BPS,
    )

    class PoolMachine(RuleBasedStateMachine):
        s: PoolSetup
        model: Model
        phase: str
        snap: Any

        @initialize(funds=st.lists(st.integers(100 * USD, 1_500 * USD), min_size=3, max_size=3))
        def open_period(self, funds: list[int]) -> None:
            self.snap = chain.snapshot()
            self.s = setup
            now = chain.block()["timestamp"]
            start = now + DAY
            end = start + DAY
            period_id, _ = setup.as_(setup.operator).open_period(
                setup.pool_id, start=start, end=end, cutoff=start - HOUR, capacity=CAPACITY
            )
            setup.period_id, setup.start, setup.end, setup.cutoff = (
                period_id,
                start,
                end,
                start - HOUR,
            )
            self.model = Model()
            self.base_free = [
                setup.pool.free_balance(setup.pool_id, m.address) for m in setup.members
            ]
            self.base_credit = setup.pool.operator_credit(setup.pool_id)
            self.model.free = list(self.base_free)
            self.model.operator_credit = self.base_credit
            self.phase = "booking"
            self.phase_steps = 0
            for m, amount in enumerate(funds):
                self.deposit(m, amount)
            self.phase_steps = 0

        def _in(self, phase: str) -> bool:
            # Fixed-length phases, so short runs still reach usage reports and settlement.
            limit = PHASE_STEPS if phase == "booking" else 2
            return self.phase == phase and self.phase_steps < limit

        def _step(self) -> None:
            self.phase_steps += 1

        def teardown(self) -> None:
            if getattr(self, "snap", None) is not None:
                chain.revert(self.snap)
                # Each party signs through its own client with a cached nonce.
                for p in (setup.operator, *setup.members):
                    p.chain.reset_nonce()

        def _pool(self, m: int) -> Any:
            return self.s.as_(self.s.members[m])

        def _expect_revert(self, name: str, fn: Any) -> None:
            with pytest.raises(ContractRevert) as info:
                fn()
            assert info.value.error_name == name, info.value

        # -- booking phase -----------------------------------------------------

        @precondition(lambda self: self._in("booking"))
        @rule(m=st.integers(0, 2), amount=st.integers(1, 800 * USD))
        def deposit(self, m: int, amount: int) -> None:
            self._step()
            self.s.deposit(self.s.members[m], amount)
            self.model.free[m] += amount
            self.model.credited[m] += amount

        @precondition(lambda self: self.phase == "settle")
        @rule(m=st.integers(0, 2), share=st.floats(0.0, 1.0))
        def withdraw(self, m: int, share: float) -> None:
            amount = int(self.model.free[m] * share)
            if amount == 0:
                return
            self._pool(m).withdraw(self.s.pool_id, amount)
            self.model.free[m] -= amount
            self.model.withdrawn[m] += amount

        @precondition(lambda self: self._in("booking"))
        @rule(m=st.integers(0, 2), units=st.integers(1, 20))
        def book(self, m: int, units: int) -> None:
            self._step()
            call = lambda: self._pool(m).book(self.s.pool_id, self.s.period_id, units)  # noqa: E731
            need = lock_for(self.model.units[m] + units) - self.model.locked[m]
            if units > CAPACITY - self.model.booked:
                self._expect_revert("PoolCapacityExceeded", call)
            elif need > self.model.free[m]:
                self._expect_revert("PoolInsufficientFree", call)
            else:
                call()
                self.model.relock(m, self.model.units[m] + units)

        @precondition(lambda self: self._in("booking"))
        @rule(
            src=st.integers(0, 2),
            step=st.integers(1, 2),
            units=st.integers(1, 15),
            price=st.integers(0, 50 * USD),
        )
        def transfer(self, src: int, step: int, units: int, price: int) -> None:
            self._step()
            dst = (src + step) % 3
            s = self.s
            msg = s.pool.booking_transfer_message(
                s.pool_id,
                s.period_id,
                from_=s.members[src].address,
                to=s.members[dst].address,
                units=units,
                price=price,
                deadline=s.cutoff,
            )
            sig = s.pool.sign_booking_transfer(s.members[dst].key, msg)
            call = lambda: self._pool(src).transfer_booking(msg, sig)  # noqa: E731
            if units > self.model.units[src]:
                self._expect_revert("PoolBookingExceeded", call)
                return
            need = lock_for(self.model.units[dst] + units) - self.model.locked[dst] + price
            if need > self.model.free[dst]:
                self._expect_revert("PoolInsufficientFree", call)
                return
            call()
            self.model.free[dst] -= price
            self.model.free[src] += price
            self.model.credited[src] += price
            self.model.relock(src, self.model.units[src] - units)
            self.model.relock(dst, self.model.units[dst] + units)

        @precondition(lambda self: self._in("booking"))
        @rule(m=st.integers(0, 2), units=st.integers(1, 10))
        def cancel(self, m: int, units: int) -> None:
            self._step()
            call = lambda: self._pool(m).cancel(self.s.pool_id, self.s.period_id, units)  # noqa: E731
            if units > self.model.units[m]:
                self._expect_revert("PoolBookingExceeded", call)
                return
            call()
            penalty = (LEASE * units // CAPACITY) * PENALTY_BPS // 10_000
            self.model.relock(m, self.model.units[m] - units)
            self.model.free[m] -= penalty
            self.model.operator_credit += penalty

        @precondition(lambda self: self.phase == "booking" and self.phase_steps >= PHASE_STEPS)
        @rule(shares=st.lists(st.floats(0.0, 1.0), min_size=3, max_size=3), skip=st.integers(0, 3))
        def end_period(self, shares: list[float], skip: int) -> None:
            """The period ends; the operator reports every booker but (maybe) one."""
            advance_to(chain, self.s.end)
            self.phase, self.phase_steps = "usage", 0
            usage = {}
            for m, share in enumerate(shares):
                if m == skip or self.s.members[m].address not in self.bookers():
                    continue
                usage[m] = int(self.model.units[m] * share)
            if not usage:
                return
            op = self.s.as_(self.s.operator)
            op.report_usage(
                self.s.pool_id,
                self.s.period_id,
                {self.s.members[m].address: used for m, used in usage.items()},
            )
            for m, used in usage.items():
                self.model.used[m] = used
                self.model.status[m] = UsageStatus.REPORTED

        def bookers(self) -> list[str]:
            return self.s.pool.bookers(self.s.pool_id, self.s.period_id)

        @precondition(lambda self: self._in("usage"))
        @rule(m=st.integers(0, 2))
        def cosign(self, m: int) -> None:
            self._step()
            if self.model.status[m] is not UsageStatus.REPORTED:
                return
            s, member = self.s, self.s.members[m]
            msg = s.pool.usage_message(
                s.pool_id,
                s.period_id,
                member=member.address,
                used_units=self.model.used[m],
                deadline=s.end + 10 * DAY,
            )
            s.pool.cosign_usage(msg, s.pool.sign_usage(member.key, msg))
            self.model.status[m] = UsageStatus.CONFIRMED

        @precondition(lambda self: self._in("usage"))
        @rule(m=st.integers(0, 2))
        def dispute(self, m: int) -> None:
            self._step()
            if self.model.status[m] is not UsageStatus.REPORTED:
                return
            self._pool(m).dispute(self.s.pool_id, self.s.period_id, 0)
            self.model.status[m] = UsageStatus.DISPUTED

        @precondition(lambda self: self.phase != "booking")
        @rule(m=st.integers(0, 2), share=st.floats(0.0, 1.0))
        def resolve(self, m: int, share: float) -> None:
            if self.model.status[m] is not UsageStatus.DISPUTED:
                return
            used = int(self.model.units[m] * share)
            self.s.pool.resolve(self.s.pool_id, self.s.period_id, self.s.members[m].address, used)
            self.model.used[m] = used
            self.model.status[m] = UsageStatus.RESOLVED

        @precondition(lambda self: self.phase == "usage" and self.phase_steps >= 2)
        @rule()
        def close_windows(self) -> None:
            advance_to(chain, self.s.end + WINDOW + DAY)
            self.phase, self.phase_steps = "settle", 0

        @precondition(lambda self: self.phase == "settle")
        @rule(m=st.integers(0, 2))
        def settle(self, m: int) -> None:
            s, member = self.s, self.s.members[m]
            call = lambda: s.pool.settle(s.pool_id, s.period_id, [member.address])  # noqa: E731
            status = self.model.status[m]
            if status is UsageStatus.DISPUTED:
                self._expect_revert("PoolSettlementFrozen", call)
                return
            if status is UsageStatus.SETTLED:
                self._expect_revert("PoolUsageStatusInvalid", call)
                return
            call()
            before, after = self.model.settled_units, self.model.settled_units + self.model.units[m]
            lease = LEASE * after // CAPACITY - LEASE * before // CAPACITY
            used = self.model.used[m] if status is not UsageStatus.NONE else 0
            charge = lease + RATE * used
            self.model.settled_units = after
            self.model.free[m] += self.model.locked[m] - charge
            self.model.locked[m] = 0
            self.model.operator_credit += charge
            self.model.status[m] = UsageStatus.SETTLED

        # -- invariants ----------------------------------------------------------

        @invariant()
        def conserved(self) -> None:
            if not hasattr(self, "model"):
                return
            s = self.s
            totals = s.pool.totals(s.pool_id)
            assert s.token.balance_of(s.pool.address) == totals.total
            assert s.pool.operator_credit(s.pool_id) == self.model.operator_credit
            for m, member in enumerate(s.members):
                assert s.pool.free_balance(s.pool_id, member.address) == self.model.free[m]
                assert s.pool.locked_balance(s.pool_id, member.address) == self.model.locked[m]
                assert self.model.withdrawn[m] <= self.model.credited[m]
            assert s.pool.period(s.pool_id, s.period_id).booked == self.model.booked

    try:
        run_state_machine_as_test(
            PoolMachine,
            settings=settings(
                max_examples=8,
                stateful_step_count=14,
                deadline=None,
                suppress_health_check=list(HealthCheck),
            ),
        )
    finally:
        chain.revert(base)
