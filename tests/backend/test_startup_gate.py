"""The start-up gate: /health answers while the contracts are deployed behind it."""

from __future__ import annotations

import threading

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from backend.chain import ChainClient
from backend.chain.deployments import Deployment
from backend.errors import ServiceUnavailable
from backend.main import create_app
from tests.backend.conftest import api_settings
from tests.conftest import deployment_for
from tests.context import context, workers


def _wait_until(client: TestClient, status: str) -> dict[str, object]:
    for _ in range(400):
        body = client.get("/health").json()
        if body["status"] == status or body["startup"] == "failed":
            return body  # type: ignore[no-any-return]
        threading.Event().wait(0.025)
    raise AssertionError(f"/health never reported {status}")


def test_health_says_starting_and_other_routes_answer_503_until_deployed(
    db_url: str, db_engine: Engine, tester: ChainClient
) -> None:
    release = threading.Event()

    def prepare(chain: ChainClient) -> Deployment:
        release.wait(30)
        return deployment_for(chain)

    app = create_app(api_settings(db_url), tester, prepare=prepare)
    with TestClient(app) as client:
        health = client.get("/health")
        assert health.status_code == 200
        assert health.json()["status"] == "starting"
        assert health.json()["contracts"] == {}
        early = client.get("/v1/shipments", headers={"Authorization": "Bearer x"})
        assert early.status_code == 503
        assert early.json()["error"] == "starting"
        assert early.headers["retry-after"] == "1"
        assert client.get("/docs").status_code == 200
        release.set()
        body = _wait_until(client, "ok")
        assert body["startup"] == "ready"
        assert "AnchorRegistry" in body["contracts"]  # type: ignore[operator]
        # Past the gate: the route answers for itself (401 without a valid key).
        assert client.get("/v1/shipments").status_code == 401


def test_the_context_gains_its_contracts_and_workers_in_one_step_once_deployed(
    db_url: str, db_engine: Engine, tester: ChainClient
) -> None:
    release = threading.Event()
    deployment = deployment_for(tester)

    def prepare(chain: ChainClient) -> Deployment:
        release.wait(30)
        return deployment

    app = create_app(api_settings(db_url), tester, prepare=prepare)
    with TestClient(app) as client:
        before = context(app)
        assert before.contracts is None
        assert before.deployment is None
        with pytest.raises(ServiceUnavailable, match="no contract deployment is loaded"):
            before.loaded()
        with pytest.raises(LookupError, match="no Workers"):
            workers(app)
        release.set()
        _wait_until(client, "ok")
        after = context(app)
        assert after.loaded().deployment is deployment
        assert after.loaded().shipments.address == deployment.address("ShipmentRegistry")
        assert workers(app).indexer is not None
        # Everything built before the deployment is shared, not rebuilt.
        assert (after.engine, after.sessions, after.page_reader) == (
            before.engine,
            before.sessions,
            before.page_reader,
        )
        assert before.contracts is None  # a frozen value: the app holds a new one


def test_a_failed_start_is_reported_with_its_reason_not_hidden(
    db_url: str, db_engine: Engine, tester: ChainClient
) -> None:
    def prepare(chain: ChainClient) -> Deployment:
        raise RuntimeError("solc: ParserError at ShipmentRegistry.sol:12:3")

    app = create_app(api_settings(db_url), tester, prepare=prepare)
    with TestClient(app) as client:
        body = _wait_until(client, "never")
        assert body["startup"] == "failed"
        assert body["status"] == "degraded"
        assert "ParserError at ShipmentRegistry.sol:12:3" in str(body["startup_error"])
        refused = client.get("/v1/shipments")
        assert refused.status_code == 503
        assert "ParserError" in refused.json()["detail"]


def test_early_listener_answers_while_loading_and_hands_its_socket_to_uvicorn() -> None:
    import socket

    import httpx
    import uvicorn
    from fastapi import FastAPI

    from backend.chain.anvil import free_port
    from backend.startup import EarlyListener

    port = free_port()
    listener = EarlyListener("127.0.0.1", port, chain_backend="tester")
    base = f"http://127.0.0.1:{port}"
    health = httpx.get(f"{base}/health", timeout=5)
    assert health.status_code == 200
    assert health.json()["status"] == "starting"
    busy = httpx.get(f"{base}/v1/shipments", timeout=5)
    assert busy.status_code == 503
    assert busy.json()["error"] == "starting"
    assert busy.headers["retry-after"] == "1"

    sock = listener.handover()
    # A client connecting now waits in the backlog; uvicorn answers it once it runs.
    waiting = socket.create_connection(("127.0.0.1", port), timeout=5)
    app = FastAPI()

    @app.get("/health")
    def ok() -> dict[str, str]:
        return {"status": "ok"}

    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        waiting.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        reply = waiting.recv(4096)
        assert reply.startswith(b"HTTP/1.1 200")
        assert b'"status":"ok"' in reply
    finally:
        waiting.close()
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
