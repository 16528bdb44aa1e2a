"""``make demo``: /health within 30 s, the story seeded, every printed URL answers 200."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import httpx

from backend.chain.anvil import free_port
from backend.paths import PROJECT_ROOT

URL = re.compile(r"(https?://127\.0\.0\.1:\d+[^\s,]*)")
KEY = re.compile(r"Hearth & Grove seller API key:\s+(wm_\S+)")


def _lines(stream: object, sink: queue.Queue[str]) -> None:
    for line in iter(stream.readline, ""):  # type: ignore[attr-defined]
        sink.put(line)


def _collect(sink: queue.Queue[str], until: str, timeout: float) -> Iterator[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = sink.get(timeout=0.2)
        except queue.Empty:
            continue
        yield line
        if until in line:
            return
    raise AssertionError(f"no line containing {until!r} within {timeout:g} s")


def test_demo_serves_health_fast_and_seeds_the_story() -> None:
    port = free_port()
    env = {**os.environ, "WAYMARK_CHAIN_BACKEND": "tester"}
    env.pop("WAYMARK_DATABASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "scripts/demo.py", "--port", str(port)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    sink: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_lines, args=(proc.stdout, sink), daemon=True).start()
    base = f"http://127.0.0.1:{port}"
    try:
        started = time.monotonic()
        body = None
        while time.monotonic() - started < 30 and proc.poll() is None:
            try:
                resp = httpx.get(f"{base}/health", timeout=1)
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

        output = "".join(_collect(sink, "delivery log:", timeout=120))
        assert "demo seeding failed" not in output, output
        key_match = KEY.search(output)
        assert key_match, output
        seller_key = key_match.group(1)
        assert "Demo seeded in" in output, output
        urls = URL.findall(output.split("Demo seeded in", 1)[1])
        assert any(u.endswith("/dashboard") for u in urls), output
        assert any("/v1/proofs/" in u for u in urls), output
        for url in urls:
            headers = {"Authorization": f"Bearer {seller_key}"} if "/dashboard" in url else {}
            resp = httpx.get(url, headers=headers, timeout=10)
            assert resp.status_code == 200, (url, resp.status_code, resp.text[:300])
        # The seller's webhook subscription delivers signed notifications to the demo inbox.
        inbox = re.search(r"webhook receiver \(deliveries\):\s+(\S+)", output)
        assert inbox, output
        received: list[dict[str, object]] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            received = httpx.get(inbox.group(1), timeout=10).json()["received"]
            if any(r["type"] == "shipment.customs_released" for r in received):
                break
            time.sleep(0.5)
        assert received, output
        assert all(r["signature_verified"] for r in received), received
        assert {"shipment.custody_changed", "shipment.customs_released"} <= {
            r["type"] for r in received
        }
        assert "/labels/00/" in output
        board = httpx.get(
            f"{base}/dashboard",
            headers={"Authorization": f"Bearer {seller_key}", "Accept": "application/json"},
            timeout=10,
        ).json()
        assert board["org"] == "hearth-grove"
        assert len(board["shipments"]) == 6
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
