"""Run every benchmark in bench/ and write one markdown report.

Each script prints its own table and stores ``bench/results/<name>.json``;
this collects them, in a stable order, into ``bench/REPORT.md``.

    .venv/bin/python bench/report.py            # run all, then write the report
    .venv/bin/python bench/report.py --only gas_shipments,merkle
    .venv/bin/python bench/report.py --collect  # only assemble existing results
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.common import RESULTS, Row, table  # noqa: E402

SKIP = {"__init__", "common", "report", "support"}


def scripts() -> list[Path]:
    return sorted(p for p in HERE.glob("*.py") if p.stem not in SKIP)


def run(paths: list[Path]) -> dict[str, float]:
    took = {}
    for path in paths:
        print(f"\n### running {path.name}", flush=True)
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, str(path)], cwd=HERE.parent, check=False)
        took[path.stem] = time.perf_counter() - started
        if proc.returncode != 0:
            print(f"!! {path.name} exited with {proc.returncode}", file=sys.stderr)
    return took


def collect() -> str:
    parts = [
        "# Benchmark report\n",
        "Produced by `make bench` (`bench/report.py`). Every figure is measured in the same run as",
        "its baseline, on the machine named under each table.\n",
    ]
    for path in sorted(RESULTS.glob("*.json")):
        data = json.loads(path.read_text())
        rows = [Row(**r) for r in data["rows"]]
        parts.append(f"## {data['title']}\n")
        parts.append(f"_{data['measured_at']} · {data['machine']} · `bench/{data['name']}.py`_\n")
        parts.append(table(rows))
    return "\n".join(parts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", default="", help="comma-separated script names")
    parser.add_argument("--collect", action="store_true", help="do not run, only assemble")
    args = parser.parse_args()
    if not args.collect:
        chosen = scripts()
        if args.only:
            wanted = set(args.only.split(","))
            chosen = [p for p in chosen if p.stem in wanted]
        run(chosen)
    report = collect()
    (HERE / "REPORT.md").write_text(report)
    print(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
