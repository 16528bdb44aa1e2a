"""Consumer pages and proofs at a million items: ``wrk -c64 -t2 --latency``, a random
item (or event) per request, next to ``/livez`` measured in the same server and run.

For each database (SQLite, and PostgreSQL when ``WAYMARK_BENCH_DATABASE_URL`` or
``WAYMARK_TEST_DATABASE_URL`` is set; ``BENCH_BACKENDS`` narrows the list):

1. **Fill** ``BENCH_ITEMS`` (default 1,000,000) item passports straight into the
   read-model tables (``passports``, ``passport_versions``; ``BENCH_LOTS`` lots,
   default 1,000, one stored document per lot) and ``BENCH_EVENTS`` (default the same)
   anchored supply events: 1,000 real Merkle batches, every proof verified as the
   indexer records it. Event signatures are filler (the proof endpoint serves them, it
   does not check them). Bulk loads: ``COPY`` on PostgreSQL, large ``executemany``
   transactions on SQLite.
2. **Stored pages**, rendered by the server's renderer in one process per core and
   loaded straight into the database: each lot's first item's model is read from the
   database as a scan reads it (``flows.product_page``) and rendered; every other item
   of the lot differs from it only in its link, serial, passport id, issuing
   transaction and block, proof-bundle and credential URLs and QR image
   (:func:`item_page`; each item is issued in its own transaction, 100 of a lot to a
   block), so its page is that render with its own strings put in (:func:`stamp`). The
   lot's page is stored once as the template the server cuts it to
   (``store.pack``), each item's row holds its own strings, CRC-32 and tag. Each lot's
   last item is also rendered from its own model, and the run stops unless the two are
   the same bytes and cut to the same template; the server itself computes and stores
   the pages of ``CHECKS`` random items (a scan of a marked page does), and the run
   stops unless each has the same template, strings, CRC-32 and tag as here.
3. **Settle**: the fill written to disk (:func:`settle`) and the stored pages read
   once (:func:`read_pages`), as in a database that has been serving scans.
4. **Measure** ``/livez``, a random item's page (with ``Accept-Encoding: gzip``, as
   phones send it), and ``GET /v1/proofs/{eventId}`` of a random event.
5. **Under ingest**: a server on anvil, in ``BENCH_ROUNDS`` (default 3) rounds of the
   page and proof figures quiet and then while a loader posts signed events through
   ``POST /v1/events/batch`` at ``BENCH_INGEST_RATE`` (default 550) events/s and
   ``scripts/anchor_worker.py --indexer`` anchors them every second and indexes the
   anchors (proofs verified, the pages they mark recomputed); each busy figure is
   printed next to the quiet one of its round (:func:`under_ingest`).

uvicorn runs as in production: ``--workers 2`` (one per core), uvloop, httptools,
no access log. Fill times, storage per item and the load average are printed with
the figures: other work shares the 2 cores.
"""

from __future__ import annotations

import copy
import json
import multiprocessing
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from sha3 import keccak_256
from sqlalchemy import Engine, bindparam, create_engine, insert, select, text
from sqlalchemy.engine import make_url

from backend.anchoring import merkle
from backend.chain import deployments, make_chain
from backend.chain.anvil import start_anvil
from backend.config import Settings
from backend.db import migrate
from backend.db.base import utcnow
from backend.db.engine import make_engine, make_sessionmaker
from backend.gs1.digital_link import parse_path
from backend.orgs.models import Organisation
from backend.pages import spliced, store
from backend.pages.models import PassportPage
from backend.passports.canonical import document_hash
from backend.passports.models import PassportDocumentRecord
from backend.qr import flows, resolver, view
from backend.qr.cache import PageSource
from backend.qr.render import render_product_page
from backend.wiring import register_subject_sources
from bench import support
from bench.common import ROOT, Row, earlier_rows, publish, start_app
from bench.support import EventSigner

ITEMS = int(os.environ.get("BENCH_ITEMS", "1000000"))
EVENTS = int(os.environ.get("BENCH_EVENTS", str(ITEMS)))
LOTS = int(os.environ.get("BENCH_LOTS", "1000"))
BATCH = 1000  # events per anchored batch
CHECKS = 20
PROCESSES = os.cpu_count() or 2  # renderers: one per core
DURATION = os.environ.get("BENCH_DURATION", "20s")
GTIN = "08936045870013"
SAMPLE = ROOT / "backend" / "passports" / "samples" / "bamboo_tableware.json"
BASE = "https://id.bench.waymark.example"
ISSUER = "0x1aD91ee08f21bE3dE0BA2ba6918E714dA6B45836"


def tx_of(n: int) -> str:
    """Item ``n``'s issuing transaction: each issue is its own."""
    return "0x" + keccak_256(b"issue-%d" % n).hexdigest()


def block_of(n: int) -> int:
    """Item ``n``'s issuing block: a lot issued in order, 100 issues a block (a block of
    a chain in use: seven digits)."""
    return 1_000_000 + (n % LOTS) * 1_000 + (n // LOTS) // 100


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


def _batched(rows: Iterable[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    chunk: list[tuple[Any, ...]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _sqlite_value(value: object) -> object:
    """What SQLAlchemy would bind on SQLite: naive UTC text for datetimes (``UTCDateTime``)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def bulk(
    engine: Engine, table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]
) -> int:
    """``rows`` straight into ``table``: one ``COPY`` on PostgreSQL, one ``executemany``
    and commit per 50,000 rows on SQLite (``synchronous=OFF`` for the load). The count."""
    raw = engine.raw_connection()
    count = 0
    try:
        cur = raw.cursor()
        if engine.dialect.name == "postgresql":
            with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
        else:
            cur.execute("PRAGMA synchronous=OFF")
            cur.execute("PRAGMA cache_size=-1048576")  # 1 GiB: random-key index inserts
            marks = ", ".join("?" * len(columns))
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608 - our names
            for chunk in _batched(rows, 50_000):
                cur.executemany(sql, [tuple(_sqlite_value(v) for v in r) for r in chunk])
                count += len(chunk)
                raw.commit()  # the write-ahead log stays one chunk long, at any size
        raw.commit()
    finally:
        raw.close()
    return count


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
    pids = [pid_of(n) for n in range(ITEMS)]
    bulk(
        engine,
        "passports",
        PASSPORT_COLUMNS,
        (
            (
                pids[n],
                ISSUER,
                GTIN,
                lot_of(n),
                serial_of(n),
                1,
                "active",
                None,
                None,
                block_of(n),
                tx_of(n),
                n % 1000,
            )
            for n in range(ITEMS)
        ),
    )
    bulk(
        engine,
        "passport_versions",
        VERSION_COLUMNS,
        (
            (
                pids[n],
                1,
                docs[lot_of(n)],
                "https://brand.example/p.json",
                "VN",
                0,
                5213,
                555,
                block_of(n),
                tx_of(n),
                n % 1000,
            )
            for n in range(ITEMS)
        ),
    )
    return int(org_id)


PASSPORT_COLUMNS = [
    "id",
    "issuer",
    "gtin",
    "lot",
    "serial",
    "version",
    "status",
    "reason_code",
    "reason",
    "block_number",
    "tx_hash",
    "log_index",
]
VERSION_COLUMNS = [
    "passport_id",
    "version",
    "document_hash",
    "uri",
    "origin_country",
    "recycled_content_bps",
    "carbon_grams_co2e",
    "water_litres",
    "block_number",
    "tx_hash",
    "log_index",
]
PAGE_COLUMNS = [
    "passport_id",
    "path",
    "generation",
    "source_block",
    "stale",
    "template_id",
    "fills",
    "crc",
    "etag",
    "expires_at",
    "computed_at",
]


def _marked(n: int) -> dict[str, object]:
    return {
        "passport_id": pid_of(n),
        "path": item_path(n),
        "generation": 1,
        "source_block": 0,
        "stale": True,
    }


# -- stored pages: every item's page rendered from its own model ------------------------

_worker: dict[str, Any] = {}


def _render_init(url: str, chain_id: int) -> None:
    register_subject_sources()
    _worker["sessions"] = make_sessionmaker(make_engine(url))
    _worker["source"] = PageSource(chain_id, deployments.load(chain_id), BASE)


def item_page(lot_page: view.ProductPage, n: int) -> view.ProductPage:
    """Item ``n``'s page model from its lot-mate's: the fields ``flows.product_page``
    takes from the item's own link, passport id and issue (everything else is read per
    lot: the same document, issuer and journey)."""
    link = parse_path(item_path(n))
    pid = pid_of(n)
    assert lot_page.proof is not None
    return replace(
        lot_page,
        serial=link.serial,
        digital_link=link.uri(BASE),
        proof_bundle_url=f"/proof-bundle/{pid}.json",
        credential_url=f"/v1/passports/{pid}/credential",
        qr_image_src="/qr" + link.path + ".svg",
        proof=replace(lot_page.proof, transaction=tx_of(n), block_number=block_of(n)),
    )


def _own(n: int) -> tuple[str, ...]:
    """Item ``n``'s own strings, as the server cuts its page at them (``cache.own_strings``)."""
    return (serial_of(n), tx_of(n), str(block_of(n)))


def stamp(html: str, lot: int, n: int) -> str:
    """Item ``n``'s page from its lot-mate ``lot``'s rendered page: the strings that
    differ between items of a lot (:func:`item_page`), the passport id, serial, issuing
    transaction and block, replaced all at once, where the server cuts the page
    (``spliced.split``: longest first), so one item's new strings are never taken for
    another's old ones. Checked against real renders (:func:`_render_lot`) and the
    server's pages."""
    ours = dict(zip((pid_of(lot)[2:], *_own(lot)), (pid_of(n)[2:], *_own(n)), strict=True))
    pattern = re.compile("|".join(re.escape(s) for s in sorted(ours, key=len, reverse=True)))
    return pattern.sub(lambda m: ours[m.group()], html)


def _render_lot(lot: int) -> tuple[spliced.Template, list[tuple[int, str, int, str]]]:
    """Every page of one lot: the lot's first item's model read from the database as a
    scan would and rendered by the server's code, its stored template; every other
    item's page stamped from it (:func:`stamp`), its own strings, CRC-32 and tag. The
    lot's last item is also rendered from its own model, which must be the same bytes
    and cut to the same template."""
    source: PageSource = _worker["source"]
    with _worker["sessions"]() as session:
        resolved = resolver.by_id(session=session, passport_id=pid_of(lot))
        lot_page = flows.product_page(
            session=session,
            chain_id=source.chain_id,
            deployment=source.deployment,
            resolved=resolved,
            base=source.base,
        )
    first = render_product_page(item_page(lot_page, lot))
    template = store.pack(first.encode(), passport_id=pid_of(lot), own=_own(lot)).template
    last = lot + (ITEMS - 1 - lot) // LOTS * LOTS
    rendered = render_product_page(item_page(lot_page, last))
    if stamp(first, lot, last) != rendered:
        raise RuntimeError(f"item {last}'s page stamped from item {lot}'s differs from its render")
    if store.pack(rendered.encode(), passport_id=pid_of(last), own=_own(last)).template != template:
        raise RuntimeError(f"item {last}'s page does not cut to its lot's template")
    out = []
    for n in range(lot, ITEMS, LOTS):
        html = stamp(first, lot, n).encode()
        row = store.columns(store.pack(html, passport_id=pid_of(n), own=_own(n), template=template))
        out.append((n, row["fills"], row["crc"], row["etag"]))
    return template, out


def render_all(url: str, chain_id: int) -> Iterator[tuple[spliced.Template, list[Any]]]:
    """Every lot's template and its items' rows, one process per core."""
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(PROCESSES, _render_init, (url, chain_id)) as pool:
        yield from pool.imap_unordered(_render_lot, range(min(LOTS, ITEMS)))


_STORED = (
    PassportPage.template_id,
    PassportPage.fills,
    PassportPage.crc,
    PassportPage.etag,
)


def fill_pages(engine: Engine, url: str, base: str) -> None:
    """Every item's page (:func:`render_all`) loaded into the database, the pages the
    server itself computed and stored for ``CHECKS`` random items kept and compared
    with the ones rendered here: the same template, own strings, CRC-32 and tag."""
    rng = random.Random(7)
    checks = sorted(rng.sample(range(ITEMS), min(CHECKS, ITEMS)))
    with engine.begin() as conn:
        conn.execute(insert(PassportPage), [_marked(n) for n in checks])
    with httpx.Client(base_url=base, timeout=60) as client:
        chain_id = client.get("/health").json()["chain_id"]
        for n in checks:  # the server finds the page marked, computes and stores it
            client.get(item_path(n)).raise_for_status()
    with engine.connect() as conn:
        served = {
            r[0]: tuple(r[1:])
            for r in conn.execute(
                select(PassportPage.passport_id, *_STORED).where(
                    PassportPage.passport_id.in_([pid_of(n) for n in checks])
                )
            ).all()
        }
    kept = set(checks)
    now = utcnow()
    ours: dict[int, tuple[object, ...]] = {}
    sessions = make_sessionmaker(engine)

    def rows() -> Iterator[tuple[object, ...]]:
        for template, items in render_all(url, chain_id):
            with sessions() as session:
                template_id = store.template_id(session, template)
                session.commit()
            for n, own, crc, etag in items:
                row = (template_id, own, crc, etag)
                if n in kept:
                    ours[n] = row
                else:
                    yield (pid_of(n), item_path(n), 1, block_of(n), False, *row, None, now)

    bulk(engine, "passport_pages", PAGE_COLUMNS, rows())
    if wrong := [n for n in checks if ours.get(n) != served[pid_of(n)]]:
        raise SystemExit(f"the pages rendered for items {wrong} differ from the server's")


EVENT_COLUMNS = [
    "id",
    "org_id",
    "digest",
    "event_id",
    "subject",
    "kind",
    "occurred_at",
    "location",
    "payload_hash",
    "signer",
    "signer_key_id",
    "signature",
    "received_at",
]
PROOF_COLUMNS = ["id", "event_id", "epcis_event_id", "batch_id", "leaf", "proof", "verified_block"]
BATCH_COLUMNS = [
    "id",
    "root",
    "leaf_count",
    "status",
    "tx_hash",
    "block_number",
    "block_hash",
    "created_at",
    "anchored_at",
    "final_at",
]


def fill_events(engine: Engine, org_id: int) -> None:
    """``EVENTS`` final supply events in batches of ``BATCH``, each a real Merkle tree,
    every proof verified (as the indexer records it when it sees the anchor)."""
    now = utcnow()
    batches, events, proofs = [], [], []
    for b, start in enumerate(range(0, EVENTS, BATCH)):
        ns = range(start, min(EVENTS, start + BATCH))
        digests = {n: keccak_256(b"bench-event-%d" % n).digest() for n in ns}
        leaves = {n: merkle.leaf_hash(d) for n, d in digests.items()}
        tree = merkle.build(list(leaves.values()))
        paths = tree.proofs()
        block = 10_000 + b
        batch_id = b + 1  # ids given, so the rows need no RETURNING
        batches.append(
            (
                batch_id,
                "0x" + tree.root.hex(),
                len(leaves),
                "final",
                "0x" + keccak_256(b"tx-%d" % b).hexdigest(),
                block,
                "0x" + keccak_256(b"block-%d" % b).hexdigest(),
                now,
                now,
                now,
            )
        )
        for n in ns:
            events.append(
                (
                    n + 1,
                    org_id,
                    "0x" + digests[n].hex(),
                    event_id_of(n),
                    "0x" + keccak_256(b"subject-%d" % (n % 5000)).hexdigest(),
                    1,
                    1_760_000_000 + n,
                    "VNSGN",
                    "0x" + "22" * 32,
                    ISSUER,
                    None,
                    "0x" + "33" * 65,
                    now,
                )
            )
            proof = json.dumps(["0x" + p.hex() for p in paths[leaves[n]]])
            proofs.append((n + 1, n + 1, None, batch_id, "0x" + leaves[n].hex(), proof, block))
    bulk(engine, "anchor_batches", BATCH_COLUMNS, batches)
    bulk(engine, "supply_events", EVENT_COLUMNS, events)
    bulk(engine, "event_proofs", PROOF_COLUMNS, proofs)
    if engine.dialect.name == "postgresql":  # ids were given: move the sequences past them
        with engine.begin() as conn:
            for table in ("anchor_batches", "supply_events", "event_proofs"):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                        f"(SELECT max(id) FROM {table}))"
                    )
                )


# -- the same reads while events are ingested and anchored ------------------------------

INGEST_RATE = int(os.environ.get("BENCH_INGEST_RATE", "550"))  # events/s, target >= 500
TICK = 0.5  # a batch every half second, up to four in flight (as a few producers would)


class Loader(threading.Thread):
    """Posts pre-signed events through ``POST /v1/events/batch`` at ``INGEST_RATE``/s."""

    def __init__(self, base: str, headers: dict[str, str], signer: EventSigner) -> None:
        super().__init__(daemon=True)
        self.base, self.headers = base, headers
        self.per_tick = max(1, round(INGEST_RATE * TICK))
        seconds = 2 * int(DURATION.rstrip("s")) + 30  # two wrk runs and the start
        ticks = int(seconds / TICK)
        self.bodies = [signer.batch_body(self.per_tick)[0] for _ in range(ticks)]
        self.stopping = threading.Event()
        self.accepted = self.failed = 0
        self.started = self.ended = 0.0
        self._lock = threading.Lock()

    def _post(self, client: httpx.Client, body: bytes) -> None:
        resp = client.post("/v1/events/batch", content=body, headers=self.headers)
        ok = resp.status_code == 200 and resp.json()["rejected"] == 0
        with self._lock:
            if ok:
                self.accepted += self.per_tick
            else:
                self.failed += self.per_tick

    def run(self) -> None:
        limits = httpx.Limits(max_connections=4)
        with (
            httpx.Client(base_url=self.base, timeout=60, limits=limits) as client,
            ThreadPoolExecutor(4) as pool,
        ):
            self.started = time.monotonic()
            for i, body in enumerate(self.bodies):
                delay = self.started + i * TICK - time.monotonic()
                if self.stopping.wait(max(0.0, delay)):
                    break
                pool.submit(self._post, client, body)
        self.ended = time.monotonic()

    def rate(self) -> float:
        return self.accepted / max(1e-9, self.ended - self.started)


ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))


def under_ingest(url: str, scripts: Path) -> dict[str, Any]:
    """Pages and proofs under wrk while a loader posts signed events at ``INGEST_RATE``/s
    on anvil and a worker (``scripts/anchor_worker.py --indexer``) anchors them every
    second and indexes the anchors (proofs verified, pages marked and recomputed).

    In ``ROUNDS`` rounds on one server: pages and proofs quiet (the worker idle), then
    the same under the loader, then a wait until every accepted event is anchored. Each
    busy figure is paired with the quiet one of its round, a few seconds apart, so the
    ratio is the ingest's cost and not the drift of a shared machine between runs."""
    node = start_anvil()
    procs: list[subprocess.Popen[bytes]] = []
    engine = make_engine(url)
    rounds: list[dict[str, float]] = []
    try:
        chain = make_chain(Settings(chain_backend="anvil", rpc_url=node.url))
        deployments.save(deployments.deploy_all(chain))
        chain_env = {"WAYMARK_CHAIN_BACKEND": "anvil", "WAYMARK_RPC_URL": node.url}
        proc, base = serve(url, {**chain_env, "WAYMARK_ADMIN_TOKEN": support.TOKEN})
        procs.append(proc)
        worker_env = {
            **os.environ,
            **chain_env,
            "WAYMARK_DATABASE_URL": url,
            "WAYMARK_PUBLIC_BASE_URL": BASE,
            "WAYMARK_ANCHOR_INTERVAL_SECONDS": "1",
        }
        worker = [sys.executable, str(ROOT / "scripts" / "anchor_worker.py"), "--indexer"]
        procs.append(subprocess.Popen(worker, cwd=ROOT, env=worker_env, stdout=subprocess.DEVNULL))
        with httpx.Client(base_url=base, timeout=60) as client:
            health = client.get("/health").json()
            registry = health["contracts"]["AnchorRegistry"]["address"]
            signer = EventSigner(health["chain_id"], registry)
            org = support.make_org(client, "loader", signer.address)
        headers = {**org.writer, "Content-Type": "application/json"}
        for _ in range(ROUNDS):
            rounds.append(_round(engine, base, scripts, Loader(base, headers, signer)))
    finally:
        for running in procs:
            support.stop(running)
        node.stop()
        engine.dispose()
    return {
        "rounds": rounds,
        **{key: statistics.median(r[key] for r in rounds) for key in rounds[0]},
    }


def _round(engine: Engine, base: str, scripts: Path, loader: Loader) -> dict[str, float]:
    """One quiet-then-busy round of :func:`under_ingest`."""
    quiet_page = wrk(base + "/", scripts / "items.lua")
    quiet_proof = wrk(base + "/", scripts / "proofs.lua")
    first = _last_batch(engine)
    loader.start()
    deadline = time.monotonic() + 180
    while _events_anchored_since(engine, first) == 0:  # the worker anchors this round's events
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"nothing was anchored within 180 s ({loader.accepted} events accepted, "
                f"{loader.failed} refused)"
            )
        time.sleep(0.5)
    page = wrk(base + "/", scripts / "items.lua")
    proof = wrk(base + "/", scripts / "proofs.lua")
    loader.stopping.set()
    loader.join()
    if loader.failed:
        raise RuntimeError(f"{loader.failed} events were not accepted under load")
    deadline = time.monotonic() + 180
    while (anchored := _events_anchored_since(engine, first)) < loader.accepted:
        if time.monotonic() > deadline:  # the next round's quiet figures need a quiet worker
            raise RuntimeError(f"{loader.accepted - anchored} events not anchored within 180 s")
        time.sleep(0.5)
    with engine.connect() as conn:
        anchors = conn.execute(
            text(
                "SELECT count(*), min(anchored_at), max(anchored_at) FROM anchor_batches "
                "WHERE id > :first AND anchored_at IS NOT NULL"
            ),
            {"first": first},
        ).one()
    span = (_when(anchors[2]) - _when(anchors[1])).total_seconds() if anchors[0] > 1 else 0.0
    return {
        "quiet_page_rps": quiet_page[0],
        "quiet_page_p99": quiet_page[1],
        "quiet_proof_rps": quiet_proof[0],
        "quiet_proof_p99": quiet_proof[1],
        "page_rps": page[0],
        "page_p99": page[1],
        "proof_rps": proof[0],
        "proof_p99": proof[1],
        "page_ratio": page[0] / quiet_page[0],
        "proof_ratio": proof[0] / quiet_proof[0],
        "ingest_rate": loader.rate(),
        "accepted": loader.accepted,
        "seconds_per_anchor": span / max(1, anchors[0] - 1),
    }


def _last_batch(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT max(id) FROM anchor_batches")).scalar_one() or 0)


def _events_anchored_since(engine: Engine, first: int) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM event_proofs p JOIN anchor_batches b "
                    "ON b.id = p.batch_id WHERE p.event_id IS NOT NULL AND b.id > :first "
                    "AND b.anchored_at IS NOT NULL"
                ),
                {"first": first},
            ).scalar_one()
        )


def _when(value: object) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


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


def settle(engine: Engine) -> float:
    """Write the fill to disk before measuring; the seconds it took.

    A bulk load leaves gigabytes of dirty pages, and PostgreSQL's first VACUUM dirties
    every page again (hint bits, visibility map): written back while wrk runs, they stall
    reads for seconds (a 10,000,000-item page p99 of 326 ms right after VACUUM, 30 ms
    once written). A serving database has neither."""
    t0 = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("VACUUM ANALYZE"))
            conn.execute(text("CHECKPOINT"))
        else:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    os.sync()
    return time.perf_counter() - t0


def read_pages(engine: Engine) -> float:
    """Read the stored pages once, so the OS cache holds as much of them as it can, as in
    a server that has been answering scans; the seconds it took.

    Without it the two databases start from different caches: SQLite's holds the pages
    it has just written, PostgreSQL's what VACUUM read last. The largest relation is read
    first, so the indexes every scan walks are the last read and stay cached."""
    t0 = time.perf_counter()
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_prewarm"))
            relations = conn.execute(
                text(
                    "SELECT c.oid::regclass::text FROM pg_class c WHERE c.oid IN ("
                    "SELECT reltoastrelid FROM pg_class WHERE relname = 'passport_pages' "
                    "UNION SELECT 'passport_pages'::regclass "
                    "UNION SELECT 'page_templates'::regclass "
                    "UNION SELECT indexrelid FROM pg_index WHERE indrelid = 'passport_pages'::regclass"
                    ") AND c.relpages > 0 ORDER BY c.relpages DESC"
                )
            ).scalars()
            for relation in list(relations):
                conn.execute(text("SELECT pg_prewarm(:r, 'read')"), {"r": relation})
    else:
        # In another process: closing a descriptor of the file here would drop this
        # process's SQLite locks on it (POSIX record locks belong to the process).
        subprocess.run(["cat", engine.url.database or ""], stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t0


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


def serve(url: str, extra: dict[str, str] | None = None) -> tuple[subprocess.Popen[bytes], str]:
    """uvicorn as in production: a worker per core, uvloop, httptools, no access log."""
    env = {
        "WAYMARK_CHAIN_BACKEND": "tester",
        "WAYMARK_DATABASE_URL": url,
        "WAYMARK_ANCHOR_WORKER_ENABLED": "false",
        "WAYMARK_INDEXER_ENABLED": "false",
        "WAYMARK_MIGRATE_ON_STARTUP": "false",
        "WAYMARK_PUBLIC_BASE_URL": BASE,
        "WAYMARK_RATE_LIMIT_PER_SECOND": "100000",
        "WAYMARK_RATE_LIMIT_BURST": "100000",
        **(extra or {}),
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
        fill_pages(engine, url, base)
        t_pages = time.perf_counter() - t0
        t0 = time.perf_counter()
        fill_events(engine, org_id)
        t_events = time.perf_counter() - t0
        t_settle = settle(engine)
        t_read = read_pages(engine)
        passport_bytes = size_of(engine, ("passports", "passport_versions"))
        page_bytes = size_of(engine, ("passport_pages", "page_templates"))
        print(
            f"{backend}: filled {ITEMS:,} passports in {t_passports:.0f} s, their pages in "
            f"{t_pages:.0f} s (rendered and stored together), "
            f"{EVENTS:,} anchored events in {t_events:.0f} s",
            flush=True,
        )
        for n in range(0, ITEMS, max(1, ITEMS // 50)):  # a few requests before measuring
            httpx.get(base + item_path(n), timeout=30).raise_for_status()
        live = wrk(f"{base}/livez")
        page = wrk(base + "/", scripts / "items.lua")
        proof = wrk(base + "/", scripts / "proofs.lua")
        load = os.getloadavg()
        support.stop(proc)
        proc = None
        busy = under_ingest(url, scripts)
        busy_load = os.getloadavg()
    finally:
        if proc is not None:
            support.stop(proc)
        engine.dispose()
        drop(url, admin)
    name = "PostgreSQL" if backend == "postgresql" else "SQLite"
    items = f"{ITEMS:,} items, {name}"
    return [
        Row(f"{name}: fill {ITEMS:,} passports (bulk insert)", t_passports, "s", target=""),
        Row(
            f"{name}: render and store every item's page ({PROCESSES} processes; each lot's "
            "page rendered from its model, its items' stamped and checked)",
            t_pages,
            "s",
            target="",
        ),
        Row(
            f"{name}: render and store, per page and process",
            t_pages * PROCESSES / ITEMS * 1000,
            "ms",
            target="",
        ),
        Row(f"{name}: fill {EVENTS:,} anchored events + proofs", t_events, "s", target=""),
        Row(
            f"{name}: write the fill to disk before measuring ("
            + ("VACUUM ANALYZE, CHECKPOINT, " if backend == "postgresql" else "WAL checkpoint, ")
            + "sync)",
            t_settle,
            "s",
            target="",
        ),
        Row(f"{name}: read the stored pages once (into the OS cache)", t_read, "s", target=""),
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
            f"{name}: storage, stored page per item (its row and its share of the templates)",
            page_bytes / ITEMS,
            "bytes",
            target="",
        ),
        Row(f"{name}: load average (1 min) at the end", load[0], "", target=""),
        Row(
            f"{name}: events ingested while measuring (signed, batch API), anchored every "
            f"{busy['seconds_per_anchor']:.1f} s (medians of {ROUNDS} rounds; every accepted "
            "event anchored before the next round)",
            busy["ingest_rate"],
            "events/s",
            target="≥ 500 events/s",
        ),
        _busy_row(name, busy, "QR page, random item, under ingest", "page", "req/s"),
        _busy_row(name, busy, "QR page p99 under ingest", "page", "ms"),
        _busy_row(name, busy, "GET /v1/proofs under ingest", "proof", "req/s"),
        _busy_row(name, busy, "proofs p99 under ingest", "proof", "ms"),
        Row(f"{name}: load average (1 min) under ingest", busy_load[0], "", target=""),
    ]


def _busy_row(name: str, busy: dict[str, Any], metric: str, what: str, unit: str) -> Row:
    """A figure under ingest (median of the rounds) next to the quiet one measured in
    the same server just before it (median of the rounds); req/s with each round's ratio."""
    key = f"{what}_rps" if unit == "req/s" else f"{what}_p99"
    if unit != "req/s":
        return Row(f"{name}: {metric}", busy[key], unit, busy[f"quiet_{key}"], "quiet", "")
    ratios = ", ".join(f"{r[f'{what}_ratio']:.2f}" for r in busy["rounds"])
    return Row(
        f"{name}: {metric}",
        busy[key],
        unit,
        busy[f"quiet_{key}"],
        "quiet, same server, just before",
        f"≥ 0.8 × quiet (median {busy[f'{what}_ratio']:.2f}; rounds {ratios})",
    )


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


# ``bench/qr_growth.py`` runs this script at two sizes under its own names.
RESULT = os.environ.get("BENCH_RESULT", "qr_page")


def save(backend: str, rows: list[Row]) -> None:
    """Publish ``rows`` with the other database's rows of an earlier run."""
    kept = earlier_rows(RESULT, besides=["PostgreSQL" if backend == "postgresql" else "SQLite"])
    publish(
        RESULT,
        f"Consumer pages and proofs under wrk -c64 -t2 -d{DURATION}, a random item per "
        "request (uvicorn --workers 2, uvloop, httptools)",
        kept + rows,
    )


if __name__ == "__main__":
    main()
