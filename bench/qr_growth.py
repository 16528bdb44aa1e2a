"""Growth: consumer pages and proofs at 10,000,000 items against 1,000,000, same run.

Runs ``bench/qr_page.py`` twice on each database of ``BENCH_GROWTH_BACKENDS`` (default
SQLite; a 10,000,000-item PostgreSQL fill takes about as long again): first with
``BENCH_GROWTH_SMALL`` items (default 1,000,000), then ``BENCH_GROWTH_ITEMS`` (default
10,000,000), both with ``BENCH_EVENTS`` (default 1,000,000) anchored events, and prints
the large run's figures next to the small run's: page and proof p99 and req/s, storage
per item, fill times. Each database is dropped after its run, so the disk holds one
filled database at a time (at 10,000,000 items about 16 GB of passport and page rows).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import RESULTS, ROOT, Row, earlier_rows, publish

SMALL = int(os.environ.get("BENCH_GROWTH_SMALL", "1000000"))
LARGE = int(os.environ.get("BENCH_GROWTH_ITEMS", "10000000"))
EVENTS = os.environ.get("BENCH_EVENTS", "1000000")
BACKENDS = os.environ.get("BENCH_GROWTH_BACKENDS", "sqlite")
NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def measure(items: int) -> dict[str, float]:
    """One ``qr_page.py`` run at ``items``: its figures by metric (baselines under
    ``<metric> | baseline``)."""
    result = f"qr_growth-{items}"
    env = {
        **os.environ,
        "BENCH_ITEMS": str(items),
        "BENCH_EVENTS": EVENTS,
        "BENCH_BACKENDS": BACKENDS,
        "BENCH_RESULT": result,
    }
    path = RESULTS / f"{result}.json"
    path.unlink(missing_ok=True)
    try:
        subprocess.run([sys.executable, "bench/qr_page.py"], cwd=ROOT, env=env, check=True)
        rows = json.loads(path.read_text())["rows"]
    finally:
        path.unlink(missing_ok=True)
    figures = {}
    for row in rows:
        figures[row["metric"]] = row["value"]
        if row["baseline"] is not None:
            figures[f"{row['metric']} | baseline"] = row["baseline"]
    return figures


def rows_for(name: str, small: dict[str, float], large: dict[str, float]) -> list[Row]:
    def pair(metric: str, label: str, unit: str, target: str = "") -> Row:
        key = f"{name}: {metric}"
        return Row(
            f"{name}: {label}, {LARGE:,} items",
            _get(large, key),
            unit,
            _get(small, key),
            f"{SMALL:,} items",
            target,
        )

    page_p99 = pair("QR page p99, random item", "QR page p99, random item", "ms")
    page_p99.target = f"≤ 1.3 × (ratio {page_p99.value / page_p99.baseline:.2f})"
    proof_p99 = pair(
        "proofs p99, random event", "proofs p99, random event of the same events", "ms"
    )
    proof_p99.target = f"ratio {proof_p99.value / proof_p99.baseline:.2f}"
    return [
        pair("/livez (baseline)", "/livez (baseline)", "req/s"),
        # The page p99 row's baseline: /livez p99 in the same run.
        pair("QR page p99, random item | baseline", "/livez p99 (baseline)", "ms"),
        pair("QR page, random item of {n} items, " + name, "QR page, random item", "req/s"),
        page_p99,
        pair("GET /v1/proofs, random event of {n}", "GET /v1/proofs", "req/s"),
        proof_p99,
        pair("QR page, random item, under ingest", "QR page under ingest", "req/s"),
        pair("QR page p99 under ingest", "QR page p99 under ingest", "ms"),
        pair("storage, passport rows per item", "storage, passport rows per item", "bytes"),
        pair("storage, stored page per item", "storage, stored page per item", "bytes"),
        pair("fill {n} passports (bulk insert)", "fill the passports (bulk insert)", "s"),
        pair(
            "render and store every item's page",
            "render and store every item's page",
            "s",
        ),
        pair("load average (1 min) at the end", "load average (1 min) after the quiet figures", ""),
    ]


def _get(figures: dict[str, float], key: str) -> float:
    """The figure named ``key``, where ``{n}`` stands for a count; a name may go on past
    the key (a row's note in parentheses)."""
    if key in figures:
        return figures[key]
    pattern = re.compile(r"[\d,]+".join(map(re.escape, key.split("{n}"))))
    return next(v for k, v in figures.items() if pattern.match(k) and not k.endswith("baseline"))


def main() -> None:
    small, large = measure(SMALL), measure(LARGE)
    names = [NAMES[b] for b in BACKENDS.split(",")]
    rows = [r for name in names for r in rows_for(name, small, large)]
    publish(
        "qr_growth",
        f"Growth: the qr_page figures at {LARGE:,} items next to {SMALL:,} in the same run "
        "(one run per database)",
        earlier_rows("qr_growth", besides=names) + rows,
    )


if __name__ == "__main__":
    main()
