"""HTTP load with wrk: the public proof page and the batch ingest endpoint.

The API runs under uvicorn (one process, 127.0.0.1) on anvil with PostgreSQL
(a fresh database next to WAYMARK_TEST_DATABASE_URL; SQLite when it is not
set), the in-process anchoring worker off. Seed events are anchored by
``scripts/anchor_worker.py`` run once, so the proof endpoint serves complete
proofs (its ``on_chain`` field is an ``AnchorRegistry.verify`` call per
request). Then wrk (``--connections`` 64, ``--duration`` 60 s, 2 threads) runs:

* ``GET /livez``: the baseline, the cheapest endpoint of the same app;
* ``GET /v1/proofs/{digest}``: the public proof behind every QR code, cycling
  through the seeded events;
* ``POST /v1/events/batch``: pre-signed batches of ``--batch`` events; a Lua
  script cycles through distinct bodies, so a body is only repeated (an
  idempotent hit: same answer, nothing stored) after all were sent once. The
  share of first-time events is reported.

Every response must be 2xx and every batch item accepted; socket errors,
non-2xx and rejected items are counted from wrk's summary and per-thread
counters. Exits 1 on any error.

    .venv/bin/python bench/load.py                 # 60 s per run
    .venv/bin/python bench/load.py --duration 10   # quick
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from sqlalchemy import create_engine, text

from backend.chain.anvil import start_anvil
from bench.common import Row, publish
from bench.ingest import drop_postgres, fresh_postgres, sign_events
from bench.support import make_org, run_worker, serve, stop

# Per-thread counters are summed in done() through the thread handles kept by setup().
LUA_COMMON = r"""
local threads = {}
local nthreads = 0

function setup(thread)
  nthreads = nthreads + 1
  thread:set("id", nthreads - 1)
  table.insert(threads, thread)
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    sample = status .. " " .. string.sub(body, 1, 300)
  elseif check_body and not string.find(body, '"rejected":0', 1, true) then
    rejected = rejected + 1
    sample = string.sub(body, 1, 300)
  end
end

function done(summary, latency, requests)
  local n, r = 0, 0
  for _, t in ipairs(threads) do
    n = n + t:get("non2xx")
    r = r + t:get("rejected")
    if t:get("sample") then io.write("WRK_SAMPLE " .. t:get("sample") .. "\n") end
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d,"non2xx":%d,"rejected":%d,"p50_us":%d,"p99_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    n, r, latency:percentile(50), latency:percentile(99), latency.mean))
end
"""

# args: file of request lines (one path or body per line), thread count.
LUA_CYCLE = r"""
function init(args)
  non2xx, rejected, sample = 0, 0, nil
  check_body = (mode == "post")
  local mine, i, n = {}, 0, tonumber(args[2])
  for line in io.lines(args[1]) do
    if i % n == id then table.insert(mine, line) end
    i = i + 1
  end
  if #mine == 0 then
    -- fewer lines than threads: every thread cycles through all of them
    for line in io.lines(args[1]) do table.insert(mine, line) end
  end
  items, next_item = mine, 1
end

function request()
  local item = items[next_item]
  next_item = next_item % #items + 1
  if mode == "post" then
    return wrk.format("POST", "/v1/events/batch", nil, item)
  end
  return wrk.format("GET", item)
end
"""


@dataclass
class WrkResult:
    requests: int
    seconds: float
    socket_errors: int
    non2xx: int
    rejected: int
    p50_ms: float
    p99_ms: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def errors(self) -> int:
        return self.socket_errors + self.non2xx + self.rejected


def wrk(
    base: str,
    *,
    mode: str,
    lines: list[str],
    headers: dict[str, str],
    duration: int,
    connections: int,
    workdir: Path,
) -> WrkResult:
    threads = 2
    settle(base, lines[0] if mode == "get" else "/livez")
    data = workdir / f"{mode}-{len(lines)}.txt"
    data.write_text("\n".join(lines) + "\n")
    script = workdir / f"{mode}.lua"
    script.write_text(f'mode = "{mode}"\n' + LUA_COMMON + LUA_CYCLE)
    cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s"]
    cmd += ["--timeout", "30s", "--latency", "-s", str(script)]
    for name, value in headers.items():
        cmd += ["-H", f"{name}: {value}"]
    cmd += [base, "--", str(data), str(threads)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("WRK_JSON "))
    raw = json.loads(line.removeprefix("WRK_JSON "))
    for sample in (x for x in out.splitlines() if x.startswith("WRK_SAMPLE ")):
        print(f"wrk {mode}: unexpected response {sample.removeprefix('WRK_SAMPLE ')}", flush=True)
    return WrkResult(
        requests=raw["requests"],
        seconds=raw["duration_us"] / 1e6,
        socket_errors=raw["connect"] + raw["read"] + raw["write"] + raw["timeout"],
        non2xx=raw["non2xx"],
        rejected=raw["rejected"],
        p50_ms=raw["p50_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
    )


def settle(base: str, path: str, timeout: float = 120.0) -> None:
    """Wait until the server answers ``path`` promptly (the previous run's backlog is served)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        t0 = time.monotonic()
        try:
            httpx.get(base + path, timeout=timeout).raise_for_status()
        except httpx.TransportError:
            continue
        if time.monotonic() - t0 < 0.5:
            waited = time.monotonic() - started
            if waited > 1:
                print(f"server settled after {waited:.1f} s", flush=True)
            return
    raise RuntimeError(f"{path} still slow after {timeout} s")


def anchor_seed(rpc_url: str, db_url: str, registry: str, client: httpx.Client, refs: list[str]):
    """Run the worker process, with the indexer, until every seed event has a proof
    verified against its anchor on chain."""
    worker = run_worker(
        rpc_url, db_url, registry, extra={"WAYMARK_ANCHOR_INTERVAL_SECONDS": "0.1"}, indexer=True
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            proofs = [client.get(f"/v1/proofs/{r}").json() for r in refs]
            if all(p.get("on_chain") for p in proofs):
                return
            time.sleep(0.3)
        raise RuntimeError("seed events were not anchored within 60 s")
    finally:
        stop(worker)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=60, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--batch", type=int, default=20, help="events per ingest request")
    parser.add_argument("--events", type=int, default=60_000, help="distinct pre-signed events")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="waymark-load-"))
    # The production database when there is one: SQLite's single writer is not
    # built for 64 concurrent writing connections (busy waits past 30 s under load).
    pg_base = os.environ.get("WAYMARK_TEST_DATABASE_URL")
    pg_name = None
    if pg_base:
        pg_name, db_url = fresh_postgres(pg_base)
        db_label = "PostgreSQL"
    else:
        db_url = f"sqlite:///{workdir}/load.sqlite3"
        db_label = "SQLite"
    node = start_anvil()
    proc = None
    try:
        proc, base = serve(
            {
                "WAYMARK_CHAIN_BACKEND": "anvil",
                "WAYMARK_RPC_URL": node.url,
                "WAYMARK_DATABASE_URL": db_url,
                "WAYMARK_ANCHOR_WORKER_ENABLED": "false",
            }
        )
        with httpx.Client(base_url=base, timeout=60) as client:
            health = client.get("/health").json()
            chain_id = health["chain_id"]
            registry = health["contracts"]["AnchorRegistry"]["address"]
            seed_digests, seed_bodies, signer = sign_events(64, chain_id, registry, batch=64)
            _, bodies, load_signer = sign_events(args.events, chain_id, registry, batch=args.batch)
            org = make_org(client, "load", signer)
            # sign_events makes a key per call: register the load events' signer too.
            client.post(
                "/v1/orgs/load/signers",
                json={"address": load_signer},
                headers=org.admin,
            ).raise_for_status()
            headers = {**org.writer, "Content-Type": "application/json"}
            client.post(
                "/v1/events/batch", content=seed_bodies[0], headers=headers
            ).raise_for_status()
            refs = ["0x" + d.hex() for d in seed_digests]
            anchor_seed(node.url, db_url, registry, client, refs)

        common = {"duration": args.duration, "connections": args.connections, "workdir": workdir}
        live = wrk(base, mode="get", lines=["/livez"], headers={}, **common)
        ingest = wrk(
            base,
            mode="post",
            lines=[b.decode() for b in bodies],
            headers=headers,
            **common,
        )
        proof_paths = [f"/v1/proofs/{r}" for r in refs]
        proof = wrk(base, mode="get", lines=proof_paths, headers={}, **common)
        engine = create_engine(db_url)
        with engine.connect() as conn:
            stored = conn.scalar(text("SELECT count(*) FROM supply_events")) - len(refs)
        engine.dispose()
    finally:  # a failed run leaves no database or files behind either
        if proc is not None:
            stop(proc)
        node.stop()
        if pg_base and pg_name:
            drop_postgres(pg_base, pg_name)
        shutil.rmtree(workdir, ignore_errors=True)
    posted = ingest.requests * args.batch
    c = args.connections
    rows = [
        Row("GET /livez (baseline)", live.rate, "req/s", None, "", ""),
        Row(
            "GET /v1/proofs/{digest}",
            proof.rate,
            "req/s",
            live.rate,
            "GET /livez",
            "0 errors",
        ),
        Row("GET /v1/proofs/{digest} p50", proof.p50_ms, "ms", live.p50_ms, "GET /livez p50"),
        Row("GET /v1/proofs/{digest} p99", proof.p99_ms, "ms", live.p99_ms, "GET /livez p99"),
        Row(
            f"POST /v1/events/batch ({args.batch} events)",
            ingest.rate,
            "req/s",
            live.rate,
            "GET /livez",
            "0 errors",
        ),
        Row(
            "POST /v1/events/batch events",
            ingest.rate * args.batch,
            "events/s",
            None,
            "",
            "",
        ),
        Row("POST /v1/events/batch p50", ingest.p50_ms, "ms", live.p50_ms, "GET /livez p50"),
        Row("POST /v1/events/batch p99", ingest.p99_ms, "ms", live.p99_ms, "GET /livez p99"),
        Row(
            "events stored (first-time, not idempotent repeats)",
            stored,
            "events",
            posted,
            "events in completed requests",
        ),
        Row("errors, proofs (socket + non-2xx)", proof.errors, "", live.errors, "GET /livez"),
        Row(
            "errors, ingest (socket + non-2xx + rejected items)",
            ingest.errors,
            "",
            live.errors,
            "GET /livez",
        ),
    ]
    publish(
        "load",
        f"HTTP load with wrk ({c} connections, {args.duration} s per endpoint, loopback, {db_label})",
        rows,
    )
    failed = live.errors + proof.errors + ingest.errors
    if failed:
        print(f"FAIL: {failed} errors under load", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
