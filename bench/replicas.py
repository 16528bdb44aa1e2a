"""Replica drill: two API processes and two anchoring workers behind HAProxy, killed mid-run.

Everything runs on loopback: anvil mining a block a second (and each
transaction at once), one PostgreSQL database (a fresh one next to
WAYMARK_TEST_DATABASE_URL; SQLite when it is not set), API processes A and B
under uvicorn (A also runs the indexer), worker processes 1 and 2
(``scripts/anchor_worker.py``, one relayer key between them), and HAProxy
(Debian's ``haproxy``; round robin, health checks on ``/livez``, failed
connections redispatched) in front of the two APIs.

For ``--duration`` seconds (default 60) wrk sends, through HAProxy, a mix of
batch ingest (pre-signed events, cycled), public proof pages and the seller
dashboard with a session cookie that API A made at sign-in; a Python poster
ingests batches alongside and records every event answered "accepted". A third
of the way in, API A and worker 1 are killed with SIGKILL; they are restarted
a few seconds later (A on its old port, so HAProxy takes it back).

After the load, once the backlog drains, the drill checks and prints:

* accepted events lost: accepted by the API but not stored or not anchored;
* events anchored twice: an event in more than one live batch, or a root
  anchored more than once on chain;
* relays misreported: a ``final`` request without a status-1 receipt of its
  hash in its block, a ``failed`` one (every write of the drill can land: the
  organisation's registration, its key and anchors of fresh roots), or one
  still not settled;
* nonce clashes: one nonce signed for two different relay requests;
* sessions lost: dashboard answers other than 200 (a refused cookie is a 303);
* 5xx answers, which may only be requests in flight on the killed API (at
  most one per wrk connection and the poster). Connections cut mid-request
  (wrk read errors) are counted and printed next to them; a run with
  ``--no-kill`` shows none.

Figures go to bench/results/replicas.json; exit status 1 on any violation.

    .venv/bin/python bench/replicas.py                  # 60 s of load
    .venv/bin/python bench/replicas.py --duration 20    # quick
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from sqlalchemy import create_engine, text

from backend.chain import AnchorRegistryClient, make_chain
from backend.chain.anvil import AnvilNode, free_port
from backend.chain.compiler import compile_contracts
from backend.config import Settings
from backend.db import migrate
from backend.db.engine import make_engine
from bench.common import ROOT, Row, publish
from bench.ingest import drop_postgres, fresh_postgres
from bench.support import EventSigner, make_org, run_worker, serve, stop

WORKER_ENV = {
    "WAYMARK_ANCHOR_INTERVAL_SECONDS": "0.1",
    "WAYMARK_ANCHOR_BATCH_SIZE": "256",
    "WAYMARK_LEASE_SECONDS": "2",
    "WAYMARK_RPC_TIMEOUT_SECONDS": "5",
    "WAYMARK_STUCK_AFTER_SECONDS": "10",
}

HAPROXY_CFG = """\
global
    maxconn 4096
defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    retries 3
    option redispatch
    option forwardfor
frontend waymark
    bind 127.0.0.1:{lb}
    default_backend apis
backend apis
    balance roundrobin
    option httpchk GET /livez
    timeout check 5s
    default-server inter 1s fall 2 rise 1
    server a 127.0.0.1:{a} check
    server b 127.0.0.1:{b} check
"""

# Lines are "kind<TAB>path<TAB>body"; per-kind headers come from the script's arguments.
LUA = r"""
local threads = {}
local nthreads = 0

function setup(thread)
  nthreads = nthreads + 1
  thread:set("id", nthreads - 1)
  table.insert(threads, thread)
end

function init(args)
  s5xx, other, dash_bad, dash_ok, ingest_ok, pages_ok, sample = 0, 0, 0, 0, 0, 0, nil
  auth, cookie = args[3], args[4]
  local mine, i, n = {}, 0, tonumber(args[2])
  for line in io.lines(args[1]) do
    if i % n == id then table.insert(mine, line) end
    i = i + 1
  end
  items, next_item, last_kind = mine, 1, {}
end

function request()
  local line = items[next_item]
  next_item = next_item % #items + 1
  local kind, path, body = string.match(line, "^(%a+)\t([^\t]+)\t?(.*)$")
  table.insert(last_kind, kind)
  if kind == "ingest" then
    return wrk.format("POST", path,
      {["Authorization"] = auth, ["Content-Type"] = "application/json"}, body)
  elseif kind == "dashboard" then
    return wrk.format("GET", path,
      {["Cookie"] = "waymark_session=" .. cookie, ["Accept"] = "application/json"}, nil)
  end
  return wrk.format("GET", path, nil, nil)
end

function response(status, headers, body)
  -- One request in flight per connection and responses in order per connection;
  -- across a thread's connections the kind is approximate, the counts per status exact.
  local kind = table.remove(last_kind, 1) or "page"
  if status >= 500 then
    s5xx = s5xx + 1
    sample = status .. " " .. string.sub(body, 1, 200)
  elseif kind == "dashboard" then
    if status == 200 then
      dash_ok = dash_ok + 1
    else
      dash_bad = dash_bad + 1
      sample = status .. " " .. string.sub(body, 1, 200)
    end
  elseif status < 200 or status > 299 then
    other = other + 1
    sample = status .. " " .. string.sub(body, 1, 200)
  elseif kind == "ingest" then
    ingest_ok = ingest_ok + 1
  else
    pages_ok = pages_ok + 1
  end
end

function done(summary, latency, requests)
  local t = {s5xx = 0, other = 0, dash_bad = 0, dash_ok = 0, ingest_ok = 0, pages_ok = 0}
  for _, th in ipairs(threads) do
    for k, _ in pairs(t) do t[k] = t[k] + th:get(k) end
    if th:get("sample") then io.write("WRK_SAMPLE " .. th:get("sample") .. "\n") end
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"socket_errors":%d,"connect":%d,"read":%d,' ..
    '"write":%d,"timeout":%d,"s5xx":%d,"other":%d,' ..
    '"dash_bad":%d,"dash_ok":%d,"ingest_ok":%d,"pages_ok":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout,
    e.connect, e.read, e.write, e.timeout,
    t.s5xx, t.other, t.dash_bad, t.dash_ok, t.ingest_ok, t.pages_ok, latency:percentile(99)))
end
"""


@dataclass
class Figures:
    accepted: int = 0
    stored: int = 0
    lost: int = 0
    anchored_twice: int = 0
    roots_on_chain: int = 0
    roots_anchored_twice: int = 0
    relays: int = 0
    relays_misreported: int = 0
    relays_unsettled: int = 0
    replacements: int = 0
    nonce_clashes: int = 0
    wrk: dict[str, Any] = field(default_factory=dict)
    poster_5xx: int = 0
    poster_other: int = 0
    poster_transport: int = 0
    allowed_5xx: int = 0
    drained_s: float = -1.0
    notes: list[str] = field(default_factory=list)

    @property
    def violations(self) -> list[str]:
        out = []
        if self.lost:
            out.append(f"{self.lost} accepted events lost")
        if self.anchored_twice or self.roots_anchored_twice:
            out.append(f"{self.anchored_twice} events / {self.roots_anchored_twice} roots twice")
        if self.relays_misreported or self.relays_unsettled:
            out.append(
                f"{self.relays_misreported} relays misreported, {self.relays_unsettled} unsettled"
            )
        if self.nonce_clashes:
            out.append(f"{self.nonce_clashes} nonce clashes")
        if self.wrk.get("dash_bad", 0):
            out.append(f"{self.wrk['dash_bad']} dashboard answers were not 200 (sessions lost)")
        if self.wrk.get("other", 0) or self.poster_other:
            out.append(f"{self.wrk.get('other', 0) + self.poster_other} unexpected non-2xx")
        fives = self.wrk.get("s5xx", 0) + self.poster_5xx
        if fives > self.allowed_5xx:
            out.append(
                f"{fives} 5xx, more than the {self.allowed_5xx} requests that can be in flight"
            )
        if self.accepted == 0:
            out.append("nothing was accepted")
        return out


class Poster(threading.Thread):
    """Posts fresh signed batches through the load balancer, recording what was accepted."""

    def __init__(self, base: str, headers: dict[str, str], signer: EventSigner) -> None:
        super().__init__(daemon=True)
        self.base, self.headers, self.signer = base, headers, signer
        self.accepted: list[str] = []
        self.s5xx = 0
        self.other = 0
        self.transport = 0
        self.sample = ""  # the last answer that accepted nothing
        self.halt = threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.base, timeout=60) as client:
            while not self.halt.is_set():
                body, digests = self.signer.batch_body(16)
                try:
                    resp = client.post("/v1/events/batch", content=body, headers=self.headers)
                except httpx.HTTPError:
                    self.transport += 1
                    continue
                if resp.status_code >= 500:
                    self.s5xx += 1
                elif resp.status_code != 200 or resp.json()["rejected"]:
                    self.other += 1
                    self.sample = f"{resp.status_code} {resp.text[:300]}"
                else:
                    self.accepted += digests
                self.halt.wait(0.02)

    def finish(self) -> list[str]:
        self.halt.set()
        self.join(timeout=60)
        return self.accepted


class Cluster:
    """anvil, the database, two APIs, two workers and HAProxy."""

    def __init__(self, workdir: Path, db_url: str) -> None:
        self.workdir = workdir
        self.db_url = db_url
        self.node = AnvilNode(port=free_port(), block_time=1.0).start()
        engine = make_engine(db_url)
        migrate.upgrade(engine)
        engine.dispose()
        self.ports = {"a": free_port(), "b": free_port()}
        self.lb_port = free_port()
        self.apis: dict[str, subprocess.Popen[bytes]] = {}
        self.workers: dict[int, subprocess.Popen[bytes]] = {}
        # A deploys the contracts (and writes the manifest) before B starts.
        self.start_api("a")
        self.start_api("b")
        self.base = f"http://127.0.0.1:{self.lb_port}"
        cfg = workdir / "haproxy.cfg"
        cfg.write_text(HAPROXY_CFG.format(lb=self.lb_port, a=self.ports["a"], b=self.ports["b"]))
        self.haproxy = subprocess.Popen(
            ["haproxy", "-f", str(cfg), "-db"],
            stdout=subprocess.DEVNULL,
            stderr=(workdir / "haproxy.log").open("wb"),
        )
        _wait_http(f"{self.base}/livez")
        health = httpx.get(f"{self.base}/health", timeout=10).json()
        self.registry = health["contracts"]["AnchorRegistry"]["address"]
        self.chain_id = int(health["chain_id"])
        self.chain = make_chain(
            Settings(chain_backend="anvil", rpc_url=self.node.url), compile_contracts()
        )
        self.anchors = AnchorRegistryClient(self.chain, self.registry)
        for n in (1, 2):
            self.start_worker(n)

    def start_api(self, name: str) -> None:
        env = {
            "WAYMARK_CHAIN_BACKEND": "anvil",
            "WAYMARK_RPC_URL": self.node.url,
            "WAYMARK_DATABASE_URL": self.db_url,
            "WAYMARK_MIGRATE_ON_STARTUP": "false",
            "WAYMARK_ANCHOR_WORKER_ENABLED": "false",
            "WAYMARK_INDEXER_ENABLED": "true" if name == "a" else "false",
            "WAYMARK_INDEXER_INTERVAL_SECONDS": "0.5",
            "WAYMARK_RPC_TIMEOUT_SECONDS": "5",
        }
        self.apis[name], _ = serve(env, port=self.ports[name], proxied=True)

    def start_worker(self, n: int) -> None:
        self.workers[n] = run_worker(self.node.url, self.db_url, self.registry, extra=WORKER_ENV)

    def kill_api(self, name: str) -> None:
        self.apis[name].send_signal(signal.SIGKILL)
        self.apis[name].wait(timeout=10)

    def kill_worker(self, n: int) -> None:
        self.workers[n].send_signal(signal.SIGKILL)
        self.workers[n].wait(timeout=10)

    def close(self) -> None:
        for proc in [*self.workers.values(), *self.apis.values()]:
            stop(proc)
        if self.haproxy.poll() is None:
            self.haproxy.terminate()
            self.haproxy.wait(timeout=10)
        self.node.stop()


def _wait_http(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:g} s")


def _seller_session(base: str, slug: str, admin: dict[str, str]) -> str:
    key = httpx.post(
        f"{base}/v1/orgs/{slug}/api-keys", json={"scopes": ["seller"]}, headers=admin, timeout=30
    )
    key.raise_for_status()
    resp = httpx.post(
        f"{base}/dashboard/login",
        content=f"api_key={key.json()['key']}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=30,
    )
    if resp.status_code != 303:
        raise RuntimeError(f"sign-in failed: {resp.status_code} {resp.text[:200]}")
    return str(resp.cookies["waymark_session"])


def _wrk(
    base: str,
    workdir: Path,
    lines: list[str],
    *,
    auth: str,
    cookie: str,
    duration: int,
    connections: int,
) -> dict[str, Any]:
    threads = 2
    data = workdir / "mix.txt"
    data.write_text("\n".join(lines) + "\n")
    script = workdir / "mix.lua"
    script.write_text(LUA)
    cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s"]
    cmd += ["--timeout", "30s", "-s", str(script), base, "--", str(data), str(threads)]
    cmd += [auth, cookie]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    samples = [
        x.removeprefix("WRK_SAMPLE ") for x in out.splitlines() if x.startswith("WRK_SAMPLE ")
    ]
    for sample in samples:
        print(f"wrk: unexpected answer {sample}", flush=True)
    line = next(x for x in out.splitlines() if x.startswith("WRK_JSON "))
    result = dict(json.loads(line.removeprefix("WRK_JSON ")))
    result["samples"] = samples
    return result


def _drain(cluster: Cluster, timeout: float = 180.0) -> float:
    engine = create_engine(cluster.db_url)
    started = time.monotonic()
    try:
        while time.monotonic() - started < timeout:
            with engine.connect() as conn:
                events = conn.scalar(
                    text(
                        "SELECT count(*) FROM supply_events e "
                        "LEFT JOIN event_proofs p ON p.event_id = e.id "
                        "LEFT JOIN anchor_batches b ON b.id = p.batch_id "
                        "WHERE COALESCE(b.status, '') != 'final'"
                    )
                )
                relays = conn.scalar(
                    text(
                        "SELECT count(*) FROM relay_requests "
                        "WHERE status NOT IN ('final', 'failed')"
                    )
                )
            if not events and not relays:
                return time.monotonic() - started
            time.sleep(0.5)
    finally:
        engine.dispose()
    return -1.0


def _check(cluster: Cluster, accepted: list[str], fig: Figures) -> None:
    engine = create_engine(cluster.db_url)
    with engine.connect() as conn:
        stored = {
            d
            for (d,) in conn.execute(
                text(
                    "SELECT e.digest FROM supply_events e JOIN event_proofs p ON p.event_id = e.id "
                    "JOIN anchor_batches b ON b.id = p.batch_id WHERE b.status = 'final'"
                )
            ).all()
        }
        fig.stored = int(conn.scalar(text("SELECT count(*) FROM supply_events")) or 0)
        live = conn.execute(
            text(
                "SELECT e.digest, count(*) FROM event_proofs p "
                "JOIN anchor_batches b ON b.id = p.batch_id "
                "JOIN supply_events e ON e.id = p.event_id "
                "WHERE b.status IN ('anchored', 'final') GROUP BY e.digest"
            )
        ).all()
        relays = conn.execute(
            text("SELECT id, status, tx_hash, block_hash, purpose, last_error FROM relay_requests")
        ).all()
        sent = conn.execute(text("SELECT relay_id, nonce, tx_hash FROM sent_transactions")).all()
    engine.dispose()
    in_batches = dict(live)
    fig.accepted = len(accepted)
    fig.lost = sum(1 for d in accepted if d not in stored or in_batches.get(d, 0) == 0)
    fig.anchored_twice = sum(1 for n in in_batches.values() if n > 1)
    logs = cluster.chain.get_logs([cluster.registry], 0, cluster.chain.block_number())
    roots = ["0x" + bytes(ev.args["root"]).hex() for ev in logs if ev.name == "Anchored"]
    fig.roots_on_chain = len(roots)
    fig.roots_anchored_twice = len(roots) - len(set(roots))
    hashes: dict[int, list[str]] = {}
    owners: dict[int, set[int]] = {}
    for relay_id, nonce, tx_hash in sent:
        hashes.setdefault(relay_id, []).append(tx_hash)
        owners.setdefault(int(nonce), set()).add(relay_id)
    fig.nonce_clashes = sum(1 for ids in owners.values() if len(ids) > 1)
    fig.replacements = sum(len(h) - 1 for h in hashes.values())
    fig.relays = len(relays)
    for relay_id, status, tx_hash, block_hash, purpose, last_error in relays:
        if status == "final":
            rcpt = cluster.chain.receipt(tx_hash) if tx_hash else None
            if rcpt is None or rcpt.status != 1 or rcpt.block_hash != block_hash:
                fig.relays_misreported += 1
        elif status == "failed":
            # Every write of the drill can land (the organisation, its key, the
            # anchors of fresh roots): a failed one is misreported, with or
            # without a status-1 receipt of one of its hashes.
            fig.relays_misreported += 1
            fig.notes.append(f"relay {relay_id} ({purpose}) failed: {last_error}")
        else:
            fig.relays_unsettled += 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=60, help="seconds of wrk load")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--restart-after", type=float, default=3.0)
    parser.add_argument(
        "--no-kill", action="store_true", help="the same load without killing anything"
    )
    args = parser.parse_args()
    for tool in ("wrk", "haproxy"):
        if shutil.which(tool) is None:
            print(f"{tool} is not installed (apt-get install {tool}; see .ci/run)", file=sys.stderr)
            return 2
    workdir = Path(tempfile.mkdtemp(prefix="waymark-replicas-"))
    pg_base = os.environ.get("WAYMARK_TEST_DATABASE_URL")
    pg_name = None
    if pg_base:
        pg_name, db_url = fresh_postgres(pg_base)
        db_label = "PostgreSQL"
    else:
        db_url, db_label = f"sqlite:///{workdir}/replicas.sqlite3", "SQLite"
    # The manifest of a previous anvil run (same chain id) must not be taken for this one's.
    manifest = ROOT / "deployments" / "31337.json"
    manifest.unlink(missing_ok=True)
    fig = Figures()
    started = time.monotonic()
    cluster = Cluster(workdir, db_url)
    try:
        signer = EventSigner(cluster.chain_id, cluster.registry)
        http = httpx.Client(base_url=cluster.base, timeout=60)
        org = make_org(http, "replicas", signer.address)
        cookie = _seller_session(cluster.base, "replicas", org.admin)
        headers = {**org.writer, "Content-Type": "application/json"}
        # Seed events with proofs for the page requests.
        seed_body, seed = signer.batch_body(64)
        http.post("/v1/events/batch", content=seed_body, headers=headers).raise_for_status()
        deadline = time.monotonic() + 90
        while not all(http.get(f"/v1/proofs/{d}").json().get("on_chain") for d in seed[:4]):
            if time.monotonic() > deadline:
                raise RuntimeError("seed events were not anchored within 90 s")
            time.sleep(0.5)
        lines = []
        for i in range(600):
            body, _ = signer.batch_body(8)
            lines.append(f"ingest\t/v1/events/batch\t{body.decode()}")
            lines.append(f"page\t/v1/proofs/{seed[i % len(seed)]}")
            lines.append("dashboard\t/dashboard")
        poster = Poster(cluster.base, headers, signer)
        poster.start()
        result: dict[str, Any] = {}
        load = threading.Thread(
            target=lambda: result.update(
                _wrk(
                    cluster.base,
                    workdir,
                    lines,
                    auth=org.writer["Authorization"],
                    cookie=cookie,
                    duration=args.duration,
                    connections=args.connections,
                )
            )
        )
        load.start()
        load_started = time.monotonic()
        loads = [os.getloadavg()[0]]
        time.sleep(args.duration / 3)
        killed_at = time.monotonic() - load_started
        if not args.no_kill:
            cluster.kill_api("a")
            cluster.kill_worker(1)
            time.sleep(args.restart_after)
            cluster.start_api("a")
            cluster.start_worker(1)
        while load.is_alive():  # the machine is shared: its load goes next to the figures
            loads.append(os.getloadavg()[0])
            load.join(timeout=1.0)
        loads.append(os.getloadavg()[0])
        accepted = poster.finish()
        fig.wrk = result
        fig.poster_5xx, fig.poster_other = poster.s5xx, poster.other
        if poster.sample:
            fig.notes.append(f"unexpected answer (last of the poster): {poster.sample}")
        fig.poster_transport = poster.transport
        # At most one request per wrk connection and one of the poster is in flight on A.
        fig.allowed_5xx = args.connections + 1
        fig.drained_s = _drain(cluster)
        _check(cluster, seed + accepted, fig)
        fig.notes += [
            "nothing killed (--no-kill)"
            if args.no_kill
            else f"API A and worker 1 killed with SIGKILL {killed_at:.0f} s into the load, "
            f"restarted {args.restart_after:g} s later",
            f"{db_label}; wrk {args.connections} connections for {args.duration} s",
            f"load average (1 min) during the load: {loads[0]:.1f} at the start, "
            f"{max(loads):.1f} at most, {loads[-1]:.1f} at the end",
        ]
    finally:
        cluster.close()
        if pg_base and pg_name:
            drop_postgres(pg_base, pg_name)
        shutil.rmtree(workdir, ignore_errors=True)
    took = time.monotonic() - started
    return _report(fig, took)


def _report(fig: Figures, took: float) -> int:
    w = fig.wrk
    seconds = w.get("duration_us", 0) / 1e6 or 1.0
    rows = [
        Row("accepted events lost", fig.lost, "events", fig.accepted, "accepted", "0"),
        Row(
            "events / roots anchored twice",
            fig.anchored_twice + fig.roots_anchored_twice,
            "",
            fig.roots_on_chain,
            "roots on chain",
            "0",
        ),
        Row(
            "relays misreported or unsettled",
            fig.relays_misreported + fig.relays_unsettled,
            "",
            fig.relays,
            "relay requests",
            "0",
        ),
        Row("nonce clashes", fig.nonce_clashes, "", fig.replacements, "fee replacements", "0"),
        Row(
            "dashboard answers not 200 (sessions lost)",
            w.get("dash_bad", 0),
            "",
            w.get("dash_ok", 0),
            "dashboard 200s",
            "0",
        ),
        Row(
            "5xx answers",
            w.get("s5xx", 0) + fig.poster_5xx,
            "",
            fig.allowed_5xx,
            "requests that can be in flight on the killed API",
            "≤ in flight",
        ),
        Row(
            "connections cut mid-request (wrk read errors, poster transport errors)",
            w.get("socket_errors", 0) + fig.poster_transport,
            "",
        ),
        Row("wrk requests through HAProxy", w.get("requests", 0) / seconds, "req/s"),
        Row("drained after the load", fig.drained_s, "s"),
    ]
    publish("replicas", f"Replica drill ({took:.0f} s)", rows)
    fig.notes += [
        f"wrk: {w.get('requests', 0)} requests, {w.get('ingest_ok', 0)} ingest / "
        f"{w.get('pages_ok', 0)} page / {w.get('dash_ok', 0)} dashboard 200s, "
        f"{w.get('socket_errors', 0)} socket errors (connect {w.get('connect', 0)}, "
        f"read {w.get('read', 0)}, write {w.get('write', 0)}, timeout {w.get('timeout', 0)}), "
        f"p99 {w.get('p99_us', 0) / 1000:.0f} ms",
        f"stored events {fig.stored} (wrk ingest included); accepted by the poster and the "
        f"seed {fig.accepted}",
    ]
    fig.notes += [f"unexpected answer (last per wrk thread): {x}" for x in w.get("samples", [])]
    problems = fig.violations
    fig.notes.append("result: " + ("FAIL: " + "; ".join(problems) if problems else "ok"))
    for note in fig.notes:
        print(f"- {note}")
    NOTES.write_text("".join(f"- {n}\n" for n in fig.notes) + "\n")
    if problems:
        print("FAIL: " + "; ".join(problems), file=sys.stderr)
        return 1
    print("replica drill passed")
    return 0


NOTES = Path(__file__).resolve().parent / "results" / "replicas.md"

if __name__ == "__main__":
    raise SystemExit(main())
