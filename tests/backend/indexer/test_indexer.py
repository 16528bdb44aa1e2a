"""The indexer follows Anchored events and undoes what a reorg removed."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from backend.anchoring.indexer import rollback as anchor_rollback
from backend.anchoring.indexer import verify_proofs
from backend.anchoring.models import AnchorBatch, ChainAnchor, EventProof
from backend.chain import AnchorRegistryClient, ChainClient
from backend.indexer.models import ChainCursor
from backend.indexer.service import Indexer
from tests.backend.factories import domain_of, make_org, signed_event
from tests.context import context, workers


def _indexer(api: TestClient) -> Indexer:
    return workers(api).indexer


def test_indexer_records_anchors_and_advances_its_cursor(
    api: TestClient, tester: ChainClient
) -> None:
    acme = make_org(api, "acme")
    body = signed_event(domain_of(api), acme.signer)
    api.post("/v1/events", json=body, headers=acme.writer)
    workers(api).anchor.run_until_idle()
    indexer = _indexer(api)
    assert indexer.step() >= 1
    assert indexer.step() == 0
    with context(api).sessions() as session:
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
    worker = workers(api).anchor
    indexer.step()
    snap = tester.snapshot()
    bodies = [signed_event(dom, acme.signer) for _ in range(3)]
    api.post("/v1/events/batch", json={"events": bodies}, headers=acme.writer)
    worker.run_until_idle()
    indexer.step()
    first = api.get(f"/v1/proofs/{bodies[0]['eventId']}").json()
    assert first["on_chain"] is True
    registry = AnchorRegistryClient(tester, dom.verifying_contract)
    # What was recorded once is what the contract says for the same proof.
    assert registry.verify(
        bytes.fromhex(first["anchor"]["root"][2:]),
        bytes.fromhex(first["leaf"][2:]),
        [bytes.fromhex(p[2:]) for p in first["proof"]],
    )
    # Another fork wins: the anchoring block disappears, the chain grows past it.
    tester.revert(snap)
    tester.mine(3)
    assert registry.anchor_count() == 0
    # The endpoint reads rows, no call to the chain: it follows the indexer.
    assert api.get(f"/v1/proofs/{bodies[0]['eventId']}").json()["on_chain"] is True
    indexer.step()
    assert indexer.reorgs == 1
    assert api.get(f"/v1/proofs/{bodies[0]['eventId']}").json()["on_chain"] is not True
    with context(api).sessions() as session:
        assert session.scalars(select(ChainAnchor)).all() == []
        assert session.scalars(select(AnchorBatch.status)).all() == ["orphaned"]
    worker.run_until_idle()
    indexer.step()
    for body in bodies:
        out = api.get(f"/v1/proofs/{body['eventId']}").json()
        assert out["event"]["status"] == "final"
        assert out["on_chain"] is True
    assert registry.anchor_count() == 1
    with context(api).sessions() as session:
        assert len(session.scalars(select(ChainAnchor)).all()) == 1


def test_proof_verification_is_recorded_when_anchored_and_undone_from_the_fork(
    api: TestClient, tester: ChainClient
) -> None:
    acme = make_org(api, "acme")
    dom = domain_of(api)
    bodies = [signed_event(dom, acme.signer) for _ in range(3)]
    api.post("/v1/events/batch", json={"events": bodies}, headers=acme.writer)
    workers(api).anchor.run_until_idle()
    with context(api).sessions() as session:
        assert session.scalars(select(EventProof.verified_block)).all() == [None] * 3
    _indexer(api).step()
    with context(api).sessions() as session:
        anchor = session.scalars(select(ChainAnchor)).one()
        blocks = session.scalars(select(EventProof.verified_block)).all()
        assert blocks == [anchor.block_number] * 3
        # A proof that does not lead to the root is not recorded as verified.
        bad = session.scalars(select(EventProof)).first()
        assert bad is not None
        bad.proof = '["0x' + "00" * 32 + '"]'
        bad.verified_block = None
        session.flush()
        assert verify_proofs(session, anchor.root, anchor.block_number) == 0
        # The relayer has not yet seen its transaction mined (another process): the
        # batch keeps its proofs through the reorg, but none stays verified.
        session.execute(update(AnchorBatch).values(status="built", block_number=None))
        anchor_rollback(session, anchor.block_number)
        assert session.scalars(select(EventProof.verified_block)).all() == [None] * 3
        session.rollback()
