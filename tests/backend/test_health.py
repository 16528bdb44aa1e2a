"""GET /health on the in-process chain."""

from __future__ import annotations

from fastapi.testclient import TestClient

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
    assert body["coincurve"] is True
    assert body["fast_keccak"] is True
