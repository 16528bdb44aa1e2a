"""The consumer journey: one leg list per shipment, the weight badge names its reference."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from backend.chain import ChainClient
from backend.gs1.keys import passport_id
from backend.qr.flows import weight_text
from backend.qr.page import chain_kind
from backend.qr.render import render_product_page
from tests.backend.qr.factories import product_page
from tests.backend.qr.flow import Flow, make_flow

HTML_ACCEPT = {"Accept": "text/html"}


@pytest.fixture
def flow(api: TestClient, tester: ChainClient) -> Flow:
    return make_flow(api, tester)


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_two_shipments_of_one_lot_are_two_groups_in_order_with_route_and_dates(
    flow: Flow,
) -> None:
    link, _ = flow.issue(lot="TH2611-07")
    pid = passport_id(link.gtin, link.lot, link.serial)
    flow.ship(pid, hold=True)
    flow.ship(pid)
    html = flow.api.get(f"/01/{link.gtin}/10/{link.lot}", headers=HTML_ACCEPT).text
    journey = html.split('id="journey"')[1].split("</section>\n\n<section")[0]
    groups = journey.split('<section class="shipment"')[1:]
    assert len(groups) == 2
    first, second = (_text(g) for g in groups)
    assert first.startswith('aria-label="Shipment 1 of 2"')
    assert "Shipment 1 of 2: Ho Chi Minh City, Vietnam → Los Angeles, United States" in first
    assert "Shipment 2 of 2: Ho Chi Minh City, Vietnam → Los Angeles, United States" in second
    assert re.search(
        r"Los Angeles, United States \d+ \w{3} \d{4}, \d\d:\d\d UTC", first
    )  # its dates
    # The customs hold belongs to the first shipment only; the second was cleared.
    assert "Held by customs at Los Angeles" in first
    assert "Held by customs at Los Angeles" not in second
    assert "Import customs cleared" in second
    assert "Import customs cleared" not in first
    assert first.count("Picked up by the carrier") == 1


def test_a_journey_given_without_groups_renders_as_one_list_without_a_route() -> None:
    html = render_product_page(product_page())
    journey = html.split('id="journey"')[1]
    assert journey.count('<section class="shipment"') == 1
    assert "Shipment 1 of" not in journey
    assert "Held by customs at Los Angeles" in journey


def test_weight_badge_names_the_reference_it_compares_with() -> None:
    assert weight_text(585_000, 520_000, 520_000) == "weighed 585 kg against 520 kg declared"
    assert (
        weight_text(431_000, 412_000, 400_000) == "weighed 431 kg against 412 kg measured earlier"
    )


def test_the_chain_is_named_as_what_it_is() -> None:
    assert chain_kind(131277322940537) == "a local test chain (eth-tester), not a public blockchain"
    assert "not a public blockchain" in chain_kind(31337)
    assert chain_kind(11155111) == "Sepolia, a public Ethereum test network"
    assert chain_kind(1) == "Ethereum mainnet, a public blockchain"
    assert chain_kind(8453) == "Base, a public Ethereum layer-2 network"
    assert chain_kind(999) == "the chain with id 999"
