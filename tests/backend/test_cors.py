"""A verifier page on another site may read the public verification routes, and only those."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

ORIGIN = "https://verifier.example"


@pytest.mark.parametrize(
    "path",
    [
        "/.well-known/waymark/deployment.json",
        "/proof-bundle/0x" + "ab" * 32 + ".json",  # an unknown passport: its 404 is readable too
        "/v1/proofs/0x" + "cd" * 32,
    ],
)
def test_public_verification_reads_are_open_to_any_origin_without_credentials(
    api: TestClient, path: str
) -> None:
    resp = api.get(path, headers={"Origin": ORIGIN})
    assert resp.status_code in (200, 404), resp.text
    assert resp.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in resp.headers


def test_the_demo_node_answers_a_cross_origin_preflight_and_call(api: TestClient) -> None:
    preflight = api.options(
        "/rpc",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code == 200, preflight.text
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "POST" in preflight.headers["access-control-allow-methods"]
    call = api.post(
        "/rpc",
        json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
        headers={"Origin": ORIGIN},
    )
    assert call.status_code == 200
    assert call.headers["access-control-allow-origin"] == "*"
    assert call.json()["result"].startswith("0x")


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/v1/shipments"), ("GET", "/dashboard"), ("POST", "/v1/orgs"), ("GET", "/health")],
)
def test_every_other_route_keeps_the_same_origin_rule(
    api: TestClient, method: str, path: str
) -> None:
    resp = api.request(method, path, headers={"Origin": ORIGIN})
    assert "access-control-allow-origin" not in resp.headers
    preflight = api.options(
        path, headers={"Origin": ORIGIN, "Access-Control-Request-Method": method}
    )
    assert "access-control-allow-origin" not in preflight.headers
