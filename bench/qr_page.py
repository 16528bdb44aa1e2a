"""Consumer pages and proofs at a million items: ``wrk -c64 -t2 --latency``, a random
item (or event) per request, next to ``/livez`` measured in the same server and run.

For each database (SQLite, and PostgreSQL when ``WAYMARK_BENCH_DATABASE_URL`` or
``WAYMARK_TEST_DATABASE_URL`` is set; ``BENCH_BACKENDS`` narrows the list):

1. **Fill** ``BENCH_ITEMS`` (default 1,000,000) item passports straight into the
   read-model tables (``passports``, ``passport_versions``; ``BENCH_LOTS`` lots,
   default 1,000, one stored document per lot) and ``BENCH_EVENTS`` (default the same) anchored supply events:
   1,000 real Merkle batches, every proof verified as the indexer records it. Event
   signatures are filler (the proof endpoint serves them, it does not check them).
2. **Stored pages**: the server computes the real page of one item per lot and of
   ``CHECKS`` random items (a scan of a marked page computes and stores it); every
   other item's page is derived from its lot's page by substituting its serial and
   passport id, and the run stops unless every derived check page equals, byte for
   byte, the one the server computed. This is what lets a million pages be filled in
   minutes instead of rendering each.
3. **Measure** ``/livez``, a random item's page (with ``Accept-Encoding: gzip``, as
   phones send it), and ``GET /v1/proofs/{eventId}`` of a random event.

uvicorn runs as in production: ``--workers 2`` (one per core), uvloop, httptools,
no access log. Fill times, storage per item and the load average are printed with
the figures: other work shares the 2 cores.
"""

from __future__ import annotations

import copy
import gzip
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from sha3 import keccak_256
from sqlalchemy import Engine, bindparam, create_engine, insert, select, text
from sqlalchemy.engine import make_url

from backend.anchoring import merkle
from backend.anchoring.models import AnchorBatch, EventProof
from backend.common.http import etag_of
from backend.db import migrate
from backend.db.base import utcnow
from backend.db.engine import make_engine
from backend.events.models import SupplyEvent
from backend.orgs.models import Organisation
from backend.pages.models import PassportPage
from backend.passports.canonical import document_hash
from backend.passports.models import Passport, PassportDocumentRecord, PassportVersion
from bench.common import RESULTS, ROOT, Row, publish, start_app

ITEMS = int(os.environ.get("BENCH_ITEMS", "1000000"))
EVENTS = int(os.environ.get("BENCH_EVENTS", str(ITEMS)))
LOTS = int(os.environ.get("BENCH_LOTS", "1000"))
BATCH = 1000  # events per anchored batch
CHECKS = 20
DURATION = os.environ.get("BENCH_DURATION", "20s")
GTIN = "08936045870013"
SAMPLE = ROOT / "backend" / "passports" / "samples" / "bamboo_tableware.json"
CHUNK = 20_000
ISSUER = "0x1aD91ee08f21bE3dE0BA2ba6918E714dA6B45836"
TX = "0x" + "11" * 32


def lot_of(n: int) -> str:
    return f"L{n % LOTS:03d}"


def serial_of(n: int) -> str:
    return f"S{n:07d}"


def item_path(n: int) -> str:
    return f"/01/{GTIN}/10/{lot_of(n)}/21/{serial_of(n)}"


def pid_of(n: int) -> str:
    return "0x" + keccak_256(item_path(n).encode()).hexdigest()


def event_id_of(n: int) -> str:
    return f"0x{n:064x}"


def fill_passports(engine: Engine) -> int:
    """The organisation, one document per lot, ``ITEMS`` passports; the organisation id."""
    sample = json.loads(SAMPLE.read_text())
    docs: dict[str, str] = {}
    with engine.begin() as conn:
        org_id = conn.execute(
            insert(Organisation)
            .values(slug="bench-brand", name="Bench Brand")
            .returning(Organisation.id)
        ).scalar_one()
        for lot in range(LOTS):
            doc = copy.deepcopy(sample)
            doc["identity"]["lot"] = f"L{lot:03d}"
            digest = "0x" + document_hash(doc).hex()
            docs[doc["identity"]["lot"]] = digest
            conn.execute(
                insert(PassportDocumentRecord).values(
                    document_hash=digest,
                    passport_id="0x" + keccak_256(f"/01/{GTIN}/10/L{lot:03d}".encode()).hexdigest(),
                    org_id=org_id,
                    document=doc,
                )
            )
    for start in range(0, ITEMS, CHUNK):
        heads, versions = [], []
        for n in range(start, min(ITEMS, start + CHUNK)):
            pid, lot = pid_of(n), lot_of(n)
            block = 100 + n % LOTS  # one issuing block per lot
            heads.append(
                {
                    "id": pid,
                    "issuer": ISSUER,
                    "gtin": GTIN,
                    "lot": lot,
                    "serial": serial_of(n),
                    "version": 1,
                    "status": "active",
                    "reason_code": None,
                    "reason": None,
                    "block_number": block,
                    "tx_hash": TX,
                    "log_index": n % 1000,
                }
            )
            versions.append(
                {
                    "passport_id": pid,
                    "version": 1,
                    "document_hash": docs[lot],
                    "uri": "https://brand.example/p.json",
                    "origin_country": "VN",
                    "recycled_content_bps": 0,
                    "carbon_grams_co2e": 5213,
                    "water_litres": 555,
                    "block_number": block,
                    "tx_hash": TX,
                    "log_index": n % 1000,
                }
            )
        with engine.begin() as conn:
            conn.execute(insert(Passport), heads)
            conn.execute(insert(PassportVersion), versions)
    return int(org_id)


def _marked(n: int) -> dict[str, object]:
    return {
        "passport_id": pid_of(n),
        "path": item_path(n),
        "generation": 1,
        "source_block": 0,
        "stale": True,
    }


def fill_pages(engine: Engine, base: str) -> None:
    """Real pages of one item per lot and of the check items; derived pages of the rest."""
    rng = random.Random(7)
    checks = sorted(rng.sample(range(LOTS, ITEMS), min(CHECKS, max(0, ITEMS - LOTS))))
    computed = list(range(min(LOTS, ITEMS))) + checks
    with engine.begin() as conn:
        conn.execute(insert(PassportPage), [_marked(n) for n in computed])
    with httpx.Client(base_url=base, timeout=60) as client:
        for n in computed:  # the server finds the page marked, computes and stores it
            resp = client.get(item_path(n))
            resp.raise_for_status()
    with engine.connect() as conn:
        rows = dict(
            conn.execute(
                select(PassportPage.passport_id, PassportPage.body).where(
                    PassportPage.passport_id.in_([pid_of(n) for n in computed])
                )
            ).all()
        )
    real = {n: gzip.decompress(rows[pid_of(n)]).decode() for n in computed}

    def derived(n: int) -> str:
        t = n % LOTS
        return real[t].replace(pid_of(t), pid_of(n)).replace(serial_of(t), serial_of(n))

    for n in checks:
        if derived(n) != real[n]:
            raise SystemExit(f"derived page of item {n} differs from the computed one")
    skip = set(computed)
    now = utcnow()
    for start in range(0, ITEMS, CHUNK):
        batch = []
        for n in range(start, min(ITEMS, start + CHUNK)):
            if n in skip:
                continue
            html = derived(n).encode()
            batch.append(
                {
                    "passport_id": pid_of(n),
                    "path": item_path(n),
                    "generation": 1,
                    "source_block": 100 + n % LOTS,
                    "stale": False,
                    "body": gzip.compress(html, compresslevel=6, mtime=0),
                    "etag": "W/" + etag_of(html),
                    "expires_at": None,
                    "computed_at": now,
                }
            )
        if batch:
            with engine.begin() as conn:
                conn.execute(insert(PassportPage), batch)


def fill_events(engine: Engine, org_id: int) -> None:
    """``EVENTS`` final supply events in batches of ``BATCH``, each a real Merkle tree."""
    now = utcnow()
    for b, start in enumerate(range(0, EVENTS, BATCH)):
        ns = range(start, min(EVENTS, start + BATCH))
        digests = {n: keccak_256(b"bench-event-%d" % n).digest() for n in ns}
        leaves = {n: merkle.leaf_hash(d) for n, d in digests.items()}
        tree = merkle.build(list(leaves.values()))
        proofs = tree.proofs()
        block = 10_000 + b
        batch_id = b + 1  # ids given, so the inserts need no RETURNING
        with engine.begin() as conn:
            conn.execute(
                insert(AnchorBatch).values(
                    id=batch_id,
                    root="0x" + tree.root.hex(),
                    leaf_count=len(leaves),
                    status="final",
                    tx_hash="0x" + keccak_256(b"tx-%d" % b).hexdigest(),
                    block_number=block,
                    block_hash="0x" + keccak_256(b"block-%d" % b).hexdigest(),
                    created_at=now,
                    anchored_at=now,
                    final_at=now,
                )
            )
            conn.execute(
                insert(SupplyEvent),
                [
                    {
                        "id": n + 1,
                        "org_id": org_id,
                        "digest": "0x" + digests[n].hex(),
                        "event_id": event_id_of(n),
                        "subject": "0x" + keccak_256(b"subject-%d" % (n % 5000)).hexdigest(),
                        "kind": 1,
                        "occurred_at": 1_760_000_000 + n,
                        "location": "VNSGN",
                        "payload_hash": "0x" + "22" * 32,
                        "signer": ISSUER,
                        "signer_key_id": None,
                        "signature": "0x" + "33" * 65,
                        "received_at": now,
                        "status": "final",
                        "batch_id": batch_id,
                    }
                    for n in ns
                ],
            )
            conn.execute(
                insert(EventProof),
                [
                    {
                        "id": n + 1,
                        "event_id": n + 1,
                        "epcis_event_id": None,
                        "batch_id": batch_id,
                        "leaf": "0x" + leaves[n].hex(),
                        "proof": json.dumps(["0x" + p.hex() for p in proofs[leaves[n]]]),
                        "verified_block": block,
                    }
                    for n in ns
                ],
            )


def database(backend: str) -> tuple[str, str | None]:
    """(URL of a fresh migrated database, PostgreSQL admin URL to drop it or None)."""
    if backend == "postgresql":
        base = (
            os.environ.get("WAYMARK_BENCH_DATABASE_URL") or os.environ["WAYMARK_TEST_DATABASE_URL"]
        )
        name = f"qr_page_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = make_url(base).set(database=name).render_as_string(hide_password=False)
    else:
        base = None
        url = f"sqlite:///{tempfile.mkdtemp(prefix='waymark-bench-')}/qr.sqlite3"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url, base


def drop(url: str, admin_url: str | None) -> None:
    if admin_url is None:
        shutil.rmtree(Path(make_url(url).database or "").parent, ignore_errors=True)
        return
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def size_of(engine: Engine, tables: tuple[str, ...]) -> int:
    """Bytes the tables (with their indexes) take on disk."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            return sum(
                int(conn.execute(text("SELECT pg_total_relation_size(:t)"), {"t": t}).scalar_one())
                for t in tables
            )
        query = text(
            "SELECT COALESCE(SUM(pgsize), 0) FROM dbstat WHERE name IN "
            "(SELECT name FROM sqlite_master WHERE tbl_name IN :tables)"
        ).bindparams(bindparam("tables", expanding=True))
        return int(conn.execute(query, {"tables": list(tables)}).scalar_one())


def serve(url: str) -> tuple[subprocess.Popen[bytes], str]:
    """uvicorn as in production: a worker per core, uvloop, httptools, no access log."""
    env = {
        "WAYMARK_CHAIN_BACKEND": "tester",
        "WAYMARK_DATABASE_URL": url,
        "WAYMARK_ANCHOR_WORKER_ENABLED": "false",
        "WAYMARK_INDEXER_ENABLED": "false",
        "WAYMARK_MIGRATE_ON_STARTUP": "false",
    }
    workers = os.environ.get("BENCH_WORKERS", "2")
    args = ("--workers", workers, "--loop", "uvloop", "--http", "httptools")
    return start_app(env, args=args, ready="/livez", timeout=120)


RANDOM_ITEMS_LUA = """
math.randomseed(os.time())
request = function()
  local n = math.random(0, %(items)d - 1)
  local path = string.format("/01/%(gtin)s/10/L%%03d/21/S%%07d", n %% %(lots)d, n)
  return wrk.format("GET", path, {["Accept-Encoding"] = "gzip"})
end
"""
RANDOM_PROOFS_LUA = """
math.randomseed(os.time() + 1)
request = function()
  local n = math.random(0, %(events)d - 1)
  return wrk.format("GET", string.format("/v1/proofs/0x%%064x", n))
end
"""


def wrk(url: str, script: Path | None = None) -> tuple[float, float, int]:
    """(requests/s, p99 latency in ms, requests over wrk's 2 s timeout) of one wrk run;
    a non-2xx answer or a connection error is an error, a slow answer is a figure."""
    cmd = ["wrk", "-c64", f"-d{DURATION}", "-t2", "--latency"]
    if script is not None:
        cmd += ["-s", str(script)]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if "Non-2xx" in out or (errors and any(int(n) for n in errors.groups()[:3])):
        raise RuntimeError(f"wrk saw errors:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"\s99%\s+([\d.]+)(us|ms|s)\b", out).groups()  # type: ignore[union-attr]
    p99 = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    return rps, p99, int(errors.group(4)) if errors else 0


def run(backend: str, scripts: Path) -> list[Row]:
    url, admin = database(backend)
    engine = make_engine(url)
    proc = None
    try:
        t0 = time.perf_counter()
        org_id = fill_passports(engine)
        t_passports = time.perf_counter() - t0
        proc, base = serve(url)
        t0 = time.perf_counter()
        fill_pages(engine, base)
        t_pages = time.perf_counter() - t0
        t0 = time.perf_counter()
        fill_events(engine, org_id)
        t_events = time.perf_counter() - t0
        if backend == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        passport_bytes = size_of(engine, ("passports", "passport_versions"))
        page_bytes = size_of(engine, ("passport_pages",))
        print(
            f"{backend}: filled {ITEMS:,} passports in {t_passports:.0f} s, their pages in "
            f"{t_pages:.0f} s, {EVENTS:,} anchored events in {t_events:.0f} s",
            flush=True,
        )
        for n in range(0, ITEMS, max(1, ITEMS // 50)):  # a few requests before measuring
            httpx.get(base + item_path(n), timeout=30).raise_for_status()
        live = wrk(f"{base}/livez")
        page = wrk(base + "/", scripts / "items.lua")
        proof = wrk(base + "/", scripts / "proofs.lua")
        load = os.getloadavg()
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
        engine.dispose()
        drop(url, admin)
    name = "PostgreSQL" if backend == "postgresql" else "SQLite"
    items = f"{ITEMS:,} items, {name}"
    return [
        Row(f"{name}: fill {ITEMS:,} passports (bulk insert)", t_passports, "s", target=""),
        Row(f"{name}: fill their stored pages (derived, checked)", t_pages, "s", target=""),
        Row(f"{name}: fill {EVENTS:,} anchored events + proofs", t_events, "s", target=""),
        Row(f"{name}: /livez (baseline)", live[0], "req/s", target=""),
        Row(
            f"{name}: QR page, random item of {items}",
            page[0],
            "req/s",
            live[0],
            "/livez req/s",
            "≥ 3,000 req/s and ≥ 0.25 × /livez",
        ),
        Row(
            f"{name}: QR page p99, random item", page[1], "ms", live[1], "/livez p99 ms", "≤ 50 ms"
        ),
        Row(f"{name}: QR page requests over 2 s", page[2], "", live[2], "/livez", "0"),
        Row(
            f"{name}: GET /v1/proofs, random event of {EVENTS:,}",
            proof[0],
            "req/s",
            live[0],
            "/livez req/s",
            "≥ 3,000 req/s",
        ),
        Row(
            f"{name}: proofs p99, random event", proof[1], "ms", live[1], "/livez p99 ms", "≤ 50 ms"
        ),
        Row(f"{name}: proof requests over 2 s", proof[2], "", live[2], "/livez", "0"),
        Row(f"{name}: storage, passport rows per item", passport_bytes / ITEMS, "bytes", target=""),
        Row(
            f"{name}: storage, stored page per item (gzip)", page_bytes / ITEMS, "bytes", target=""
        ),
        Row(f"{name}: load average (1 min) at the end", load[0], "", target=""),
    ]


def main() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    have_pg = bool(
        os.environ.get("WAYMARK_BENCH_DATABASE_URL") or os.environ.get("WAYMARK_TEST_DATABASE_URL")
    )
    wanted = os.environ.get("BENCH_BACKENDS", "sqlite,postgresql").split(",")
    backends = [b for b in wanted if b == "sqlite" or (b == "postgresql" and have_pg)]
    scripts = Path(tempfile.mkdtemp())
    (scripts / "items.lua").write_text(
        RANDOM_ITEMS_LUA % {"items": ITEMS, "gtin": GTIN, "lots": LOTS}
    )
    (scripts / "proofs.lua").write_text(RANDOM_PROOFS_LUA % {"events": EVENTS})
    try:
        for backend in backends:
            # Published after each database, so one that fails keeps the other's rows.
            save(backend, run(backend, scripts))
    finally:
        shutil.rmtree(scripts, ignore_errors=True)


def save(backend: str, rows: list[Row]) -> None:
    """Publish ``rows`` with the other database's rows of an earlier run."""
    earlier = RESULTS / "qr_page.json"
    prefixes = ("SQLite:", "PostgreSQL:")
    ours = "PostgreSQL:" if backend == "postgresql" else "SQLite:"
    kept = []
    if earlier.exists():
        kept = [
            Row(**r)
            for r in json.loads(earlier.read_text()).get("rows", [])
            if r["metric"].startswith(prefixes) and not r["metric"].startswith(ours)
        ]
    publish(
        "qr_page",
        f"Consumer pages and proofs under wrk -c64 -t2 -d{DURATION}, a random item per "
        "request (uvicorn --workers 2, uvloop, httptools)",
        kept + rows,
    )


if __name__ == "__main__":
    main()
