"""CapacityPool against awkward tokens: no bool return, fee on transfer, reentrant."""

from __future__ import annotations

import pytest

from backend.chain import ChainClient
from backend.chain.errors import RevertWithReason
from tests.conftest import deployment_for
from tests.contracts.alliance_support import DAY, USD, PoolSetup, advance_to, make_pool
from tests.helpers import reverts


def _pool(tester: ChainClient, coin: str) -> PoolSetup:
    return make_pool(tester, deployment_for(tester).address("CapacityPool"), coin=coin)


def test_token_returning_no_bool_deposits_books_settles_and_withdraws(tester: ChainClient) -> None:
    s = _pool(tester, "NoReturnToken")
    a = s.members[0]
    s.deposit(a, 1_000 * USD)
    s.as_(a).book(s.pool_id, s.period_id, 10)
    advance_to(s.chain, s.end + 3 * DAY)
    s.pool.settle(s.pool_id, s.period_id)
    s.as_(a).withdraw(s.pool_id, 900 * USD)
    s.as_(s.operator).withdraw_operator_credit(s.pool_id, 100 * USD)
    assert s.token.balance_of(a.address) == 9_900 * USD
    assert s.token.balance_of(s.operator.address) == 100 * USD
    assert s.token.balance_of(s.pool.address) == 0
    assert s.conserved()


def test_token_returning_no_bool_failure_still_reverts(tester: ChainClient) -> None:
    s = _pool(tester, "NoReturnToken")
    a = s.members[0]
    # No approval: the token reverts without data and SafeERC20 lets it through.
    with pytest.raises(RevertWithReason, match=r"execution reverted: b''"):
        s.as_(a).deposit(s.pool_id, 1 * USD, approve=False)
    assert s.conserved()


def test_fee_on_transfer_token_is_rejected_at_deposit(tester: ChainClient) -> None:
    s = _pool(tester, "FeeOnTransferToken")
    a = s.members[0]
    s.token.using(a.chain).approve(s.pool.address, 1_000 * USD)
    with reverts(
        "PoolTokenTransferMismatch", token=s.token.address, expected=1_000 * USD, received=990 * USD
    ):
        s.as_(a).deposit(s.pool_id, 1_000 * USD, approve=False)
    assert s.pool.free_balance(s.pool_id, a.address) == 0
    assert s.token.balance_of(s.pool.address) == 0


@pytest.mark.parametrize("reenter", ["withdraw", "settlePeriod"])
def test_reentrant_token_cannot_reenter_withdraw_or_settle(
    tester: ChainClient, reenter: str
) -> None:
    s = _pool(tester, "ReentrantToken")
    a = s.members[0]
    s.deposit(a, 1_000 * USD)
    s.as_(a).book(s.pool_id, s.period_id, 10)
    advance_to(s.chain, s.end + 3 * DAY)
    args = (s.pool_id, 100 * USD) if reenter == "withdraw" else (s.pool_id, s.period_id)
    payload = s.chain.encode(s.pool.contract, reenter, *args)
    evil = tester.contract("ReentrantToken", s.token.address)
    tester.transact(evil, "arm", s.pool.address, payload)
    free_before = s.pool.free_balance(s.pool_id, a.address)
    with reverts("ReentrancyGuardReentrantCall"):
        s.as_(a).withdraw(s.pool_id, 100 * USD)
    assert s.pool.free_balance(s.pool_id, a.address) == free_before
    assert s.token.balance_of(a.address) == 9_000 * USD
    assert s.conserved()
