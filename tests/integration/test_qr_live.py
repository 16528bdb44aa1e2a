"""The consumer page of the real app, served by uvicorn on 127.0.0.1, in headless Chromium.

Data goes in through the HTTP API of the same server (passport issued, shipment
with milestones, supply events anchored); the relayer, anchoring worker and
indexer are driven step by step so the test knows when the chain has caught up.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from PIL import Image

from backend.chain import ChainClient
from backend.db import migrate
from backend.db.engine import make_engine
from backend.gs1.keys import passport_id
from backend.main import create_app
from tests.backend.conftest import api_settings
from tests.backend.factories import SAMPLE_PREFIX, make_org
from tests.backend.qr.flow import Flow
from tests.backend.shipments.factories import Service
from tests.browser import ARTIFACTS, CHROMIUM, run_chromium, visible_text
from tests.conftest import deployment_for

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")


class LiveClient(httpx.Client):
    """An HTTP client on the live server that also reaches the app's workers."""

    def __init__(self, base_url: str, app: Any) -> None:
        super().__init__(base_url=base_url, timeout=30)
        self.app = app


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live(tester: ChainClient, tmp_path: Path) -> Iterator[LiveClient]:
    url = f"sqlite:///{tmp_path / 'live.sqlite3'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    app = create_app(
        api_settings(url, public_base_url=base), tester, deployment=deployment_for(tester)
    )
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        with LiveClient(base, app) as client:
            yield client
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_live_page_in_chromium_shows_passport_carbon_working_and_timeline(
    live: LiveClient, tester: ChainClient, tmp_path: Path
) -> None:
    client: Any = live
    flow = Flow(
        Service(client, tester),
        seller=make_org(
            client,
            "lang-tre",
            ("seller",),
            prefixes=(SAMPLE_PREFIX,),
            name="Lang Tre Homeware JSC",
        ),
        carrier=make_org(client, "pacific-bridge", ("carrier",), name="Pacific Bridge Logistics"),
        broker=make_org(client, "harbor-customs", ("supplier",), name="Harbor Customs Brokerage"),
    )
    link, _ = flow.issue(lot="TH2611-07", serial="SN-0042")
    pid = passport_id(link.gtin, link.lot, link.serial)
    flow.ship(pid, hold=True)
    flow.sign_events(pid, by=flow.carrier)
    flow.anchor()

    url = link.uri(str(live.base_url).rstrip("/"))
    text = visible_text(run_chromium(url, tmp_path, "--dump-dom"))
    assert "Solid bamboo dinner set" in text
    # Every party by its verified organisation name and role, from the registry.
    assert "Lang Tre Homeware JSC Verified organisation" in text
    assert "Signed by Pacific Bridge Logistics · carrier" in text
    assert "Signed by Harbor Customs Brokerage · customs broker" in text
    assert "Signed by Lang Tre Homeware JSC · seller" in text
    assert "Declared by the brand" in text  # no certifier attested on chain here
    assert "Attested by" not in text
    assert "Verified on chain" in text
    assert "item passport" in text
    assert "t × 13,148 km = " in text  # the attested sea leg VNSGN → USLAX, worked out
    assert "kg CO 2 e/t·km" in text
    assert "Held by customs at Los Angeles" in text
    assert "Released by customs at Los Angeles" in text
    assert flow.carrier.signer.address in text

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "qr-live-page-phone.png"
    run_chromium(url, tmp_path, f"--screenshot={shot}")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    full = ARTIFACTS / "qr-live-page-full.png"
    run_chromium(url, tmp_path, f"--screenshot={full}", "--window-size=390,6000")
    # The whole page as successive 390×844 phone screens, so the certifications,
    # the journey's signers and the proof's signer list can be seen at phone size.
    with Image.open(full) as page:
        for n, top in enumerate(range(0, page.height, 844), start=1):
            screen = page.crop((0, top, 390, min(top + 844, page.height)))
            if screen.getextrema() != ((255, 255), (255, 255), (255, 255)):
                screen.save(ARTIFACTS / f"qr-live-page-phone-{n}.png")
