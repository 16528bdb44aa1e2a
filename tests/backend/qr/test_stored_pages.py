"""Stored consumer pages: recomputed per passport when their data changes, never stale.

Each test scans first (the page is stored), changes something through the API and the
chain, and checks both what the next scan shows and which stored rows changed.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from backend.chain import ChainClient
from backend.db.base import utcnow
from backend.pages import store
from backend.pages.models import PageTemplate, PassportPage
from backend.passports.models import Passport
from tests.backend.qr.flow import Flow, make_flow, page_id, plant, stored_page, stored_row
from tests.context import context, workers


@pytest.fixture
def flow(api: TestClient, tester: ChainClient) -> Flow:
    return make_flow(api, tester)


def test_issue_stores_the_page_and_a_scan_sends_those_bytes(flow: Flow) -> None:
    link, _ = flow.issue(lot="S1", serial="SN-S1")
    stored = stored_page(flow, link)  # computed by the indexer round that saw the issue
    resp = flow.api.get(link.path)  # accepts gzip: gets the stored bytes as they are
    assert resp.status_code == 200
    assert resp.headers["content-encoding"] == "gzip"
    assert resp.text == stored
    assert resp.headers["etag"] == stored_row(flow, link).etag
    plain = flow.api.get(link.path, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.text == stored


def test_recall_then_the_next_scan_shows_the_recall(flow: Flow) -> None:
    link, _ = flow.issue(lot="R2", serial="SN-R2")
    assert "recall-banner" not in flow.api.get(link.path).text
    flow.recall(bytes.fromhex(page_id(link)[2:]), "Lead above the limit in the glaze")
    assert 'id="recall-banner"' in stored_page(flow, link)
    page = flow.api.get(link.path).text
    assert 'id="recall-banner"' in page
    assert "Lead above the limit in the glaze" in page


def test_a_marked_page_is_never_sent_even_before_it_is_recomputed(flow: Flow) -> None:
    link, _ = flow.issue(lot="M1", serial="SN-M1")
    good = flow.api.get(link.path).text
    # A stale copy that must not leak: the write that marked it committed first.
    plant(flow, link, "<p>old page</p>", stale=True)
    assert flow.api.get(link.path).text == good
    assert stored_page(flow, link) == good  # the scan stored what it computed


def test_milestone_of_a_carrying_shipment_changes_only_that_passports_page(flow: Flow) -> None:
    carried, _ = flow.issue(lot="J1", serial="SN-J1")
    other, _ = flow.issue(lot="J2", serial="SN-J2")
    flow.api.get(carried.path)
    flow.api.get(other.path)
    before = stored_row(flow, other)
    assert "Export customs cleared" not in stored_page(flow, carried)
    flow.ship(bytes.fromhex(page_id(carried)[2:]))
    assert "Export customs cleared" in stored_page(flow, carried)
    assert "Export customs cleared" in flow.api.get(carried.path).text
    after = stored_row(flow, other)
    assert (after.generation, after.computed_at, after.etag) == (
        before.generation,
        before.computed_at,
        before.etag,
    )


def test_anchor_changes_the_page_and_a_reorg_that_removes_it_changes_it_back(
    flow: Flow, tester: ChainClient
) -> None:
    link, _ = flow.issue(lot="A1", serial="SN-A1")
    other, _ = flow.issue(lot="A2", serial="SN-A2")
    flow.api.get(other.path)
    untouched = stored_row(flow, other)
    flow.sign_events(bytes.fromhex(page_id(link)[2:]), count=1)
    assert "Pending · Not yet anchored on chain" in flow.api.get(link.path).text
    snap = tester.snapshot()
    flow.anchor()
    assert "Verified on chain" in stored_page(flow, link)
    assert "Verified on chain" in flow.api.get(link.path).text
    # Another fork wins: the anchoring block disappears and the chain grows past it.
    tester.revert(snap)
    tester.mine(3)
    workers(flow.api).indexer.step()
    assert "Pending · Not yet anchored on chain" in stored_page(flow, link)
    assert "Pending · Not yet anchored on chain" in flow.api.get(link.path).text
    assert stored_row(flow, other).generation == untouched.generation
    assert stored_row(flow, other).etag == untouched.etag


def test_a_reorg_that_removes_a_recall_changes_the_page_back(
    flow: Flow, tester: ChainClient
) -> None:
    link, _ = flow.issue(lot="R3", serial="SN-R3")
    snap = tester.snapshot()
    flow.recall(bytes.fromhex(page_id(link)[2:]), "Cracks under heat")
    assert 'id="recall-banner"' in flow.api.get(link.path).text
    tester.revert(snap)
    tester.mine(3)
    workers(flow.api).indexer.step()
    assert 'id="recall-banner"' not in stored_page(flow, link)
    assert 'id="recall-banner"' not in flow.api.get(link.path).text


def test_conditional_scan_gets_304_until_the_page_changes(flow: Flow) -> None:
    link, _ = flow.issue(lot="E1", serial="SN-E1")
    first = flow.api.get(link.path)
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "public, max-age=15"
    again = flow.api.get(link.path, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    flow.recall(bytes.fromhex(page_id(link)[2:]), "Recalled")
    changed = flow.api.get(link.path, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert 'id="recall-banner"' in changed.text


def test_bundle_and_proof_answer_if_none_match_with_304_until_they_change(flow: Flow) -> None:
    link, _ = flow.issue(lot="E2", serial="SN-E2")
    events = flow.sign_events(bytes.fromhex(page_id(link)[2:]), count=1)
    bundle_url = f"/proof-bundle/{page_id(link)}.json"
    proof_url = f"/v1/proofs/{events[0]['eventId']}"
    pending = flow.api.get(proof_url)
    assert pending.json()["on_chain"] is None
    bundle = flow.api.get(bundle_url)
    assert bundle.json()["events"] == []
    for url, resp in ((bundle_url, bundle), (proof_url, pending)):
        again = flow.api.get(url, headers={"If-None-Match": resp.headers["etag"]})
        assert again.status_code == 304, url
        assert again.content == b""
    flow.anchor()
    for url, resp in ((bundle_url, bundle), (proof_url, pending)):
        changed = flow.api.get(url, headers={"If-None-Match": resp.headers["etag"]})
        assert changed.status_code == 200, url
        assert changed.headers["etag"] != resp.headers["etag"]
    assert flow.api.get(proof_url).json()["on_chain"] is True
    assert len(flow.api.get(bundle_url).json()["events"]) == 1


def test_events_and_anchors_about_things_that_are_no_passport_make_no_page_rows(
    flow: Flow,
) -> None:
    """An event's subject may be anything: only stored pages are marked, none is made."""
    link, _ = flow.issue(lot="N1", serial="SN-N1")
    before = stored_row(flow, link)
    subject = secrets.token_bytes(32)
    flow.sign_events(subject, count=2)
    flow.anchor()
    with context(flow.api).sessions() as session:
        assert session.get(PassportPage, "0x" + subject.hex()) is None
        assert session.scalar(select(func.count()).select_from(PassportPage)) == 1
    assert stored_row(flow, link).generation == before.generation


def test_lot_mates_issued_in_one_block_share_one_stored_template(flow: Flow) -> None:
    """Items of a lot whose pages differ only in serial, passport id and issuing
    transaction (each issue its own, in one block of a chain in use) keep one template
    between them; a scan of each still gets its own page, never its lot-mate's."""
    a, _ = flow.issue(lot="T1", serial="SN-T1-100")
    b, _ = flow.issue(lot="T1", serial="SN-T1-1000")
    ids = [page_id(a), page_id(b)]
    with context(flow.api).sessions() as session:
        # This chain is young (two-digit blocks); a chain in use has seven or more.
        session.execute(
            update(Passport).where(Passport.id.in_(ids)).values(block_number=21_000_123)
        )
        store.mark(session, ids)
        session.commit()
    pages = {link.serial: flow.api.get(link.path) for link in (a, b)}
    rows = [stored_row(flow, a), stored_row(flow, b)]
    assert rows[0].template_id is not None
    assert rows[0].template_id == rows[1].template_id
    for link, other in ((a, b), (b, a)):
        page = pages[link.serial].text
        assert f"<bdi>{link.serial}</bdi>" in page
        assert f"<bdi>{other.serial}</bdi>" not in page
        assert page_id(link) in page
        assert page_id(other) not in page
        assert page == stored_page(flow, link)
    with context(flow.api).sessions() as session:
        tx = dict(
            session.execute(select(Passport.id, Passport.tx_hash).where(Passport.id.in_(ids))).all()
        )
    assert tx[ids[0]] != tx[ids[1]]
    assert tx[ids[0]] in pages[a.serial].text
    assert tx[ids[1]] not in pages[a.serial].text


def test_a_template_no_page_refers_to_is_swept_after_the_grace(flow: Flow) -> None:
    link, _ = flow.issue(lot="W1", serial="SN-W1")
    first = stored_row(flow, link).template_id
    flow.recall(bytes.fromhex(page_id(link)[2:]), "Glaze fails the lead test")
    now = stored_row(flow, link).template_id
    assert now != first
    with context(flow.api).sessions() as session:
        assert store.sweep(session) == 0  # within the grace: a scan may still be reading it
        later = utcnow() + store.TEMPLATE_GRACE + timedelta(minutes=1)
        assert store.sweep(session, now=later) >= 1
        session.commit()
        kept = set(session.scalars(select(PageTemplate.id)))
    assert first not in kept
    assert now in kept  # the page refers to it: never swept
    assert 'id="recall-banner"' in flow.api.get(link.path).text


def test_a_scan_whose_template_was_swept_under_it_computes_the_page(flow: Flow) -> None:
    link, _ = flow.issue(lot="W2", serial="SN-W2")
    reader = store.PageReader(context(flow.api).engine)
    try:
        assert reader.get(link.path) is not None
        assert reader.template(10**12) is None  # read the row, then found no template
    finally:
        reader.close()
