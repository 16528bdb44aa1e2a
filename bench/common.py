"""Shared plumbing for benchmark scripts.

Every bench script measures its figures *and* a baseline in the same run,
prints a markdown table and writes ``bench/results/<name>.json`` so that
``bench/report.py`` can assemble one report.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@dataclass
class Row:
    """One figure next to the baseline measured in the same run."""

    metric: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_label: str = ""
    target: str = ""

    def cells(self) -> list[str]:
        base = f"{_fmt(self.baseline)} ({self.baseline_label})" if self.baseline is not None else ""
        return [self.metric, f"{_fmt(self.value)} {self.unit}", base, self.target]


def _fmt(x: float | None) -> str:
    if x is None:
        return ""
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:,.2f}"


def table(rows: list[Row]) -> str:
    head = "| metric | value | baseline (same run) | target |\n|---|---|---|---|\n"
    return head + "".join("| " + " | ".join(r.cells()) + " |\n" for r in rows)


def publish(name: str, title: str, rows: list[Row]) -> None:
    """Print the table and store it for the combined report."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = {
        "name": name,
        "title": title,
        "measured_at": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": f"{platform.machine()} {platform.python_version()}",
        "rows": [asdict(r) for r in rows],
    }
    (RESULTS / f"{name}.json").write_text(json.dumps(payload, indent=1))
    print(f"## {title}\n")
    print(table(rows))


# Benches measured per database name their rows after it.
DATABASES = ("SQLite", "PostgreSQL")


def earlier_rows(name: str, *, besides: Sequence[str]) -> list[Row]:
    """The rows of ``bench/results/<name>.json`` measured on a database other than
    ``besides`` (one that a run did not measure keeps its figures of an earlier run)."""
    earlier = RESULTS / f"{name}.json"
    if not earlier.exists():
        return []
    others = tuple(f"{db}:" for db in DATABASES if db not in besides)
    return [
        Row(**r)
        for r in json.loads(earlier.read_text()).get("rows", [])
        if r["metric"].startswith(others)
    ]


def start_app(
    env: dict[str, str], *, args: tuple[str, ...] = (), ready: str = "/health", timeout: float = 60
) -> tuple[subprocess.Popen[bytes], str]:
    """The app under uvicorn on 127.0.0.1 (a free port), once ``ready`` answers 200.

    ``env`` adds ``WAYMARK_*`` settings to this process's environment; ``args``
    are extra uvicorn options (workers, loop, http). Access logging is off.
    """
    import httpx

    from backend.chain.anvil import free_port

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "uvicorn", "--factory", "backend.main:create_app"]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    cmd += ["--no-access-log", *args]
    full_env = {**os.environ, "WAYMARK_PUBLIC_BASE_URL": base, **env}
    proc = subprocess.Popen(cmd, cwd=ROOT, env=full_env)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + ready, timeout=5).status_code == 200:
                return proc, base
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start")
