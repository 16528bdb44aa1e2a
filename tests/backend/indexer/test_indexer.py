"""The indexer follows Anchored events and undoes what a reorg removed."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from backend.anchoring.models import AnchorBatch, ChainAnchor
from backend.chain import AnchorRegistryClient, ChainClient
from backend.indexer.models import ChainCursor
from backend.indexer.service import Indexer
from tests.backend.factories import domain_of, make_org, signed_event


def _indexer(api: TestClient) -> Indexer:
    return api.app.state.indexer  # type: ignore[attr-defined,no-any-return]


def test_indexer_records_anchors_and_advances_its_cursor(
    api: TestClient, tester: ChainClient
) -> None:
    acme = make_org(api, "acme")
    body = signed_event(domain_of(api), acme.signer)
    api.post("/v1/events", json=body, headers=acme.writer)
    api.app.state.anchor_worker.run_until_idle()  # type: ignore[attr-defined]
    indexer = _indexer(api)
    assert indexer.step() >= 1
    assert indexer.step() == 0
    with api.app.state.sessionmaker() as session:  # type: ignore[attr-defined]
        anchors = session.scalars(select(ChainAnchor)).all()
        batch = session.scalars(select(AnchorBatch)).one()
        cursor = session.get(ChainCursor, "main")
    assert [a.root for a in anchors] == [batch.root]
    assert anchors[0].tx_hash == batch.tx_hash
    assert cursor is not None
    assert cursor.last_block == tester.block_number()


def test_reorg_drops_anchor_and_events_are_anchored_again(
    api: TestClient, tester: ChainClient
) -> None:
    acme = make_org(api, "acme")
    dom = domain_of(api)
    indexer = _indexer(api)
    worker = api.app.state.anchor_worker  # type: ignore[attr-defined]
    indexer.step()
    snap = tester.snapshot()
    bodies = [signed_event(dom, acme.signer) for _ in range(3)]
    api.post("/v1/events/batch", json={"events": bodies}, headers=acme.writer)
    worker.run_until_idle()
    indexer.step()
    first = api.get(f"/v1/proofs/{bodies[0]['eventId']}").json()
    assert first["on_chain"] is True
    # Another fork wins: the anchoring block disappears, the chain grows past it.
    tester.revert(snap)
    tester.mine(3)
    registry = AnchorRegistryClient(tester, dom.verifying_contract)
    assert registry.anchor_count() == 0
    assert api.get(f"/v1/proofs/{bodies[0]['eventId']}").json()["on_chain"] is False
    indexer.step()
    assert indexer.reorgs == 1
    with api.app.state.sessionmaker() as session:  # type: ignore[attr-defined]
        assert session.scalars(select(ChainAnchor)).all() == []
        assert session.scalars(select(AnchorBatch.status)).all() == ["orphaned"]
    worker.run_until_idle()
    indexer.step()
    for body in bodies:
        out = api.get(f"/v1/proofs/{body['eventId']}").json()
        assert out["event"]["status"] == "final"
        assert out["on_chain"] is True
    assert registry.anchor_count() == 1
    with api.app.state.sessionmaker() as session:  # type: ignore[attr-defined]
        assert len(session.scalars(select(ChainAnchor)).all()) == 1
