"""Factories shared by the alliance contract tests (pools, members, tokens)."""

from __future__ import annotations

from dataclasses import dataclass, field

from eth_account import Account
from eth_account.signers.local import LocalAccount

from backend.chain import ChainClient
from backend.chain.alliance import PoolConfig, TokenClient
from tests.contracts.alliance_drivers import PoolDriver

USD = 10**6  # the test stablecoin has 6 decimals
DAY = 86_400
HOUR = 3_600


@dataclass
class Party:
    """A funded account with its own signing chain client."""

    account: LocalAccount
    chain: ChainClient

    @property
    def address(self) -> str:
        return str(self.account.address)

    @property
    def key(self) -> bytes:
        return bytes(self.account.key)


def party(chain: ChainClient) -> Party:
    acct = Account.create()
    chain.send_value(acct.address, 10**18)
    return Party(acct, chain.with_account(acct))


def deploy_token(chain: ChainClient, name: str = "TestStablecoin") -> TokenClient:
    return TokenClient(chain, chain.deploy(name).address)


def mint(token: TokenClient, to: str, amount: int) -> None:
    contract = token.chain.w3.eth.contract(
        address=token.address,
        abi=[
            {
                "type": "function",
                "name": "mint",
                "stateMutability": "nonpayable",
                "inputs": [
                    {"name": "to", "type": "address"},
                    {"name": "amount", "type": "uint256"},
                ],
                "outputs": [],
            }
        ],
    )
    token.chain.transact(contract, "mint", to, amount)


@dataclass
class PoolSetup:
    """A pool with an operator, members holding tokens, and one open period."""

    chain: ChainClient
    pool: PoolDriver
    token: TokenClient
    operator: Party
    members: list[Party]
    pool_id: int
    period_id: int
    start: int
    end: int
    cutoff: int
    config: PoolConfig
    capacity: int
    extra: dict[str, object] = field(default_factory=dict)

    def as_(self, who: Party) -> PoolDriver:
        return self.pool.using(who.chain)

    def deposit(self, who: Party, amount: int) -> None:
        self.token.using(who.chain).approve(self.pool.address, amount)
        self.as_(who).deposit(self.pool_id, amount, approve=False)

    def conserved(self) -> bool:
        """token.balanceOf(pool) == Σ free + Σ locked + operator credit."""
        totals = self.pool.totals(self.pool_id)
        balance = self.token.balance_of(self.pool.address)
        return balance == totals.total == self.pool.token_liabilities(self.token.address)


def make_pool(
    chain: ChainClient,
    pool_address: str,
    *,
    coin: str = "TestStablecoin",
    members: int = 3,
    lease: int = 1_000 * USD,
    rate: int = 2 * USD,
    capacity: int = 100,
    dispute_window: int = 2 * DAY,
    report_window: int = 3 * DAY,
    penalty_bps: int = 1_000,
    funds: int = 10_000 * USD,
) -> PoolSetup:
    token = deploy_token(chain, coin)
    operator = party(chain)
    parties = [party(chain) for _ in range(members)]
    for p in parties:
        mint(token, p.address, funds)
    pool = PoolDriver(chain, pool_address)
    config = PoolConfig(
        token=token.address,
        operator=operator.address,
        lease_per_period=lease,
        rate_per_unit=rate,
        dispute_window=dispute_window,
        report_window=report_window,
        cancel_penalty_bps=penalty_bps,
    )
    pool_id, _ = pool.create_pool(config, [p.address for p in parties])
    now = chain.block()["timestamp"]
    start = now + 2 * DAY
    end = start + 7 * DAY
    cutoff = start - HOUR
    period_id, _ = pool.using(operator.chain).open_period(
        pool_id, start=start, end=end, cutoff=cutoff, capacity=capacity
    )
    return PoolSetup(
        chain=chain,
        pool=pool,
        token=token,
        operator=operator,
        members=parties,
        pool_id=pool_id,
        period_id=period_id,
        start=start,
        end=end,
        cutoff=cutoff,
        config=config,
        capacity=capacity,
    )


def advance_to(chain: ChainClient, timestamp: int) -> None:
    """Mine a block at ``timestamp`` or later."""
    now = chain.block()["timestamp"]
    if timestamp > now:
        chain.advance_time(timestamp - now)
