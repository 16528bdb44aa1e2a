"""/docs and /redoc in headless Chromium with every request kept on this server."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from backend.chain.anvil import free_port
from backend.config import Settings
from backend.main import create_app
from tests.browser import CHROMIUM, DESKTOP, PHONE, shot, visit

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = tmp_path_factory.mktemp("docs") / "docs.sqlite3"
    port = free_port()
    app = create_app(Settings(chain_backend="tester", database_url=f"sqlite:///{db}"))
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_swagger_ui_renders_the_operation_list_offline(
    server: str, size: tuple[int, int], tmp_path: Path
) -> None:
    seen = visit(
        f"{server}/docs",
        [
            {"waitFor": ".opblock-summary"},
            {"count": ".opblock"},
            {"text": "#swagger-ui"},
            shot("docs-swagger", size),
        ],
        viewport=size,
    )
    assert seen.status == 200
    (operations,) = seen.values("count")
    assert operations >= 40  # every public operation, e.g. POST /v1/shipments
    (text,) = seen.values("text")
    assert "/v1/shipments/{shipment_id}/milestones" in text
    assert "/health" in text
    # Nothing left this machine: every request the page made went to the app.
    assert seen.requests
    assert all(url.startswith((server, "blob:", "data:")) for url in seen.requests), seen.requests


def test_redoc_renders_the_reference_offline(server: str) -> None:
    seen = visit(
        f"{server}/redoc",
        [{"waitFor": "h1"}, {"text": "body"}, shot("docs-redoc", DESKTOP)],
        viewport=DESKTOP,
    )
    (text,) = seen.values("text")
    assert "Waymark" in text
    assert "/v1/shipments" in text
    # Its hard-coded CDN logo is blocked by the page's Content-Security-Policy.
    assert all(url.startswith((server, "blob:", "data:")) for url in seen.requests), seen.requests
