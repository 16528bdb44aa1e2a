"""The war room on the seeded story: references, filters, pagination and the shipment page."""

from __future__ import annotations

import re

from tests.integration.world import World

ROW = re.compile(r'<tr class="row row--(\w+)" data-shipment="(0x[0-9a-f]{64})"')


def _rows(world: World, query: str = "", slug: str = "hearth-grove") -> list[str]:
    resp = world.client.get(f"/dashboard{query}", headers=world.seller(slug))
    assert resp.status_code == 200, resp.text
    return [sid for _colour, sid in ROW.findall(resp.text)]


def _label(world: World, sid: str) -> str:
    return next(k for k, v in world.result.shipments.items() if v == sid)


def _page(world: World, label: str, slug: str = "hearth-grove") -> str:
    sid = world.result.shipments[label]
    resp = world.client.get(f"/dashboard/shipments/{sid}", headers=world.seller(slug))
    assert resp.status_code == 200, resp.text
    return resp.text


def test_each_row_links_to_its_page_and_shows_the_sellers_reference(world: World) -> None:
    html = world.client.get("/dashboard", headers=world.seller()).text
    for _n, sid in enumerate(world.result.shipments.values(), start=1):
        link = f'href="/dashboard/shipments/{sid}"><strong class="ref">HG-2611-00'
        assert link in html, sid
    assert html.count('class="shipment-link"') == 6
    assert "HG-2611-003" in html
    board = world.board()
    assert {r["reference"] for r in board["shipments"]} == {f"HG-2611-00{i}" for i in range(1, 7)}
    assert all(r["page"] == f"/dashboard/shipments/{r['shipment_id']}" for r in board["shipments"])
    # Pool members and transfer parties by organisation name, not address.
    pool = html.split("<h2>Capacity pool</h2>")[1]
    assert "<td>Hearth &amp; Grove Home</td>" in pool
    assert not re.search(r"<code>0x[0-9a-fA-F]{6}…", pool)
    assert "Hearth &amp; Grove Home ← Lumen Row Lighting" in html


def test_filters_by_colour_route_party_reference_and_date(world: World) -> None:
    ids = world.result.shipments
    assert _rows(world, "?colour=red") == [ids["weight_discrepancy"]]
    assert sorted(_rows(world, "?colour=yellow")) == sorted([ids["late"], ids["emergency_truck"]])
    assert _rows(world, "?route=CNNGB-USLAX") == [ids["late"]]
    assert _rows(world, "?q=hg-2611-005") == [ids["on_time"]]
    assert _rows(world, "?q=" + ids["delivered"][:12]) == [ids["delivered"]]  # the id works too
    # The last-mile carrier key is on the Long Beach shipment and the emergency truck only.
    lastmile = world.client.get(
        f"/v1/shipments/{ids['emergency_truck']}", headers=world.seller()
    ).json()["carriers"][0]
    assert sorted(_rows(world, f"?party={lastmile.lower()}")) == sorted(
        [ids["customs_released"], ids["emergency_truck"]]
    )
    # Dates (UTC days) on the last event: nothing happened in 2020, everything up to tomorrow.
    assert _rows(world, "?to=2020-01-01") == []
    assert len(_rows(world, "?from=2020-01-01&to=2099-12-31")) == 6
    html = world.client.get("/dashboard?colour=red&route=CNNGB-USLAX", headers=world.seller()).text
    assert "No shipment matches these filters." in html
    assert '<option value="red" selected>' in html


def test_list_is_paginated_with_filters_kept_in_the_links(world: World) -> None:
    first = _rows(world, "?per_page=4")
    second = _rows(world, "?per_page=4&page=2")
    assert len(first) == 4
    assert len(second) == 2
    assert not set(first) & set(second)
    html = world.client.get("/dashboard?per_page=2&page=2&q=HG", headers=world.seller()).text
    assert "page 2 of 3" in html
    assert 'href="/dashboard?q=HG&amp;page=1&amp;per_page=2"' in html
    assert 'href="/dashboard?q=HG&amp;page=3&amp;per_page=2"' in html
    assert _rows(world, "?page=9") == []


def test_bad_filter_values_are_422_naming_the_parameter(world: World) -> None:
    for query, name in (
        ("?colour=purple", "colour"),
        ("?route=LAX", "route"),
        ("?party=0x12", "party"),
        ("?from=2026-02-30", "2026-02-30"),
        ("?page=0", "page"),
        ("?q=" + "x" * 65, "q"),
    ):
        resp = world.client.get(f"/dashboard{query}", headers=world.seller())
        assert resp.status_code == 422, (query, resp.status_code)
        assert name in resp.text, (query, resp.text)


def test_shipment_page_shows_timeline_signers_custody_customs_and_passports(world: World) -> None:
    html = _page(world, "customs_released")
    assert 'id="reference">HG-2611-002<' in html
    assert world.result.shipments["customs_released"] in html
    # Who signed, by organisation name, never a bare address.
    assert "Held by customs</strong> · Long Beach (USLGB)" in html
    assert "hold code 7" in html
    assert 'Signed by <span class="signer">Harbor Customs Brokerage</span>' in html
    assert 'accepted by <span class="signer">Pacific Bridge Logistics</span>' in html
    assert 'Signed by <span class="signer">Hearth &amp; Grove Home</span>' in html
    assert "released by customs at Long Beach (USLGB)" in html
    custody = html.split('id="custody"')[1].split("</section>")[0]
    assert "Pacific Bridge Logistics" in custody
    assert "West Dock Fulfilment (US West)" in custody
    passports = html.split('id="passports"')[1].split("</section>")[0]
    assert 'href="/01/08936045870013/10/TH2611-07"' in passports
    assert "Carrier</span> Pacific Bridge Logistics" in html
    assert re.search(r"<time datetime=\"[0-9T:-]+Z\" title=\"[^\"]+ UTC\">", html)


def test_weight_readings_name_the_reference_they_were_compared_with(world: World) -> None:
    html = _page(world, "weight_discrepancy")
    weights = html.split('id="weights"')[1].split("</section>")[0]
    assert "declared weight: 520 kg" in weights
    assert "585 kg" in weights
    assert "+12.5 %" in weights
    assert "beyond tolerance" in weights
    delivered = _page(world, "delivered").split('id="weights"')[1].split("</section>")[0]
    assert "481 kg" in delivered
    assert "+0.2 %" in delivered  # within tolerance: no badge
    assert "beyond tolerance" not in delivered


def test_sla_shows_planned_against_actual(world: World) -> None:
    sla = _page(world, "late").split('id="sla"')[1].split("</section>")[0]
    assert "Departed" in sla
    assert 'class="sla sla--late"' in sla
    assert 'class="sla sla--due"' in sla  # arrival still ahead
    delivered = _page(world, "delivered").split('id="sla"')[1].split("</section>")[0]
    assert 'class="sla sla--met"' in delivered


def test_the_lenders_page_shows_the_stock_transfer_agreement(world: World) -> None:
    board = world.board("lumen-row")
    (sid,) = [r["shipment_id"] for r in board["shipments"]]
    html = world.client.get(f"/dashboard/shipments/{sid}", headers=world.seller("lumen-row")).text
    agreements = html.split('id="agreements"')[1].split("</section>")[0]
    assert "Stock transfer #" in agreements
    assert "from Lumen Row Lighting to Hearth &amp; Grove Home" in agreements
    assert "settled" in agreements


def test_another_seller_cannot_open_the_page_and_strangers_are_sent_to_sign_in(
    world: World,
) -> None:
    sid = world.result.shipments["customs_released"]
    other = world.client.get(f"/dashboard/shipments/{sid}", headers=world.seller("loom-street"))
    assert other.status_code == 404
    assert "not found among this organisation's shipments" in other.json()["detail"]
    anon = world.client.get(f"/dashboard/shipments/{sid}", follow_redirects=False)
    assert anon.status_code == 303
    bad = world.client.get("/dashboard/shipments/0x1234", headers=world.seller())
    assert bad.status_code == 422


def test_shipment_page_as_json(world: World) -> None:
    sid = world.result.shipments["weight_discrepancy"]
    data = world.client.get(
        f"/dashboard/shipments/{sid}",
        headers={**world.seller(), "Accept": "application/json"},
    ).json()
    assert data["reference"] == "HG-2611-003"
    assert data["assessment"]["colour"] == "red"
    assert data["weights"][-1]["reference"] == "declared weight"
    assert next(t["signed_by"] for t in data["timeline"]) == "Hearth & Grove Home"
