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
import os
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


def run(paths: list[Path]) -> list[str]:
    """Run each script; the names of those that failed (their old results are removed)."""
    failed = []
    for path in paths:
        print(f"\n### running {path.name}", flush=True)
        for stale in (RESULTS / f"{path.stem}.json", RESULTS / f"{path.stem}.md"):
            stale.unlink(missing_ok=True)
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, str(path)], cwd=HERE.parent, check=False)
        print(f"### {path.name}: {time.perf_counter() - started:.0f} s", flush=True)
        if proc.returncode != 0:
            print(f"!! {path.name} exited with {proc.returncode}", file=sys.stderr)
            failed.append(path.stem)
    return failed


def load_average() -> str:
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def collect(loads: tuple[str, str] | None = None, names: list[str] | None = None) -> str:
    cpus = os.cpu_count() or 0
    parts = [
        "# Benchmark report\n",
        "Produced by `make bench` (`bench/report.py`). Every figure is measured in the same run as",
        "its baseline, on the machine named under each table.\n",
    ]
    if loads is not None:
        parts.append(
            f"Load average (1 / 5 / 15 min) on this {cpus}-CPU machine, shared with other work: "
            f"{loads[0]} when the run of {', '.join(names or [])} started, {loads[1]} when it "
            "ended. Tables from earlier runs keep their own timestamps.\n"
        )
    for path in sorted(RESULTS.glob("*.json")):
        data = json.loads(path.read_text())
        rows = [Row(**r) for r in data["rows"]]
        parts.append(f"## {data['title']}\n")
        parts.append(f"_{data['measured_at']} · {data['machine']} · `bench/{data['name']}.py`_\n")
        extra = RESULTS / f"{data['name']}.md"
        if extra.exists():  # a script's own table (the drills' counts) precedes its rows
            parts.append(extra.read_text())
        parts.append(table(rows))
    return "\n".join(parts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", default="", help="comma-separated script names")
    parser.add_argument("--collect", action="store_true", help="do not run, only assemble")
    args = parser.parse_args()
    loads = None
    failed: list[str] = []
    chosen: list[Path] = []
    if not args.collect:
        chosen = scripts()
        if args.only:
            wanted = set(args.only.split(","))
            chosen = [p for p in chosen if p.stem in wanted]
        before = load_average()
        failed = run(chosen)
        loads = (before, load_average())
    report = collect(loads, [p.stem for p in chosen] if not args.collect else None)
    (HERE / "REPORT.md").write_text(report)
    print(report)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
