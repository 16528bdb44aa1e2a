"""Stateful property test: random agreement histories conserve tokens and match a model.

Each example starts from a chain snapshot and runs random propose / bond / cancel
/ accept / deliver (accepted, damaged, refused; weighed or not) / lose / advance
time / settle / resolve / withdraw steps over a few agreements. After every step
the contract must agree with a plain Python model of the clauses, and
``token.balanceOf(agreements) == Σ (price + bond) of open agreements + Σ withdrawable``
must hold.
"""

from __future__ import annotations

from dataclasses import dataclass
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
from backend.chain.agreements import AgreementStatus, Outcome, Payout, settled_payout
from backend.chain.errors import ContractRevert
from backend.chain.typed_data.shipments import DeliveryCondition
from tests.contracts.agreement_world import AgreementWorld, agreement_world
from tests.contracts.alliance_support import DAY, HOUR, USD, advance_to

ZERO = "0x" + "00" * 20
WINDOW = 2 * DAY
DECLARED = 120_000  # grams, the driver's default declared weight
TOLERANCE_BPS = 500
MARGIN = 120  # seconds: steps this close to a time boundary are skipped, not guessed


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


@dataclass
class Model:
    """One agreement as the clauses say it stands."""

    price: int
    bond_amount: int
    per_day: int
    cap: int
    from_price: bool
    promised_by: int
    final: int
    status: AgreementStatus = AgreementStatus.PROPOSED
    bond_posted: int = 0
    sid: bytes = b""
    condition: DeliveryCondition = DeliveryCondition.NONE
    condition_at: int = 0
    weight_out: bool = False
    lost: bool = False
    dispute_ends: int = 0

    @property
    def held(self) -> int:
        open_ = (AgreementStatus.PROPOSED, AgreementStatus.ACTIVE, AgreementStatus.DISPUTED)
        return self.price + self.bond_posted if self.status in open_ else 0

    def clause(self) -> Payout:
        """The delivery clause: compensation per started day late, bond first."""
        late = max(0, self.condition_at - self.promised_by)
        days = _ceil_div(late, DAY)
        comp = min(days * self.per_day, self.cap)
        from_bond = min(comp, self.bond_posted)
        from_price = min(comp - from_bond, self.price) if self.from_price else 0
        outcome = Outcome.ON_TIME if days == 0 else Outcome.LATE
        return Payout(
            outcome,
            from_bond + from_price,
            self.price - from_price,
            self.bond_posted - from_bond,
            days,
        )

    def failed(self) -> Payout:
        paid = min(self.bond_posted, self.cap)
        return Payout(Outcome.FAILED, self.price + paid, 0, self.bond_posted - paid, 0)

    def boundaries(self) -> list[int]:
        return [self.final, self.dispute_ends] if self.dispute_ends else [self.final]


def test_random_agreement_histories_conserve_tokens(tester: ChainClient) -> None:
    # ``tester`` deploys the session's contracts before its snapshot: a snapshot taken
    # first would roll the deployment back with this test's history.
    chain = tester
    w: AgreementWorld = agreement_world(chain)

    class AgreementMachine(RuleBasedStateMachine):
        @initialize()
        def fresh(self) -> None:
            self.snap = chain.snapshot()
            self.w = w
            self.models: dict[int, Model] = {}
            self.credit = {w.buyer.address: 0, w.seller.address: 0, w.carrier.address: 0}

        def teardown(self) -> None:
            if getattr(self, "snap", None) is not None:
                chain.revert(self.snap)
                # Each party sends through its own client with a cached nonce.
                for p in (w.buyer, w.seller, w.carrier, w.arbiter):
                    p.chain.reset_nonce()

        # -- helpers -------------------------------------------------------------

        def _now(self) -> int:
            return int(chain.block()["timestamp"])

        def _near_boundary(self, m: Model) -> bool:
            now = self._now()
            return any(b - MARGIN <= now <= b + MARGIN for b in m.boundaries())

        def _in(self, *statuses: AgreementStatus) -> list[int]:
            return sorted(i for i, m in self.models.items() if m.status in statuses)

        def _pick(self, ids: list[int], k: int) -> int:
            return ids[k % len(ids)]

        def _expect_revert(self, name: str, call: Any) -> None:
            with pytest.raises(ContractRevert) as info:
                call()
            assert info.value.error_name == name, f"expected {name}, got {info.value}"

        def _pay(self, m: Model, p: Payout, outcome_status: AgreementStatus) -> None:
            self.credit[w.buyer.address] += p.to_buyer
            self.credit[w.seller.address] += p.to_seller
            self.credit[w.carrier.address] += p.to_bonder
            m.status = outcome_status

        # -- rules ---------------------------------------------------------------

        @precondition(lambda self: len(self.models) < 4)
        @rule(
            price=st.integers(1, 2_000),
            per_day=st.integers(0, 90),
            cap_days=st.integers(1, 8),
            from_price=st.booleans(),
            bond=st.sampled_from([0, 40, 150, 400]),
        )
        def propose(
            self, price: int, per_day: int, cap_days: int, from_price: bool, bond: int
        ) -> None:
            cap = per_day * cap_days
            terms = w.terms(
                price=price * USD,
                compensation_per_day=per_day * USD,
                compensation_cap=cap * USD,
                compensation_from_price=from_price,
                bonder=w.carrier.address if bond else ZERO,
                bond_amount=bond * USD,
                weight_tolerance_bps=TOLERANCE_BPS,
                dispute_window=WINDOW,
            )
            aid = w.propose(terms)
            self.models[aid] = Model(
                price=terms.price,
                bond_amount=terms.bond_amount,
                per_day=terms.compensation_per_day,
                cap=terms.compensation_cap,
                from_price=from_price,
                promised_by=terms.promised_by,
                final=terms.final_deadline,
            )

        @precondition(lambda self: self._in(AgreementStatus.PROPOSED))
        @rule(k=st.integers(0, 3), half=st.booleans())
        def post_bond(self, k: int, half: bool) -> None:
            aid = self._pick(self._in(AgreementStatus.PROPOSED), k)
            m = self.models[aid]
            missing = m.bond_amount - m.bond_posted
            if missing == 0:
                return
            amount = max(1, missing // 2) if half else missing
            w.as_(w.carrier).post_bond(aid, amount)
            m.bond_posted += amount

        @precondition(lambda self: self._in(AgreementStatus.PROPOSED))
        @rule(k=st.integers(0, 3))
        def cancel(self, k: int) -> None:
            aid = self._pick(self._in(AgreementStatus.PROPOSED), k)
            m = self.models[aid]
            w.as_(w.buyer).cancel(aid)
            self._pay(
                m, Payout(Outcome.NONE, m.price, 0, m.bond_posted, 0), AgreementStatus.CANCELLED
            )

        @precondition(lambda self: self._in(AgreementStatus.PROPOSED))
        @rule(k=st.integers(0, 3))
        def accept(self, k: int) -> None:
            aid = self._pick(self._in(AgreementStatus.PROPOSED), k)
            m = self.models[aid]
            sid = w.driver.create()
            if m.bond_posted < m.bond_amount:
                self._expect_revert(
                    "AgreementBondUnfunded", lambda: w.as_(w.seller).accept(aid, sid)
                )
                return
            w.accept_with_sig(aid, w.agreements.agreement(aid).terms, sid)
            w.to_door(sid)
            m.sid, m.status = sid, AgreementStatus.ACTIVE

        def _undelivered(self) -> list[int]:
            return [
                i
                for i in self._in(AgreementStatus.ACTIVE)
                if self.models[i].condition is DeliveryCondition.NONE and not self.models[i].lost
            ]

        @precondition(lambda self: self._undelivered())
        @rule(
            k=st.integers(0, 3),
            condition=st.sampled_from(list(DeliveryCondition)[1:]),
            weighed=st.sampled_from([0, DECLARED, 100_000]),
        )
        def deliver(self, k: int, condition: DeliveryCondition, weighed: int) -> None:
            aid = self._pick(self._undelivered(), k)
            m = self.models[aid]
            w.deliver(m.sid, condition, measured_weight_grams=weighed)
            facts = w.registry.delivery_facts(m.sid)
            m.condition, m.condition_at = condition, facts.condition_at
            m.weight_out = (
                weighed != 0 and abs(weighed - DECLARED) * 10_000 > DECLARED * TOLERANCE_BPS
            )

        @precondition(lambda self: self._undelivered())
        @rule(k=st.integers(0, 3))
        def lose(self, k: int) -> None:
            aid = self._pick(self._undelivered(), k)
            w.lose(self.models[aid].sid)
            self.models[aid].lost = True

        @rule(days=st.integers(0, 6), hours=st.integers(1, 23))
        def advance(self, days: int, hours: int) -> None:
            advance_to(chain, self._now() + days * DAY + hours * HOUR)

        @precondition(lambda self: self._in(AgreementStatus.ACTIVE, AgreementStatus.DISPUTED))
        @rule(k=st.integers(0, 3))
        def settle(self, k: int) -> None:
            aid = self._pick(self._in(AgreementStatus.ACTIVE, AgreementStatus.DISPUTED), k)
            m = self.models[aid]
            if self._near_boundary(m):
                return
            now = self._now()
            call = lambda: w.agreements.settle(aid)  # noqa: E731
            in_time = m.condition_at != 0 and m.condition_at <= m.final
            if m.status is AgreementStatus.DISPUTED:
                if now <= m.dispute_ends:
                    self._expect_revert("AgreementNotDue", call)
                    return
                if m.condition is DeliveryCondition.REFUSED:
                    expected = Payout(Outcome.REFUSED, m.price, 0, m.bond_posted, 0)
                else:
                    expected = m.clause()
            else:
                delivered = in_time and m.condition in (
                    DeliveryCondition.ACCEPTED,
                    DeliveryCondition.DAMAGED,
                )
                refused = in_time and m.condition is DeliveryCondition.REFUSED
                if refused or (
                    delivered and (m.condition is DeliveryCondition.DAMAGED or m.weight_out)
                ):
                    result = call()
                    m.status = AgreementStatus.DISPUTED
                    m.dispute_ends = int(result.event("AgreementDisputed").args["endsAt"])
                    assert (
                        m.dispute_ends
                        == int(chain.block(result.block_number)["timestamp"]) + WINDOW
                    )
                    return
                if delivered:
                    expected = m.clause()
                elif m.lost or m.condition_at != 0 or now > m.final:
                    expected = m.failed()
                else:
                    self._expect_revert("AgreementNotDue", call)
                    return
            assert settled_payout(call()) == expected
            self._pay(m, expected, AgreementStatus.SETTLED)

        @precondition(lambda self: self._in(AgreementStatus.DISPUTED))
        @rule(k=st.integers(0, 3), share=st.integers(0, 10_000))
        def resolve(self, k: int, share: int) -> None:
            aid = self._pick(self._in(AgreementStatus.DISPUTED), k)
            m = self.models[aid]
            if self._near_boundary(m):
                return
            call = lambda: w.as_(w.arbiter).resolve(aid, share)  # noqa: E731
            if self._now() > m.dispute_ends:
                self._expect_revert("AgreementDisputeWindowClosed", call)
                return
            to_buyer = m.price * share // 10_000
            expected = Payout(Outcome.RULED, to_buyer, m.price - to_buyer, m.bond_posted, 0)
            assert settled_payout(call()) == expected
            self._pay(m, expected, AgreementStatus.SETTLED)

        @rule(who=st.sampled_from(["buyer", "seller", "carrier"]))
        def withdraw(self, who: str) -> None:
            p = getattr(w, who)
            owed = self.credit[p.address]
            call = lambda: w.as_(p).withdraw(w.token.address)  # noqa: E731
            if owed == 0:
                self._expect_revert("AgreementNothingToWithdraw", call)
                return
            before = w.token.balance_of(p.address)
            call()
            assert w.token.balance_of(p.address) == before + owed
            self.credit[p.address] = 0

        # -- invariants ----------------------------------------------------------

        @invariant()
        def conserved(self) -> None:
            if not hasattr(self, "models"):
                return
            token = w.token.address
            held = sum(m.held for m in self.models.values())
            owed = sum(self.credit.values())
            assert w.token.balance_of(w.agreements.address) == held + owed
            assert w.agreements.liabilities(token) == held + owed
            for address, credit in self.credit.items():
                assert w.agreements.withdrawable(address, token) == credit
            for aid, m in self.models.items():
                assert w.agreements.agreement(aid).status is m.status

    run_state_machine_as_test(
        AgreementMachine,
        settings=settings(
            max_examples=5,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
