"""The app on a live loopback port, and the independent verifier run against it."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx

from backend.paths import PROJECT_ROOT

VERIFIER = Path(__file__).parent / "verify_vc.mjs"
NODE = shutil.which("node")


class LiveClient(httpx.Client):
    """An HTTP client on the live server that also reaches the app's workers."""

    def __init__(self, base_url: str, app: Any) -> None:
        super().__init__(base_url=base_url, timeout=30)
        self.app = app


def verify(url: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``verify_vc.mjs`` on ``url`` (``headers`` sent with that request only)."""
    assert NODE is not None
    argv = [NODE, str(VERIFIER), url, *([json.dumps(headers)] if headers else [])]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=PROJECT_ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]
