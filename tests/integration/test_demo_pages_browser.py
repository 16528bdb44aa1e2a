"""The seeded story's pages in headless Chromium, phone and desktop, with screenshots.

The consumer page of the demo lot, the seller's dashboard list (signed in through
the form) and a shipment page reached by clicking its row; times must show in the
viewer's time zone with UTC kept on hover.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from backend.chain.anvil import free_port
from backend.demo.scenario import GTIN, LOT
from tests.browser import CHROMIUM, DESKTOP, PHONE, shot, visit
from tests.integration.world import World

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")

SIZES = pytest.mark.parametrize(
    ("size", "zone", "zone_name"),
    [(PHONE, "Asia/Ho_Chi_Minh", "GMT+7"), (DESKTOP, "America/Los_Angeles", "GMT-8")],
    ids=["phone", "desktop"],
)


@pytest.fixture(scope="module")
def server(world: World) -> Iterator[str]:
    """The seeded app over real HTTP (its lifespan already runs under the test client)."""
    port = free_port()
    config = uvicorn.Config(
        world.client.app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _sign_in(world: World) -> list[dict[str, object]]:
    return [
        {"fill": "#api_key", "value": world.result.seller_key},
        {"click": "form[action='/dashboard/login'] button"},
        {"waitFor": "table.shipments"},
    ]


@SIZES
def test_consumer_page_of_the_demo_lot(
    server: str, size: tuple[int, int], zone: str, zone_name: str
) -> None:
    seen = visit(
        f"{server}/01/{GTIN}/10/{LOT}",
        [{"text": "body"}, {"scrollWidth": True}, shot("demo-consumer-page", size)],
        viewport=size,
        timezone=zone,
    )
    assert seen.status == 200
    (text,) = seen.values("text")
    assert "Solid bamboo dinner set" in text
    assert "Long Beach" in text
    (width,) = seen.values("scrollWidth")
    assert width <= size[0]


@SIZES
def test_dashboard_list_links_each_row_and_shows_local_times(
    server: str, world: World, size: tuple[int, int], zone: str, zone_name: str
) -> None:
    seen = visit(
        f"{server}/dashboard/login",
        [
            *_sign_in(world),
            {"count": "tr.row a.shipment-link"},
            {"text": "table.shipments"},
            {"text": "tr.row time[datetime]"},
            {"attr": "tr.row time[datetime]", "name": "title"},
            {"attr": "tr.row time[datetime]", "name": "data-local"},
            {"scrollWidth": True},
            shot("demo-dashboard", size),
        ],
        viewport=size,
        timezone=zone,
    )
    (rows,) = seen.values("count")
    assert rows == 6
    table, first_time = seen.values("text")
    for n in range(1, 7):
        assert f"HG-2611-00{n}" in table
    assert zone_name in first_time  # rendered in the viewer's zone …
    titles, localised = seen.values("attr")
    assert titles
    assert all(t.endswith(" UTC") for t in titles)  # … with UTC on hover
    assert all(flag == "1" for flag in localised)
    (width,) = seen.values("scrollWidth")
    assert width <= size[0], "the list scrolls sideways"


@SIZES
def test_clicking_a_row_opens_the_shipment_page(
    server: str, world: World, size: tuple[int, int], zone: str, zone_name: str
) -> None:
    seen = visit(
        f"{server}/dashboard/login",
        [
            *_sign_in(world),
            {"click": "tr[data-colour='red'] a.shipment-link"},
            {"waitFor": "#timeline"},
            {"text": "main"},
            {"text": "#timeline time"},
            {"scrollWidth": True},
            shot("demo-shipment-page", size),
        ],
        viewport=size,
        timezone=zone,
    )
    clicked = [r for r in seen.results if r["step"] == "click"][-1]
    assert (
        clicked["url"]
        == f"{server}/dashboard/shipments/{world.result.shipments['weight_discrepancy']}"
    )
    page, when = seen.values("text")
    assert "HG-2611-003" in page
    assert "Signed by Hearth & Grove Home, accepted by Pacific Bridge Logistics" in page
    assert "declared weight: 520 kg" in page
    assert "beyond tolerance" in page
    assert zone_name in when
    (width,) = seen.values("scrollWidth")
    assert width <= size[0], "the shipment page scrolls sideways"
