"""Ingest throughput through POST /v1/events/batch on SQLite and PostgreSQL.

The API runs under real uvicorn (one process, 127.0.0.1) with the anchoring
worker off; this process pre-signs events and posts batches of 1,000 from
``BENCH_CLIENTS`` (default 2) keep-alive connections in parallel, as several
producers would. The baseline is raw signature recovery
(``eip712.recover``) over the same digests in this process: the floor of what
verification alone costs per event.

PostgreSQL is measured when WAYMARK_TEST_DATABASE_URL is set (a fresh database
is created next to it and dropped afterwards).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from coincurve import PrivateKey
from eth_account import Account
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from backend.chain.eip712 import recover
from backend.chain.typed_data.events import (
    events_domain,
    hash_supply_event,
    location_bytes,
    supply_event_digest,
)
from bench.common import Row, publish, start_app

N_EVENTS = int(os.environ.get("BENCH_EVENTS", "20000"))
BATCH = 1000
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "2"))
TOKEN = "bench-operator-token"  # noqa: S105 - a throwaway server's operator token


def sign_events(
    n: int, chain_id: int, registry: str, batch: int = BATCH
) -> tuple[list[bytes], list[bytes], str]:
    """n signed events in batch bodies of ``batch``: (digests, JSON bodies, signer address)."""
    acct = Account.create()
    key = PrivateKey(bytes(acct.key))
    sep = events_domain(chain_id, registry).separator
    now = int(time.time()) - 60
    digests: list[bytes] = []
    items: list[str] = []
    loc = location_bytes("NLRTM")
    for _ in range(n):
        eid, subject, payload = (
            secrets.token_bytes(32),
            secrets.token_bytes(32),
            secrets.token_bytes(32),
        )
        digest = supply_event_digest(sep, hash_supply_event(eid, subject, 2, now, loc, payload))
        sig = key.sign_recoverable(digest, hasher=None)
        sig = sig[:64] + bytes([sig[64] + 27])
        digests.append(digest)
        items.append(
            f'{{"eventId":"0x{eid.hex()}","subject":"0x{subject.hex()}","kind":2,'
            f'"occurredAt":{now},"location":"NLRTM","payloadHash":"0x{payload.hex()}",'
            f'"signature":"0x{sig.hex()}"}}'
        )
    bodies = [
        ('{"events":[' + ",".join(items[i : i + batch]) + "]}").encode() for i in range(0, n, batch)
    ]
    return digests, bodies, acct.address


def serve(database_url: str) -> tuple[subprocess.Popen[bytes], str]:
    env = {
        "WAYMARK_CHAIN_BACKEND": "tester",
        "WAYMARK_DATABASE_URL": database_url,
        "WAYMARK_ADMIN_TOKEN": TOKEN,
        "WAYMARK_ANCHOR_WORKER_ENABLED": "false",
        "WAYMARK_INDEXER_ENABLED": "false",
        "WAYMARK_RATE_LIMIT_PER_SECOND": "100000",
        "WAYMARK_RATE_LIMIT_BURST": "100000",
    }
    return start_app(env)


def measure(database_url: str) -> tuple[float, float]:
    """(events/s through the API, events/s of raw recovery) for one database."""
    proc, base = serve(database_url)
    try:
        with httpx.Client(base_url=base, timeout=120) as client:
            health = client.get("/health").json()
            chain_id = health["chain_id"]
            registry = health["contracts"]["AnchorRegistry"]["address"]
            digests, bodies, signer = sign_events(N_EVENTS, chain_id, registry)
            op = {"Authorization": f"Bearer {TOKEN}"}
            org = client.post("/v1/orgs", json={"slug": "bench", "name": "Bench"}, headers=op)
            key = {"Authorization": f"Bearer {org.json()['admin_key']['key']}"}
            client.post(
                "/v1/orgs/bench/signers",
                json={"address": signer},
                headers=key,
            ).raise_for_status()
            headers = {**key, "Content-Type": "application/json"}
            client.post("/v1/events/batch", content=bodies[0], headers=headers)  # warm-up

            def post_all(share: list[bytes]) -> int:
                with httpx.Client(base_url=base, timeout=120) as c:
                    return sum(
                        c.post("/v1/events/batch", content=b, headers=headers).json()["accepted"]
                        for b in share
                    )

            shares = [bodies[1 + i :: CLIENTS] for i in range(CLIENTS)]
            t0 = time.perf_counter()
            with ThreadPoolExecutor(CLIENTS) as pool:
                accepted = sum(pool.map(post_all, shares))
            api_rate = accepted / (time.perf_counter() - t0)
            assert accepted == N_EVENTS - BATCH, accepted
        sigs = [
            bytes.fromhex(b.split(b'"signature":"0x')[1][:130].decode())
            for b in bodies[0].split(b"},{")
        ]
        t0 = time.perf_counter()
        for d, s in zip(digests[:BATCH], sigs, strict=True):
            recover(d, s)
        recover_rate = BATCH / (time.perf_counter() - t0)
        return api_rate, recover_rate
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def fresh_postgres(base: str) -> tuple[str, str]:
    name = f"waymark_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return name, make_url(base).set(database=name).render_as_string(hide_password=False)


def drop_postgres(base: str, name: str) -> None:
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def main() -> None:
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        api, rec = measure(f"sqlite:///{tmp}/bench.sqlite3")
        rows.append(
            Row(
                "ingest via batch API, SQLite (uvicorn)",
                api,
                "events/s",
                rec,
                "eip712.recover alone",
                "≥ 5,000 events/s",
            )
        )
    pg = os.environ.get("WAYMARK_TEST_DATABASE_URL")
    if pg:
        name, url = fresh_postgres(pg)
        try:
            api, rec = measure(url)
        finally:
            drop_postgres(pg, name)
        rows.append(
            Row(
                "ingest via batch API, PostgreSQL (uvicorn)",
                api,
                "events/s",
                rec,
                "eip712.recover alone",
            )
        )
    title = f"Signed event ingestion ({N_EVENTS:,} events, batches of {BATCH}, {CLIENTS} clients)"
    publish("ingest", title, rows)


if __name__ == "__main__":
    main()
