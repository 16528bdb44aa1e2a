"""The indexer following a busy chain, next to reading the same logs, same run.

On anvil, the anchoring key sends ``EVENTS`` anchors with automining off, mined
``PER_BLOCK`` to a block (a busy chain), then ``SPARSE``
more with automining on (one per block, a quiet chain). For each range the
same-run baseline is one ``eth_getLogs`` over the range plus decoding
(``ChainClient.get_logs``); the figure is the indexer with every read-model handler
the service registers (``backend.wiring.indexer_handlers``) following the range
from scratch into a fresh SQLite database, its cursor, block hashes and rows
committed. Target: indexer ≥ 0.7 × get_logs + decode (issue 16).

Run: ``.venv/bin/python bench/indexer.py``
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eth_utils import keccak
from sqlalchemy import func, select

from backend.anchoring.models import ChainAnchor
from backend.chain import AnchorRegistryClient, ChainClient, make_chain
from backend.chain.anvil import start_anvil
from backend.chain.deployments import Deployment, deploy_all
from backend.config import Settings
from backend.db import migrate
from backend.db.engine import make_engine, make_sessionmaker
from backend.indexer.service import Indexer
from backend.wiring import indexer_handlers
from bench.common import Row, publish

EVENTS = 4_000
PER_BLOCK = 250
SPARSE = 400
TARGET = 0.7


def send_anchors(chain: ChainClient, registry: AnchorRegistryClient, n: int, salt: str) -> None:
    """``n`` anchors from the node's unlocked anchoring key, not waiting for receipts."""
    for i in range(n):
        data = registry.anchor_calldata(keccak(text=f"{salt}-{i}"), 1 + i % 1000)
        chain.rpc(
            "eth_sendTransaction",
            [{"from": chain.address, "to": registry.address, "data": data, "gas": hex(200_000)}],
        )


def busy_range(chain: ChainClient, registry: AnchorRegistryClient) -> tuple[int, int]:
    """Blocks holding ``EVENTS`` anchors, ``PER_BLOCK`` to a block."""
    first = chain.block_number() + 1
    chain.rpc("evm_setAutomine", [False])
    try:
        for block in range(EVENTS // PER_BLOCK):
            send_anchors(chain, registry, PER_BLOCK, f"busy-{block}")
            chain.mine(1)
        if int(chain.rpc("txpool_status", [])["pending"], 16):
            raise RuntimeError("anchors left unmined")
    finally:
        chain.rpc("evm_setAutomine", [True])
    return first, chain.block_number()


def sparse_range(chain: ChainClient, registry: AnchorRegistryClient) -> tuple[int, int]:
    """``SPARSE`` anchors, one per block."""
    first = chain.block_number() + 1
    send_anchors(chain, registry, SPARSE, "sparse")
    deadline = time.monotonic() + 300
    while AnchorRegistryClient(chain, registry.address).anchor_count() < EVENTS + SPARSE:
        if time.monotonic() > deadline:
            raise TimeoutError("anchors not mined")
        time.sleep(0.05)
    return first, chain.block_number()


def measure(
    chain: ChainClient, dep: Deployment, settings: Settings, first: int, last: int
) -> tuple[int, float, float]:
    """(events, raw get_logs + decode seconds, indexer seconds) over ``first..last``."""
    registry = dep.address("AnchorRegistry")
    start = time.perf_counter()
    logs = chain.get_logs([registry], first, last)
    raw_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.sqlite3")
        migrate.upgrade(engine)
        sessions = make_sessionmaker(engine)
        indexer = Indexer(
            sessions=sessions,
            chain=chain,
            deployment=dep,
            handlers=indexer_handlers(chain, dep),
            settings=settings,
        )
        indexer.start_block = first  # follow the measured range only
        start = time.perf_counter()
        while indexer.step():
            pass
        index_s = time.perf_counter() - start
        with sessions() as session:
            stored = session.scalar(select(func.count()).select_from(ChainAnchor)) or 0
        engine.dispose()
    assert stored == len(logs), (stored, len(logs))
    return len(logs), raw_s, index_s


def main() -> None:
    rows: list[Row] = []
    with start_anvil() as node:
        settings = Settings(chain_backend="anvil", rpc_url=node.url)
        chain = make_chain(settings)
        dep = deploy_all(chain)
        registry = AnchorRegistryClient(chain, dep.address("AnchorRegistry"))
        for make in (busy_range, sparse_range):
            # Each range is measured before the next is made: the indexer follows to the head.
            first, last = make(chain, registry)
            label = (
                f"{EVENTS:,} anchors in {last - first + 1} blocks"
                if make is busy_range
                else f"{SPARSE:,} anchors, one per block"
            )
            n, raw_s, index_s = measure(chain, dep, settings, first, last)
            raw, indexed = n / raw_s, n / index_s
            rows.append(
                Row(
                    f"indexer, anvil, {label} (events/s)",
                    indexed,
                    "events/s",
                    raw,
                    "get_logs + decode alone",
                    f"≥ {TARGET} × baseline: {indexed / raw:.2f}×",
                )
            )
    publish("indexer", "Indexer on anvil (SQLite, every read-model handler)", rows)


if __name__ == "__main__":
    main()
