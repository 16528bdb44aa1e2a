"""Fault drills: the anchoring pipeline under worker crashes, a node outage and a reorg.

Everything runs on loopback: anvil, the API under uvicorn (SQLite, in-process
indexer on, in-process anchoring worker off) and ``scripts/anchor_worker.py``
as its own process. A poster thread sends signed events through
``POST /v1/events/batch`` the whole time a drill runs.

* ``kill``: the worker is killed with SIGKILL at a random moment after it
  starts (``--kills`` trials, default 20), then restarted.
* ``outage``: anvil is frozen with SIGSTOP for ``--outage`` seconds (default
  30) while events flow, then resumed.
* ``reorg``: the last 3 blocks, holding anchor transactions the indexer has
  seen, are replaced by a longer fork without them (snapshot at head - 3,
  revert, mine 4). The worker process is restarted with the revert: dropped
  transactions leave the node with the reverted blocks, so its cached nonce
  must be re-read (a real reorg puts them back in the mempool instead).

After each drill, once the backlog drains, every accepted event must be in
exactly one live (anchored or final) batch, every live root anchored once on
chain, and every event's stored proof accepted by ``AnchorRegistry.verify`` on
chain. Counts are printed and published; exit status 1 on any violation.

    .venv/bin/python bench/drills.py                       # all three, ~4 min
    .venv/bin/python bench/drills.py --only kill --kills 5 --outage 5
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from sqlalchemy import Engine, create_engine, text

from backend.chain import AnchorRegistryClient, ChainClient, make_chain
from backend.chain.anvil import AnvilNode, start_anvil
from backend.chain.compiler import compile_contracts
from backend.config import Settings
from bench.common import Row, publish
from bench.support import EventSigner, make_org, run_worker, serve, stop

WORKER_ENV = {
    "WAYMARK_ANCHOR_INTERVAL_SECONDS": "0.1",
    "WAYMARK_ANCHOR_BATCH_SIZE": "64",
    "WAYMARK_LEASE_SECONDS": "1",
    "WAYMARK_RPC_TIMEOUT_SECONDS": "2",
    "WAYMARK_STUCK_AFTER_SECONDS": "5",
}


@dataclass
class Counts:
    drill: str
    accepted: int = 0
    anchored: int = 0
    roots: int = 0
    duplicates: int = 0
    unverifiable: int = 0
    missing: int = 0
    orphaned_batches: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            self.accepted > 0
            and self.anchored == self.accepted
            and self.duplicates == 0
            and self.unverifiable == 0
            and self.missing == 0
        )


class Poster(threading.Thread):
    """Posts a fresh signed batch every ``interval`` seconds until stopped."""

    def __init__(self, base: str, headers: dict[str, str], signer: EventSigner) -> None:
        super().__init__(daemon=True)
        self.base, self.headers, self.signer = base, headers, signer
        self.accepted: list[str] = []
        self.failures = 0
        self.halt = threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.base, timeout=60) as client:
            while not self.halt.is_set():
                body, digests = self.signer.batch_body(8)
                try:
                    resp = client.post("/v1/events/batch", content=body, headers=self.headers)
                    out = resp.json()
                    if resp.status_code != 200 or out["rejected"]:
                        self.failures += 1
                    else:
                        self.accepted += digests
                except httpx.HTTPError:
                    self.failures += 1
                self.halt.wait(0.05)

    def finish(self) -> list[str]:
        self.halt.set()
        self.join(timeout=60)
        return self.accepted


class Rig:
    """anvil + API server + worker process + the database, for one drill at a time."""

    def __init__(self, node: AnvilNode, workdir: Path) -> None:
        self.node = node
        self.db_url = f"sqlite:///{workdir}/drills.sqlite3"
        self.proc, self.base = serve(
            {
                "WAYMARK_CHAIN_BACKEND": "anvil",
                "WAYMARK_RPC_URL": node.url,
                "WAYMARK_DATABASE_URL": self.db_url,
                "WAYMARK_ANCHOR_WORKER_ENABLED": "false",
                "WAYMARK_INDEXER_ENABLED": "true",
                "WAYMARK_INDEXER_INTERVAL_SECONDS": "0.2",
                "WAYMARK_RPC_TIMEOUT_SECONDS": "2",
            }
        )
        self.http = httpx.Client(base_url=self.base, timeout=60)
        health = self.http.get("/health").json()
        self.registry = health["contracts"]["AnchorRegistry"]["address"]
        self.signer = EventSigner(health["chain_id"], self.registry)
        org = make_org(self.http, "drills", self.signer.address)
        self.headers = {**org.writer, "Content-Type": "application/json"}
        self.chain: ChainClient = make_chain(
            Settings(chain_backend="anvil", rpc_url=node.url), compile_contracts()
        )
        self.anchors = AnchorRegistryClient(self.chain, self.registry)
        self.engine: Engine = create_engine(self.db_url)
        self.worker: subprocess.Popen[bytes] | None = None

    def start_worker(self, *, wait: bool = True) -> subprocess.Popen[bytes]:
        """Start the worker process; with ``wait``, return once it is anchoring."""
        self.worker = run_worker(
            self.node.url, self.db_url, self.registry, extra=WORKER_ENV, stdout=subprocess.PIPE
        )
        if wait:
            wait_ready(self.worker)
        return self.worker

    def worker_died(self) -> int | None:
        """The exit code if the current worker process ended on its own."""
        return self.worker.poll() if self.worker is not None else None

    def kill_worker(self) -> None:
        if self.worker is not None and self.worker.poll() is None:
            self.worker.send_signal(signal.SIGKILL)
            self.worker.wait(timeout=10)
        self.worker = None

    def poster(self) -> Poster:
        p = Poster(self.base, self.headers, self.signer)
        p.start()
        return p

    def close(self) -> None:
        self.kill_worker()
        self.http.close()
        stop(self.proc)
        self.engine.dispose()

    # -- checks ------------------------------------------------------------

    def _live(self) -> tuple[dict[str, list[tuple[str, str, list[str]]]], dict[str, int]]:
        """digest → [(root, leaf, proof)] over live batches; root → live batch count."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT e.digest, b.root, p.leaf, p.proof FROM event_proofs p "
                    "JOIN anchor_batches b ON b.id = p.batch_id "
                    "JOIN supply_events e ON e.id = p.event_id "
                    "WHERE b.status IN ('anchored', 'final')"
                )
            ).all()
            roots = conn.execute(
                text(
                    "SELECT root, count(*) FROM anchor_batches "
                    "WHERE status IN ('anchored', 'final') GROUP BY root"
                )
            ).all()
        out: dict[str, list[tuple[str, str, list[str]]]] = {}
        for digest, root, leaf, proof in rows:
            out.setdefault(digest, []).append((root, leaf, json.loads(proof)))
        return out, {r: n for r, n in roots}

    def drained(self, digests: list[str]) -> bool:
        with self.engine.connect() as conn:
            left = conn.scalar(
                text(
                    "SELECT count(*) FROM supply_events e LEFT JOIN event_proofs p ON p.event_id = e.id "
                    "LEFT JOIN anchor_batches b ON b.id = p.batch_id "
                    "WHERE COALESCE(b.status, '') != 'final'"
                )
            )
        if left:
            return False
        live, roots = self._live()
        if any(d not in live for d in digests):
            return False
        # The indexer may not have noticed a reorg yet: every live root must be on chain.
        return all(self.anchors.anchor_of(bytes.fromhex(r[2:])) is not None for r in roots)

    def wait_drained(self, digests: list[str], timeout: float = 120.0) -> float:
        started = time.monotonic()
        stable = 0
        while time.monotonic() - started < timeout:
            stable = stable + 1 if self.drained(digests) else 0
            if stable >= 3:  # three consecutive checks: the indexer has caught up
                return time.monotonic() - started
            time.sleep(0.5)
        return -1.0

    def check(self, drill: str, digests: list[str]) -> Counts:
        counts = Counts(drill, accepted=len(digests))
        live, roots = self._live()
        with self.engine.connect() as conn:
            counts.orphaned_batches = int(
                conn.scalar(text("SELECT count(*) FROM anchor_batches WHERE status = 'orphaned'"))
                or 0
            )
        counts.roots = len(roots)
        counts.duplicates = sum(1 for r, n in roots.items() if n > 1)
        on_chain_roots = {r for r in roots if self.anchors.anchor_of(bytes.fromhex(r[2:]))}
        for digest in digests:
            entries = live.get(digest, [])
            if not entries:
                counts.missing += 1
                continue
            if len(entries) > 1:
                counts.duplicates += 1
            counts.anchored += 1
            root, leaf, proof = entries[0]
            if root not in on_chain_roots or not self.anchors.verify(
                bytes.fromhex(root[2:]),
                bytes.fromhex(leaf[2:]),
                [bytes.fromhex(p[2:]) for p in proof],
            ):
                counts.unverifiable += 1
        return counts


def wait_ready(worker: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    """Block until the worker process printed its start line (it is anchoring)."""
    assert worker.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = worker.stdout.readline()
        if not line:
            raise RuntimeError(f"worker exited with {worker.poll()} before starting")
        if line.startswith(b"anchor worker "):
            return
    raise RuntimeError("worker did not start")


def drill_kill(rig: Rig, trials: int, rng: random.Random) -> Counts:
    poster = rig.poster()
    kills_mid_batch = 0
    for _ in range(trials):
        rig.start_worker()
        time.sleep(rng.uniform(0.0, 1.5))
        with rig.engine.connect() as conn:
            in_flight = conn.scalar(
                text("SELECT count(*) FROM relay_requests WHERE status IN ('queued', 'sent')")
            )
        kills_mid_batch += bool(in_flight)
        rig.kill_worker()
    digests = poster.finish()
    rig.start_worker()
    waited = rig.wait_drained(digests)
    rig.kill_worker()
    counts = rig.check("kill -9 worker", digests)
    counts.notes += [
        f"{trials} SIGKILLs, {kills_mid_batch} with an anchor queued or in flight",
        f"drained {waited:.1f} s after the last restart",
        f"poster failures: {poster.failures}",
    ]
    return counts


def drill_outage(rig: Rig, seconds: float) -> Counts:
    rig.start_worker()
    poster = rig.poster()
    time.sleep(2)
    rig.node.pause()
    try:
        time.sleep(seconds / 2)
        # A worker (re)started during the outage must wait it out, not exit.
        rig.kill_worker()
        rig.start_worker(wait=False)
        time.sleep(seconds / 2)
    finally:
        rig.node.resume()
    time.sleep(2)
    digests = poster.finish()
    waited = rig.wait_drained(digests)
    died = rig.worker_died()
    rig.kill_worker()
    counts = rig.check(f"anvil stopped {seconds:.0f} s", digests)
    counts.notes += [
        f"worker killed and restarted {seconds / 2:.0f} s into the outage",
        f"drained {waited:.1f} s after resuming",
        f"poster failures: {poster.failures}",
    ]
    if died is not None:
        counts.notes.append(f"VIOLATION: the worker exited with {died} during the drill")
    return counts


def drill_reorg(rig: Rig, depth: int = 3) -> Counts:
    chain = rig.chain
    rig.start_worker()
    poster = rig.poster()
    time.sleep(1.0)
    snaps: dict[int, object] = {}
    head0 = chain.block_number()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        head = chain.block_number()
        if head not in snaps:
            snap = chain.snapshot()
            if chain.block_number() == head:
                snaps[head] = snap
        if head >= head0 + depth + 1 and (head - depth) in snaps:
            break
        time.sleep(0.01)
    # Freeze the worker so the head stays put while the fork is built.
    assert rig.worker is not None
    rig.worker.send_signal(signal.SIGSTOP)
    head = chain.block_number()
    fork_base = max(b for b in snaps if b <= head - depth)
    time.sleep(1.0)  # the indexer sees (and stores hashes of) the blocks about to be dropped
    with rig.engine.connect() as conn:
        dropped = conn.scalar(
            text("SELECT count(*) FROM anchor_batches WHERE block_number > :b"),
            {"b": fork_base},
        )
    chain.revert(snaps[fork_base])
    chain.mine(head - fork_base + 1)
    rig.kill_worker()
    rig.start_worker()
    time.sleep(2)
    digests = poster.finish()
    waited = rig.wait_drained(digests)
    died = rig.worker_died()
    rig.kill_worker()
    counts = rig.check(f"reorg depth {head - fork_base}", digests)
    if died is not None:
        counts.notes.append(f"VIOLATION: the worker exited with {died} during the drill")
    counts.notes += [
        f"{dropped} anchored batches in the dropped blocks",
        f"drained {waited:.1f} s after the fork",
        f"poster failures: {poster.failures}",
    ]
    if not dropped:
        counts.notes.append("VIOLATION: the dropped blocks held no anchor, nothing was tested")
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="kill,outage,reorg")
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--outage", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    rng = random.Random(seed)
    wanted = args.only.split(",")
    results: list[Counts] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="waymark-drills-") as tmp:
        node = start_anvil()
        rig = Rig(node, Path(tmp))
        try:
            if "kill" in wanted:
                results.append(drill_kill(rig, args.kills, rng))
            if "outage" in wanted:
                results.append(drill_outage(rig, args.outage))
            if "reorg" in wanted:
                results.append(drill_reorg(rig))
        finally:
            rig.close()
            node.stop()
    took = time.monotonic() - started
    header = (
        "| drill | accepted | anchored | roots | duplicates | unverifiable | missing "
        "| orphaned batches | result |\n|---|---|---|---|---|---|---|---|---|\n"
    )
    lines = [
        f"| {c.drill} | {c.accepted} | {c.anchored} | {c.roots} | {c.duplicates} "
        f"| {c.unverifiable} | {c.missing} | {c.orphaned_batches} | "
        f"{'ok' if c.ok and not any('VIOLATION' in n for n in c.notes) else 'FAIL'} |"
        for c in results
    ]
    print(f"## Fault drills (seed {seed}, {took:.0f} s)\n\n" + header + "\n".join(lines))
    for c in results:
        for note in c.notes:
            print(f"- {c.drill}: {note}")
    rows = []
    for c in results:
        rows += [
            Row(
                f"{c.drill}: anchored and verified on chain",
                c.anchored - c.unverifiable,
                "events",
                c.accepted,
                "accepted",
                "= accepted",
            ),
            Row(
                f"{c.drill}: duplicates / unverifiable / missing",
                c.duplicates + c.unverifiable + c.missing,
                "",
                0,
                "required",
                "0",
            ),
            Row(
                f"{c.drill}: live roots so far",
                c.roots,
                "roots",
                c.orphaned_batches,
                "orphaned batches",
            ),
        ]
    publish("drills", f"Fault drills ({took:.0f} s, seed {seed})", rows)
    # The plain counts table, for bench/REPORT.md.
    RESULTS_TABLE.write_text(
        header
        + "\n".join(lines)
        + "\n"
        + "".join(f"\n- {c.drill}: {n}" for c in results for n in c.notes)
        + "\n"
    )
    failed = [c for c in results if not c.ok or any("VIOLATION" in n for n in c.notes)]
    if failed:
        print(f"FAIL: {', '.join(c.drill for c in failed)}", file=sys.stderr)
        return 1
    return 0


RESULTS_TABLE = Path(__file__).resolve().parent / "results" / "drills.md"

if __name__ == "__main__":
    os.environ.pop("WAYMARK_FAULT", None)
    raise SystemExit(main())
