"""Gas of the alliance contracts next to a plain ERC-20 transfer measured in the same run.

Runs on eth-tester (py-evm, prague rules): ``python bench/gas_alliance.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eth_account import Account
from eth_account.signers.local import LocalAccount

from backend.chain import ChainClient, make_chain
from backend.chain.alliance import (
    CapacityPoolClient,
    EmergencyStockTransferClient,
    PoolConfig,
    StockRequest,
    Terms,
    TokenClient,
)
from backend.config import Settings
from bench.common import Row, publish

USD = 10**6
DAY = 86_400


def funded(chain: ChainClient) -> tuple[LocalAccount, ChainClient]:
    acct = Account.create()
    chain.send_value(acct.address, 10**18)
    return acct, chain.with_account(acct)


def mint(chain: ChainClient, token: str, to: str, amount: int) -> None:
    chain.transact(chain.contract("TestStablecoin", token), "mint", to, amount)


def settle_gas(chain: ChainClient, pool: CapacityPoolClient, token: TokenClient, n: int) -> int:
    """Gas of settlePeriod over ``n`` members who booked and were reported."""
    operator, op_chain = funded(chain)
    members = [funded(chain) for _ in range(n)]
    for acct, _ in members:
        mint(chain, token.address, acct.address, 10_000 * USD)
    config = PoolConfig(token.address, operator.address, 1_000 * USD, 2 * USD, DAY, DAY, 500)
    pool_id, _ = pool.create_pool(config, [a.address for a, _ in members])
    now = chain.block()["timestamp"]
    period_id, _ = pool.using(op_chain).open_period(
        pool_id, start=now + DAY, end=now + 2 * DAY, cutoff=now + DAY - 60, capacity=10 * n
    )
    for _acct, member_chain in members:
        pool.using(member_chain).deposit(pool_id, 2_000 * USD)
        pool.using(member_chain).book(pool_id, period_id, 10)
    chain.advance_time(2 * DAY)
    pool.using(op_chain).report_usage(pool_id, period_id, {a.address: 7 for a, _ in members})
    chain.advance_time(DAY + 1)
    return pool.settle(pool_id, period_id).gas_used


def main() -> None:
    chain = make_chain(Settings(chain_backend="tester"))
    token = TokenClient(chain, chain.deploy("TestStablecoin").address)
    pool = CapacityPoolClient(
        chain, chain.deploy("CapacityPool", chain.address, chain.address).address
    )

    # Baseline: a plain transfer between two holders of the same token.
    a, a_chain = funded(chain)
    b, b_chain = funded(chain)
    c, c_chain = funded(chain)
    operator, op_chain = funded(chain)
    for acct in (a, b, c):
        mint(chain, token.address, acct.address, 10_000 * USD)
    token.using(a_chain).transfer(b.address, 1 * USD)  # both balances now warm and non-zero
    baseline = token.using(a_chain).transfer(b.address, 1 * USD).gas_used

    config = PoolConfig(token.address, operator.address, 1_000 * USD, 2 * USD, DAY, DAY, 500)
    pool_id, _ = pool.create_pool(config, [a.address, b.address, c.address])
    now = chain.block()["timestamp"]
    period_id, _ = pool.using(op_chain).open_period(
        pool_id, start=now + DAY, end=now + 2 * DAY, cutoff=now + DAY - 60, capacity=100
    )
    pool.using(b_chain).deposit(pool_id, 1_000 * USD)
    pool.using(c_chain).deposit(pool_id, 1_000 * USD)
    token.using(a_chain).approve(pool.address, 2_000 * USD)
    first_deposit = pool.using(a_chain).deposit(pool_id, 1_000 * USD, approve=False).gas_used
    deposit = pool.using(a_chain).deposit(pool_id, 1_000 * USD, approve=False).gas_used
    book = pool.using(a_chain).book(pool_id, period_id, 40).gas_used
    book_more = pool.using(a_chain).book(pool_id, period_id, 5).gas_used
    book_second_member = pool.using(c_chain).book(pool_id, period_id, 5).gas_used
    msg = pool.booking_transfer_message(
        pool_id,
        period_id,
        from_=a.address,
        to=b.address,
        units=10,
        price=5 * USD,
        deadline=now + DAY,
    )
    sig = pool.sign_booking_transfer(b.key, msg)
    transfer = pool.using(a_chain).transfer_booking(msg, sig).gas_used
    chain.advance_time(2 * DAY)
    report = pool.using(op_chain).report_usage(pool_id, period_id, {a.address: 25}).gas_used
    umsg = pool.usage_message(
        pool_id, period_id, member=a.address, used_units=25, deadline=now + 9 * DAY
    )
    cosign = pool.cosign_usage(umsg, pool.sign_usage(a.key, umsg)).gas_used
    withdraw = pool.using(a_chain).withdraw(pool_id, 10 * USD).gas_used

    settle = {n: settle_gas(chain, pool, token, n) for n in (1, 3, 10)}

    no_registry = Account.create().address
    est = EmergencyStockTransferClient(
        chain,
        chain.deploy(
            "EmergencyStockTransfer", chain.address, token.address, no_registry, DAY
        ).address,
    )
    for acct in (a, b):
        est.grant_member(acct.address)
    now = chain.block()["timestamp"]
    rid, _ = est.using(a_chain).request(
        StockRequest(9_506_000_134_352, 10, "NLRTM", now + 3 * DAY, Terms.CASH, 5 * USD)
    )
    offer_id, _ = est.using(b_chain).offer(rid, 4 * USD)
    token.using(a_chain).approve(est.address, 40 * USD)
    accept = est.using(a_chain).accept(rid, offer_id, approve=False).gas_used
    release = est.using(a_chain).confirm_receipt(rid).gas_used
    payout = est.using(b_chain).withdraw().gas_used

    label = "ERC-20 transfer"
    rows = [
        Row("deposit (first, fresh account slot)", first_deposit, "gas", baseline, label),
        Row("deposit (top-up)", deposit, "gas", baseline, label),
        Row("book capacity (first booking of the period)", book, "gas", baseline, label),
        Row("book capacity (adding units)", book_more, "gas", baseline, label),
        Row(
            "book capacity (another member joins the period)",
            book_second_member,
            "gas",
            baseline,
            label,
        ),
        Row("transfer booking (EIP-712 consent, price)", transfer, "gas", baseline, label),
        Row("report usage (1 member)", report, "gas", baseline, label),
        Row("co-sign usage (relayed)", cosign, "gas", baseline, label),
        Row("withdraw free balance", withdraw, "gas", baseline, label),
    ]
    for n, gas in settle.items():
        rows.append(Row(f"settle period, per member (n={n})", gas / n, "gas", baseline, label))
    rows += [
        Row("stock transfer: accept offer (escrow pull)", accept, "gas", baseline, label),
        Row("stock transfer: release on confirmed receipt", release, "gas", baseline, label),
        Row("stock transfer: lender withdraw", payout, "gas", baseline, label),
    ]
    publish("gas_alliance", "Alliance settlement gas (eth-tester, prague)", rows)


if __name__ == "__main__":
    main()
