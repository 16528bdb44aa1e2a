"""GET /health on the in-process chain."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from backend.chain import ChainClient
from backend.config import Settings
from backend.main import create_app


def test_health_reports_tester_backend_contracts_and_fast_paths() -> None:
    with TestClient(create_app(Settings(chain_backend="tester"))) as client:
        body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["chain_backend"] == "tester"
    assert body["chain_id"] == 131277322940537
    assert body["latest_block"] >= 1
    assert body["contracts"]["AnchorRegistry"]["address"].startswith("0x")
    assert body["anchorer"] == body["relayer"]
    assert body["coincurve"] is True
    assert body["fast_keccak"] is True


def test_health_reports_the_chain_clock_and_its_skew_to_wall_time(
    api: TestClient, tester: ChainClient
) -> None:
    tester.advance_time(7200)  # the chain's clock well ahead of the wall
    head = tester.block()
    before = time.time()
    body = api.get("/health").json()
    after = time.time()
    assert body["latest_block"] == head["number"]
    assert body["latest_block_time"] == head["timestamp"]
    # Wall time at the request minus the block's time: negative, the chain runs ahead.
    skew = body["chain_clock_skew_seconds"]
    assert before - head["timestamp"] - 0.01 <= skew <= after - head["timestamp"] + 0.01
    assert skew < -3600
