"""Stored pages and proofs on anvil, through the indexer: an anchor, a recall and the
milestones of a carrying shipment change exactly the affected passport's page, and a
reorg that removes them (``evm_snapshot`` / ``evm_revert``, then the chain grows past
the fork) changes that page, its proof bundle and its proofs back; another passport's
stored page is never touched. tests/backend/qr/test_stored_pages.py holds the same
rules on eth-tester."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from backend.chain import ChainClient
from backend.main import create_app
from tests.backend.conftest import api_settings
from tests.backend.qr.flow import Flow, make_flow, page_id, stored_page, stored_row
from tests.conftest import deployment_for
from tests.context import workers

pytestmark = pytest.mark.anvil

PENDING = "Pending · Not yet anchored on chain"
VERIFIED = "Verified on chain"


@pytest.fixture
def anvil_api(db_url: str, db_engine: Engine, anvil_chain: ChainClient) -> Iterator[TestClient]:
    """The app on anvil (workers driven by the test), rolled back after the test."""
    dep = deployment_for(anvil_chain)
    snap = anvil_chain.snapshot()
    app = create_app(api_settings(db_url), anvil_chain, deployment=dep)
    try:
        with TestClient(app) as client:
            yield client
    finally:
        anvil_chain.revert(snap)


@pytest.fixture
def flow(anvil_api: TestClient, anvil_chain: ChainClient) -> Flow:
    return make_flow(anvil_api, anvil_chain)


def _reorg(flow: Flow, chain: ChainClient, snap: object) -> None:
    """Another fork wins: the blocks since ``snap`` disappear and the chain grows past them."""
    chain.revert(snap)
    chain.mine(3)
    indexer = workers(flow.api).indexer
    indexer.step()
    assert indexer.reorgs >= 1


def test_reorg_on_anvil_that_removes_an_anchor_changes_page_bundle_and_proof_back(
    flow: Flow, anvil_chain: ChainClient
) -> None:
    link, _ = flow.issue(lot="AA1", serial="SN-AA1")
    other, _ = flow.issue(lot="AA2", serial="SN-AA2")
    flow.api.get(other.path)
    untouched = stored_row(flow, other)
    (event,) = flow.sign_events(bytes.fromhex(page_id(link)[2:]), count=1)
    proof_url = f"/v1/proofs/{event['eventId']}"
    bundle_url = f"/proof-bundle/{page_id(link)}.json"
    assert PENDING in flow.api.get(link.path).text
    snap = anvil_chain.snapshot()
    flow.anchor()
    assert VERIFIED in stored_page(flow, link)
    assert VERIFIED in flow.api.get(link.path).text
    assert flow.api.get(proof_url).json()["on_chain"] is True
    assert len(flow.api.get(bundle_url).json()["events"]) == 1
    anchored_etag = flow.api.get(proof_url).headers["etag"]

    _reorg(flow, anvil_chain, snap)
    assert PENDING in stored_page(flow, link)
    assert PENDING in flow.api.get(link.path).text
    proof = flow.api.get(proof_url, headers={"If-None-Match": anchored_etag})
    assert proof.status_code == 200
    assert proof.json()["on_chain"] is not True
    assert flow.api.get(bundle_url).json()["events"] == []
    after = stored_row(flow, other)
    assert (after.generation, after.etag) == (untouched.generation, untouched.etag)

    # Anchored again on the winning fork, the page and proof say so again.
    flow.anchor()
    assert VERIFIED in flow.api.get(link.path).text
    assert flow.api.get(proof_url).json()["on_chain"] is True


def test_reorg_on_anvil_that_removes_a_recall_changes_only_that_page_back(
    flow: Flow, anvil_chain: ChainClient
) -> None:
    link, _ = flow.issue(lot="AR1", serial="SN-AR1")
    other, _ = flow.issue(lot="AR2", serial="SN-AR2")
    flow.api.get(link.path)
    flow.api.get(other.path)
    untouched = stored_row(flow, other)
    snap = anvil_chain.snapshot()
    flow.recall(bytes.fromhex(page_id(link)[2:]), "Glaze fails the lead test")
    assert 'id="recall-banner"' in stored_page(flow, link)
    assert "Glaze fails the lead test" in flow.api.get(link.path).text
    assert stored_row(flow, other).generation == untouched.generation

    _reorg(flow, anvil_chain, snap)
    assert 'id="recall-banner"' not in stored_page(flow, link)
    assert 'id="recall-banner"' not in flow.api.get(link.path).text
    after = stored_row(flow, other)
    assert (after.generation, after.etag) == (untouched.generation, untouched.etag)


def test_reorg_on_anvil_that_removes_a_carrying_shipment_changes_its_passports_page_back(
    flow: Flow, anvil_chain: ChainClient
) -> None:
    carried, _ = flow.issue(lot="AJ1", serial="SN-AJ1")
    other, _ = flow.issue(lot="AJ2", serial="SN-AJ2")
    flow.api.get(carried.path)
    flow.api.get(other.path)
    untouched = stored_row(flow, other)
    snap = anvil_chain.snapshot()
    flow.ship(bytes.fromhex(page_id(carried)[2:]))
    assert "Export customs cleared" in stored_page(flow, carried)
    assert "Export customs cleared" in flow.api.get(carried.path).text
    assert stored_row(flow, other).generation == untouched.generation

    _reorg(flow, anvil_chain, snap)
    assert "Export customs cleared" not in stored_page(flow, carried)
    assert "Export customs cleared" not in flow.api.get(carried.path).text
    after = stored_row(flow, other)
    assert (after.generation, after.etag) == (untouched.generation, untouched.etag)
