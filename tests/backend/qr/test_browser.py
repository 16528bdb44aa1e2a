"""The rendered page in a real headless Chromium, phone-sized, served over HTTP on 127.0.0.1."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.paths import FRONTEND_STATIC
from backend.qr.render import render_error_page, render_product_page
from backend.qr.view import Recall, Tamper
from tests.backend.qr.factories import product_page
from tests.browser import ARTIFACTS, CHROMIUM, run_chromium, visible_text

SERVED: list[str] = []
TAMPER = Tamper("passport document", "0x" + "aa" * 32, "0x" + "bb" * 32)

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (.ci/run installs it)"
)


class _Handler(http.server.SimpleHTTPRequestHandler):
    pages: dict[str, tuple[int, str]] = {}
    served: list[str] = []  # "<status> <path>" of each answered request

    def do_GET(self) -> None:
        if self.path in self.pages:
            status, body = self.pages[self.path]
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        if self.path.startswith("/static/"):
            self.path = self.path.removeprefix("/static")
            super().do_GET()
            return
        self.send_error(404)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        self.served.append(f"{int(code)} {self.path}")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    recalled = product_page(
        recall=Recall(
            "Button may detach and is a choking hazard",
            product_page().journey[-1].at,
            "Stop using the product and return it to the store for a full refund.",
        )
    )
    handler = type(
        "Handler",
        (_Handler,),
        {
            "served": SERVED,
            "pages": {
                "/01/09506000134352/10/LOT-2026%2F11/21/SN0001": (
                    200,
                    render_product_page(product_page()),
                ),
                "/recalled": (200, render_product_page(recalled)),
                "/tampered": (200, render_product_page(product_page(tamper=TAMPER))),
                "/bad": (
                    400,
                    render_error_page(
                        400,
                        "This link is not a valid product link",
                        "GTIN check digit should be 2, got 3",
                    ),
                ),
            },
        },
    )
    factory = functools.partial(handler, directory=str(FRONTEND_STATIC))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), factory)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_product_page_shows_passport_carbon_working_and_timeline_on_a_phone(
    server: str, tmp_path: Path
) -> None:
    url = f"{server}/01/09506000134352/10/LOT-2026%2F11/21/SN0001"
    dom = run_chromium(url, tmp_path, "--dump-dom")
    text = visible_text(dom)
    assert "Merino crew sweater" in text
    assert "Northwind Apparel" in text
    assert "Viet Nam" in text or "Vietnam" in text
    assert "0.36 kg × 17.5 kg CO2e/kg = 6.3 kg CO 2 e" in text
    assert "0.001 t × 13,100 km = 13.1 t·km × 0.0161 kg CO 2 e/t·km" in text
    assert "Held by customs at Los Angeles" in text
    assert "Released by customs at Los Angeles" in text
    assert "Weight discrepancy: declared 412 kg, weighed 431 kg" in text
    assert "Verified on chain" in text
    assert "0x5FbDB2315678afecb367f032d93F642f64180aa3" in text

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "qr-product-page-phone.png"
    run_chromium(url, tmp_path, f"--screenshot={shot}")
    assert shot.stat().st_size > 10_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_recalled_page_loads_its_stylesheet_and_shows_the_recall(
    server: str, tmp_path: Path
) -> None:
    SERVED.clear()
    dom = run_chromium(f"{server}/recalled", tmp_path, "--dump-dom")
    assert "200 /recalled" in SERVED
    assert "200 /qr.css" in SERVED  # the browser fetched /static/qr.css and got it
    assert 'class="banner banner--recalled"' in dom
    assert "Button may detach" in visible_text(dom)
    run_chromium(
        f"{server}/recalled", tmp_path, f"--screenshot={ARTIFACTS / 'qr-recalled-phone.png'}"
    )


def test_invalid_link_page_states_what_is_wrong(server: str, tmp_path: Path) -> None:
    dom = run_chromium(f"{server}/bad", tmp_path, "--dump-dom")
    text = visible_text(dom)
    assert "Error 400" in text
    assert "GTIN check digit should be 2, got 3" in text
    run_chromium(f"{server}/bad", tmp_path, f"--screenshot={ARTIFACTS / 'qr-error-phone.png'}")


def test_tampered_page_warns_before_anything_else(server: str, tmp_path: Path) -> None:
    dom = run_chromium(f"{server}/tampered", tmp_path, "--dump-dom")
    text = visible_text(dom)
    warning = text.index("Data does not match the chain")
    assert warning < text.index("Merino crew sweater")
    assert "banner--verified" not in dom
    assert "Verified on chain" not in text
    assert "On-chain record (does not match this page)" in text
    run_chromium(
        f"{server}/tampered", tmp_path, f"--screenshot={ARTIFACTS / 'qr-tampered-phone.png'}"
    )
