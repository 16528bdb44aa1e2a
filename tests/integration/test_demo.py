"""``make demo``: /health answers at once, the story is seeded, every kind of URL is printed and answers 200."""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx

from backend.chain.anvil import free_port
from backend.paths import PROJECT_ROOT
from tests.browser import CHROMIUM, visit

URL = re.compile(r"(https?://127\.0\.0\.1:\d+[^\s,]*)")
KEY = re.compile(r"Hearth & Grove API key\s+(wm_\S+)")
# Every kind of link a newcomer is promised (backend/demo/links.py labels).
KINDS = (
    "Consumer page, lot",
    "Consumer page, one item",
    "Consumer page, serial",
    "QR code for screens (SVG)",
    "QR code for print (PNG)",
    "Label sheet (A4)",
    "Proof bundle",
    "Shipment label (print, A6)",
    "Tracking page its QR opens",
    "Proof of a supply event",
    "Passport (JSON)",
    "Passport as a credential",
    "Issuer DID document",
    "Seller dashboard",
    "Purchase agreement (late)",
    "API docs (Swagger UI)",
    "API reference (ReDoc)",
)


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


def test_demo_serves_health_at_once_then_prints_every_kind_of_url_and_each_answers(
    tmp_path: Path,
) -> None:
    port = free_port()
    env = {**os.environ}
    for name in ("WAYMARK_DATABASE_URL", "WAYMARK_CHAIN_BACKEND", "WAYMARK_PUBLIC_BASE_URL"):
        env.pop(name, None)
    proc = subprocess.Popen(
        [sys.executable, "scripts/demo.py", "--port", str(port), "--chain", "tester"],
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
            time.sleep(0.1)
        assert body is not None, "demo did not answer /health within 30 s"
        print(f"/health answered after {time.monotonic() - started:.1f} s: {body['status']}")
        assert body["chain_backend"] == "tester"
        assert body["status"] in ("starting", "ok")
        early = httpx.get(f"{base}/v1/shipments", timeout=5)
        assert early.status_code in (503, 401)  # 503 "starting" until deployed, then the API

        output = "".join(_collect(sink, "control-union", timeout=240))
        assert "demo seeding failed" not in output, output
        for step in range(1, 10):
            assert f"[{step}/9] " in output, output
        summary = re.search(r"Seeded in [\d.]+ s: 8 organisations, 6 shipments \(.*\)", output)
        assert summary, output
        key_match = KEY.search(output)
        assert key_match, output
        seller_key = key_match.group(1)
        block = output.split("Open these:", 1)[1]
        printed = {}
        for kind in KINDS:
            line = next((ln for ln in block.splitlines() if ln.strip().startswith(kind)), None)
            assert line is not None, f"{kind!r} not printed:\n{output}"
            printed[kind] = URL.findall(line)[0]
        # The printed command works as printed: the bundle checks out against the
        # demo's in-process chain through /rpc, trusting the published manifest.
        command = next(ln.strip() for ln in block.splitlines() if "waymark proof verify" in ln)
        assert f"--rpc {base}/rpc --trust {base}/.well-known/waymark/deployment.json" in command
        # The exact line the demo prints (curl, then the CLI), run with our interpreter.
        checked = subprocess.run(  # noqa: S602
            command.replace(".venv/bin/waymark", f"{sys.executable} -m backend.cli"),
            shell=True,
            cwd=tmp_path,
            env={**env, "PYTHONPATH": str(PROJECT_ROOT)},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert checked.returncode == 0, (checked.stdout, checked.stderr)
        assert checked.stdout.strip().endswith("verdict: VALID")
        assert "passport status: active" in checked.stdout
        verifier = next(ln for ln in block.splitlines() if "Proof verifier page" in ln)
        page_url = URL.findall(verifier)[0]
        assert httpx.get(page_url, timeout=30).status_code == 200
        if CHROMIUM is not None:
            # The static page on the printed bundle, the demo's /rpc and the published
            # manifest (its default) agrees: the demo's bundle carries a delegation and
            # events that count through a shipment.
            page = visit(
                f"{page_url}?bundle={quote(printed['Proof bundle'], safe='')}&rpc={base}/rpc",
                [
                    {"click": "#verify"},
                    {"waitFor": "#result[data-done=true]"},
                    {"attr": "#result", "name": "data-outcome"},
                ],
            )
            outcome = json.loads(page.values("attr")[0][0])
            assert outcome["verdict"] == "VALID", outcome
            assert {c["id"] for c in outcome["checks"]} >= {
                "event.authorised",
                "milestone.recorded",
            }
        for kind, url in printed.items():
            signed_in = "/dashboard" in url or "/v1/agreements/" in url
            headers = {"Authorization": f"Bearer {seller_key}"} if signed_in else {}
            resp = httpx.get(url, headers=headers, timeout=30)
            assert resp.status_code == 200, (kind, url, resp.status_code, resp.text[:300])
        health = httpx.get(f"{base}/health", timeout=10).json()
        assert health["status"] == "ok"
        assert health["chain_backend"] == "tester"
        assert health["contracts"]["AnchorRegistry"]["address"].startswith("0x")
        assert health["coincurve"]
        assert health["fast_keccak"]
        # The seller's webhook subscription delivers signed notifications to the demo inbox.
        inbox = re.search(r"Webhook receiver \(deliveries\)\s+(\S+)", output)
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
        # The late purchase agreement was settled by the keeper, compensation paid.
        (agreement,) = board["agreements"]
        assert (agreement["role"], agreement["outcome"]) == ("buyer", "late")
        assert agreement["to_buyer"] > 0
        assert "1 purchase agreement settled late" in output
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
