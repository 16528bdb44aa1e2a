"""The demo server starts from the command line and answers /health."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx

from backend.chain.anvil import free_port
from backend.paths import PROJECT_ROOT


def test_demo_serves_health_within_30_seconds() -> None:
    port = free_port()
    env = {**os.environ, "WAYMARK_CHAIN_BACKEND": "tester"}
    proc = subprocess.Popen(
        [sys.executable, "scripts/demo.py", "--port", str(port)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        body = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                resp = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
                if resp.status_code == 200:
                    body = resp.json()
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        assert body is not None, "demo did not answer /health within 30 s"
        assert body["chain_backend"] == "tester"
        assert body["contracts"]["AnchorRegistry"]["address"].startswith("0x")
        assert body["coincurve"]
        assert body["fast_keccak"]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
