"""Consumer page throughput: ``wrk -c64 -d20s -t2 --latency`` against the resolver.

The database holds ``BENCH_ITEMS`` (default 1,000,000) item passports, inserted
straight into the read-model tables (``passports``, ``passport_versions``;
1,000 lots, one stored document per lot, which every item of the lot's latest
version points to, as the indexer would record it). Indexes are the ones the
migrations create (primary key on the passport id, ``passport_id`` on versions,
attestations, manifest lines and ``subject`` on supply events), nothing added
for the bench.

uvicorn runs as in production: ``--workers 2`` (one per core), uvloop,
httptools, no access log. Three runs in the same server, one after the other:

* ``/livez``: the app's smallest route (no database), the baseline;
* one item's page, the printed-code case: served from the page cache;
* a random item of the million per request (a Lua script picks the serial),
  so nearly every request misses the cache and resolves, queries and renders.

PostgreSQL is used when ``WAYMARK_BENCH_DATABASE_URL`` or
``WAYMARK_TEST_DATABASE_URL`` is set (a fresh database next to it), else SQLite
(a temporary file, or ``BENCH_SQLITE_PATH``: filled on the first run, reused and
kept afterwards, since inserting a million rows takes minutes).
The load average is printed with the figures: other work shares the 2 cores.
"""

from __future__ import annotations

import copy
import json
import os
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
from sqlalchemy import Engine, create_engine, insert, text
from sqlalchemy.engine import make_url

from backend.db import migrate
from backend.db.engine import make_engine
from backend.orgs.models import Organisation
from backend.passports.canonical import document_hash
from backend.passports.models import Passport, PassportDocumentRecord, PassportVersion
from bench.common import ROOT, Row, publish, start_app

ITEMS = int(os.environ.get("BENCH_ITEMS", "1000000"))
LOTS = 1000
DURATION = os.environ.get("BENCH_DURATION", "20s")
GTIN = "08936045870013"
SAMPLE = ROOT / "backend" / "passports" / "samples" / "bamboo_tableware.json"
CHUNK = 20_000
ISSUER = "0x1aD91ee08f21bE3dE0BA2ba6918E714dA6B45836"


def lot_of(n: int) -> str:
    return f"L{n % LOTS:03d}"


def serial_of(n: int) -> str:
    return f"S{n:07d}"


def item_path(n: int) -> str:
    return f"/01/{GTIN}/10/{lot_of(n)}/21/{serial_of(n)}"


def _hx(raw: bytes) -> str:
    return "0x" + raw.hex()


def populate(engine: Engine) -> None:
    """Insert the organisation, one document per lot and ``ITEMS`` passports with a version."""
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
            digest = _hx(document_hash(doc))
            docs[doc["identity"]["lot"]] = digest
            conn.execute(
                insert(PassportDocumentRecord).values(
                    document_hash=digest,
                    passport_id=_hx(keccak_256(f"/01/{GTIN}/10/L{lot:03d}".encode()).digest()),
                    org_id=org_id,
                    document=doc,
                )
            )
    tx = "0x" + "11" * 32
    for start in range(0, ITEMS, CHUNK):
        heads, versions = [], []
        for n in range(start, min(ITEMS, start + CHUNK)):
            pid = _hx(keccak_256(item_path(n).encode()).digest())
            heads.append(
                {
                    "id": pid,
                    "issuer": ISSUER,
                    "gtin": GTIN,
                    "lot": lot_of(n),
                    "serial": serial_of(n),
                    "version": 1,
                    "status": "active",
                    "reason_code": None,
                    "reason": None,
                    "block_number": 100 + n // 1000,
                    "tx_hash": tx,
                    "log_index": n % 1000,
                }
            )
            versions.append(
                {
                    "passport_id": pid,
                    "version": 1,
                    "document_hash": docs[lot_of(n)],
                    "uri": "https://brand.example/p.json",
                    "origin_country": "VN",
                    "recycled_content_bps": 0,
                    "carbon_grams_co2e": 5213,
                    "water_litres": 555,
                    "block_number": 100 + n // 1000,
                    "tx_hash": tx,
                    "log_index": n % 1000,
                }
            )
        with engine.begin() as conn:
            conn.execute(insert(Passport), heads)
            conn.execute(insert(PassportVersion), versions)


def database() -> tuple[str, str | None]:
    """(URL of a migrated, populated database, PostgreSQL admin URL to drop it or None)."""
    base = os.environ.get("WAYMARK_BENCH_DATABASE_URL") or os.environ.get(
        "WAYMARK_TEST_DATABASE_URL"
    )
    if base:
        name = f"waymark_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = make_url(base).set(database=name).render_as_string(hide_password=False)
    elif reuse := os.environ.get("BENCH_SQLITE_PATH"):
        # A database an earlier run filled (kept with BENCH_KEEP_DB=1): skip the insert.
        url = f"sqlite:///{reuse}"
        if Path(reuse).exists():
            return url, None
    else:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='waymark-bench-')}/qr.sqlite3"
    engine = make_engine(url)
    migrate.upgrade(engine)
    started = time.perf_counter()
    populate(engine)
    if url.startswith("postgresql"):
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    print(f"inserted {ITEMS:,} item passports in {time.perf_counter() - started:.0f} s")
    return url, base


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
    return start_app(env, args=args, ready=item_path(0), timeout=120)


RANDOM_ITEMS_LUA = """
math.randomseed(os.time())
request = function()
  local n = math.random(0, %(items)d - 1)
  local path = string.format("/01/%(gtin)s/10/L%%03d/21/S%%07d", n %% %(lots)d, n)
  return wrk.format("GET", path)
end
"""


def wrk(url: str, script: Path | None = None) -> tuple[float, float]:
    """(requests/s, p99 latency in ms) of one wrk run; non-2xx answers are an error."""
    cmd = ["wrk", "-c64", f"-d{DURATION}", "-t2", "--latency"]
    if script is not None:
        cmd += ["-s", str(script)]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(f"wrk saw errors:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"\s99%\s+([\d.]+)(us|ms|s)\b", out).groups()  # type: ignore[union-attr]
    p99 = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    return rps, p99


def main() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    url, pg_admin = database()
    backend = "PostgreSQL" if pg_admin else "SQLite"
    proc, base = serve(url)
    script = Path(tempfile.mkdtemp()) / "random_items.lua"
    script.write_text(RANDOM_ITEMS_LUA % {"items": ITEMS, "gtin": GTIN, "lots": LOTS})
    try:
        for n in range(0, ITEMS, max(1, ITEMS // 50)):  # a few cold requests before measuring
            httpx.get(base + item_path(n), timeout=30)
        live = wrk(f"{base}/livez")
        hot = wrk(base + item_path(0))
        cold = wrk(base + "/", script)
        load = os.getloadavg()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        if pg_admin is None:
            if not os.environ.get("BENCH_SQLITE_PATH"):
                shutil.rmtree(Path(make_url(url).database or "").parent, ignore_errors=True)
        else:
            admin = create_engine(pg_admin, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                name = make_url(url).database
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    items = f"{ITEMS:,} items, {backend}"
    rows = [
        Row("/livez (baseline)", live[0], "req/s", target=""),
        Row(
            f"QR page, one item (cached), {items}",
            hot[0],
            "req/s",
            live[0],
            "/livez req/s",
            "≥ 3,000 req/s",
        ),
        Row("QR page p99, one item (cached)", hot[1], "ms", live[1], "/livez p99 ms", "≤ 50 ms"),
        Row(f"QR page, random item of {items}", cold[0], "req/s", live[0], "/livez req/s"),
        Row("QR page p99, random item", cold[1], "ms", live[1], "/livez p99 ms"),
        Row("load average (1 min) at the end", load[0], "", target=""),
    ]
    publish(
        "qr_page",
        f"Consumer page under wrk -c64 -t2 -d{DURATION} (uvicorn --workers 2, uvloop, httptools)",
        rows,
    )


if __name__ == "__main__":
    main()
