"""Accept → anchored latency on anvil at a steady event rate, and gas per anchor.

The API runs under uvicorn (127.0.0.1) on anvil with the in-process anchoring
worker; this process posts pre-signed events at ``BENCH_RATE`` events/s
(default 1,000) for ``BENCH_SECONDS`` (default 20) in batches every 100 ms.
Latency per event is ``anchor_batches.anchored_at - supply_events.received_at``
(both server clocks: accepted in the DB → anchor transaction mined and
recorded). Gas per anchor is measured for several batch sizes directly on the
same anvil node; the baseline is anchoring each event on its own.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from sqlalchemy import create_engine, text

from backend.anchoring import merkle
from backend.chain import AnchorRegistryClient, make_chain
from backend.chain.anvil import start_anvil
from backend.chain.deployments import deploy_all
from backend.config import Settings
from bench.common import Row, publish, start_app
from bench.ingest import TOKEN, sign_events

RATE = int(os.environ.get("BENCH_RATE", "1000"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "20"))
TICK = 0.1


def serve(rpc_url: str, database_url: str) -> tuple[subprocess.Popen[bytes], str]:
    env = {
        "WAYMARK_CHAIN_BACKEND": "anvil",
        "WAYMARK_RPC_URL": rpc_url,
        "WAYMARK_DATABASE_URL": database_url,
        "WAYMARK_ADMIN_TOKEN": TOKEN,
        "WAYMARK_ANCHOR_INTERVAL_SECONDS": "0.2",
        "WAYMARK_INDEXER_ENABLED": "false",
        "WAYMARK_RATE_LIMIT_PER_SECOND": "100000",
        "WAYMARK_RATE_LIMIT_BURST": "100000",
    }
    return start_app(env, timeout=90)


def latency(rpc_url: str, db_path: str) -> tuple[list[float], int, float]:
    url = f"sqlite:///{db_path}"
    proc, base = serve(rpc_url, url)
    try:
        with httpx.Client(base_url=base, timeout=60) as client:
            health = client.get("/health").json()
            registry = health["contracts"]["AnchorRegistry"]["address"]
            per_tick = int(RATE * TICK)
            n = per_tick * int(SECONDS / TICK)
            op = {"Authorization": f"Bearer {TOKEN}"}
            org = client.post("/v1/orgs", json={"slug": "bench", "name": "Bench"}, headers=op)
            key = {"Authorization": f"Bearer {org.json()['admin_key']['key']}"}
            _digests, bodies, signer = _signed(n, per_tick, health["chain_id"], registry)
            client.post(
                "/v1/orgs/bench/signers",
                json={"address": signer},
                headers=key,
            ).raise_for_status()
            headers = {**key, "Content-Type": "application/json"}
            start = time.monotonic()
            late = 0.0
            for i, body in enumerate(bodies):
                due = start + i * TICK
                now = time.monotonic()
                if now < due:
                    time.sleep(due - now)
                else:
                    late = max(late, now - due)
                client.post("/v1/events/batch", content=body, headers=headers).raise_for_status()
            sent_rate = n / (time.monotonic() - start)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                backlog = client.get("/health").json()["anchoring"]["backlog"]
                if backlog == 0:
                    break
                time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT e.received_at, b.anchored_at FROM supply_events e "
                "JOIN event_proofs p ON p.event_id = e.id JOIN anchor_batches b ON b.id = p.batch_id"
            )
        ).all()
        batches = conn.execute(text("SELECT count(*) FROM anchor_batches")).scalar_one()
    engine.dispose()
    lat = [
        (datetime.fromisoformat(str(a)) - datetime.fromisoformat(str(r))).total_seconds()
        for r, a in rows
    ]
    return lat, int(batches), sent_rate


def _signed(
    n: int, per_tick: int, chain_id: int, registry: str
) -> tuple[list[bytes], list[bytes], str]:
    import bench.ingest as ingest

    saved = ingest.BATCH
    ingest.BATCH = per_tick
    try:
        return sign_events(n, chain_id, registry)
    finally:
        ingest.BATCH = saved


def gas_per_anchor(rpc_url: str) -> list[tuple[int, int]]:
    chain = make_chain(Settings(chain_backend="anvil", rpc_url=rpc_url))
    registry = AnchorRegistryClient(chain, deploy_all(chain).address("AnchorRegistry"))
    out = []
    for size in (1, 10, 100, 1_000, 10_000):
        leaves = [merkle.leaf_hash(os.urandom(32)) for _ in range(size)]
        tx = registry.anchor_root(merkle.build(leaves).root, size)
        out.append((size, tx.gas_used))
    return out


def main() -> None:
    node = start_anvil()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            lat, batches, sent_rate = latency(node.url, f"{tmp}/lat.sqlite3")
        gas = gas_per_anchor(node.url)
    finally:
        node.stop()
    q = statistics.quantiles(lat, n=100)
    single = gas[0][1]
    rows = [
        Row("offered load (achieved)", sent_rate, "events/s", RATE, "target rate"),
        Row("accept → anchored p50", q[49], "s", None, "", ""),
        Row("accept → anchored p95", q[94], "s", None, "", "≤ 2 s"),
        Row("accept → anchored max", max(lat), "s"),
        Row("anchor transactions", batches, "tx", len(lat), "events"),
    ]
    for size, g in gas:
        rows.append(
            Row(
                f"gas per event, batch of {size:,}", g / size, "gas", single, "one anchor per event"
            )
        )
    publish("anchor_latency", f"Anchoring on anvil ({len(lat):,} events over {SECONDS} s)", rows)


if __name__ == "__main__":
    main()
