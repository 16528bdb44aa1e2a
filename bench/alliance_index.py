"""Alliance read model: indexing and reorg rebuild next to raw log reading, same run.

A pool of 40 members on eth-tester deposits, books, is reported and settled;
the indexer then follows the range from scratch into a fresh SQLite database
(``python bench/alliance_index.py``).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eth_account import Account
from sqlalchemy import func, select

from backend.alliance.indexer import alliance_handlers, rollback_pools
from backend.alliance.models import AllianceEvent, BookingView
from backend.chain import make_chain
from backend.chain.alliance import CapacityPoolClient, PoolConfig
from backend.chain.anvil import start_anvil
from backend.chain.deployments import deploy_all
from backend.config import Settings
from backend.db import migrate
from backend.db.engine import make_engine, make_sessionmaker
from backend.indexer.service import Indexer
from bench.common import Row, publish

USD = 10**6
DAY = 86_400
MEMBERS = 40


def measure(settings: Settings) -> tuple[int, float, float, float, int]:
    """(events stored, first-index seconds, rebuild seconds, raw get_logs seconds, logs)."""
    chain = make_chain(settings)
    dep = deploy_all(chain)
    token = dep.settlement_token
    assert token is not None
    coin = chain.contract("TestStablecoin", token)
    pool = CapacityPoolClient(chain, dep.address("CapacityPool"))
    members = [Account.create() for _ in range(MEMBERS)]
    operator = Account.create()
    chain.send_value(operator.address, 10**18)
    pid, _ = pool.create_pool(
        PoolConfig(token, operator.address, 10_000 * USD, USD, DAY, DAY, 0),
        [m.address for m in members],
    )
    now = chain.block()["timestamp"]
    op = pool.using(chain.with_account(operator))
    per, _ = op.open_period(
        pid, start=now + DAY, end=now + 2 * DAY, cutoff=now + DAY, capacity=10 * MEMBERS
    )
    for m in members:
        chain.send_value(m.address, 10**18)
        chain.transact(coin, "mint", m.address, 1_000 * USD)
        mine = pool.using(chain.with_account(m))
        mine.deposit(pid, 500 * USD)
        mine.book(pid, per, 7)
    chain.advance_time(2 * DAY + 1)
    op.report_usage(pid, per, [(m.address, 5) for m in members])
    chain.advance_time(DAY + 1)
    pool.settle(pid, per)
    head = chain.block_number()

    start = time.perf_counter()
    logs = chain.get_logs([pool.address], dep.first_block, head)
    raw_s = time.perf_counter() - start

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.sqlite3")
        migrate.upgrade(engine)
        sessions = make_sessionmaker(engine)
        settings = settings.model_copy(update={"indexer_max_range": 100_000})
        indexer = Indexer(
            sessions=sessions,
            chain=chain,
            deployment=dep,
            handlers=alliance_handlers(chain, dep),
            settings=settings,
        )
        start = time.perf_counter()
        indexer.step()
        index_s = time.perf_counter() - start
        with sessions() as session:
            stored = session.scalar(select(func.count()).select_from(AllianceEvent)) or 0
            start = time.perf_counter()
            rollback_pools(session, head)  # the settlement block is orphaned
            session.commit()
            rebuild_s = time.perf_counter() - start
            settled = session.scalar(
                select(func.count()).select_from(BookingView).where(BookingView.status == "settled")
            )
            assert settled == 0, settled
        engine.dispose()

    return int(stored), index_s, rebuild_s, raw_s, len(logs)


def main() -> None:
    rows = []
    with start_anvil() as node:
        for label, settings in (
            ("eth-tester", Settings(chain_backend="tester")),
            ("anvil", Settings(chain_backend="anvil", rpc_url=node.url)),
        ):
            stored, index_s, rebuild_s, raw_s, logs = measure(settings)
            rows += [
                Row(
                    f"index pool events, {label} (get_logs + store + project)",
                    stored / index_s,
                    "events/s",
                    logs / raw_s,
                    "get_logs + decode alone",
                ),
                Row(
                    f"rebuild a {MEMBERS}-member pool after a reorg, {label} (replay)",
                    rebuild_s * 1000,
                    "ms",
                    index_s * 1000,
                    "first indexing of the same range",
                ),
            ]
    publish("alliance_index", "Alliance read model (SQLite)", rows)


if __name__ == "__main__":
    main()
