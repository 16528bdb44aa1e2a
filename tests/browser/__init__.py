"""Headless Chromium (the Debian package) driven through npm playwright-core."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend.paths import PROJECT_ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
DRIVER = Path(__file__).resolve().parent / "driver.js"
PHONE = (390, 844)
DESKTOP = (1440, 900)


@dataclass
class Visit:
    results: list[dict[str, Any]]
    requests: list[str]

    def values(self, step: str) -> list[Any]:
        return [r.get("value") for r in self.results if r["step"] == step]

    @property
    def status(self) -> int | None:
        return self.results[0].get("status")


def visit(
    url: str,
    steps: list[dict[str, Any]] | None = None,
    *,
    viewport: tuple[int, int] = PHONE,
    timezone: str = "UTC",
    headers: dict[str, str] | None = None,
    wallet: dict[str, Any] | None = None,
    storage_in: Path | None = None,
    storage_out: Path | None = None,
) -> Visit:
    """Open ``url`` in headless Chromium, run ``steps`` (see driver.js), return what they read.

    ``storage_in``/``storage_out``: the browser's cookies and localStorage are read
    from / saved to that file, so a later visit is the same phone opened again.
    """
    assert CHROMIUM is not None
    job = {
        "executable": CHROMIUM,
        "url": url,
        "viewport": list(viewport),
        "timezone": timezone,
        "headers": headers or {},
        "steps": steps or [],
        "wallet": wallet,
        "storageIn": str(storage_in) if storage_in else None,
        "storageOut": str(storage_out) if storage_out else None,
    }
    done = subprocess.run(
        ["node", str(DRIVER)],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        timeout=180,
        cwd=PROJECT_ROOT,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"browser run failed for {url}: {done.stderr[-2000:]}")
    out = json.loads(done.stdout)
    return Visit(out["results"], out["requests"])


def shot(name: str, size: tuple[int, int]) -> dict[str, Any]:
    """A screenshot step writing ``test-artifacts/<name>-<w>x<h>.png``."""
    ARTIFACTS.mkdir(exist_ok=True)
    return {"screenshot": str(ARTIFACTS / f"{name}-{size[0]}x{size[1]}.png"), "fullPage": True}
