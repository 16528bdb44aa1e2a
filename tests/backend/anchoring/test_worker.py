"""The anchoring worker: batches, proofs that verify on chain, recovery, parallel workers."""

from __future__ import annotations

import threading

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, text

from backend.anchoring import merkle
from backend.anchoring.models import AnchorBatch, EventProof
from backend.anchoring.service import ANCHOR_PURPOSE
from backend.anchoring.worker import AnchorWorker
from backend.chain import AnchorRegistryClient, ChainClient
from backend.chain.typed_data.events import (
    hash_supply_event,
    location_bytes,
    supply_event_digest,
)
from backend.events.models import SupplyEvent
from backend.relayer.models import RelayRequest, SentTransaction
from tests.backend.factories import Org, domain_of, make_org, signed_event
from tests.context import context, workers


def _post(api: TestClient, org: Org, n: int) -> list[dict[str, object]]:
    dom = domain_of(api)
    events = [signed_event(dom, org.signer) for _ in range(n)]
    resp = api.post("/v1/events/batch", json={"events": events}, headers=org.writer)
    assert resp.json()["accepted"] == n, resp.text
    return events


def _worker(api: TestClient) -> AnchorWorker:
    return workers(api).anchor


def _registry(api: TestClient, chain: ChainClient) -> AnchorRegistryClient:
    return AnchorRegistryClient(chain, domain_of(api).verifying_contract)


def test_anchored_events_have_proofs_a_third_party_can_check(
    api: TestClient, tester: ChainClient
) -> None:
    acme = make_org(api, "acme")
    events = _post(api, acme, 7)
    _worker(api).run_until_idle()
    workers(api).indexer.step()  # records the verification
    registry = _registry(api, tester)
    for body in events:
        out = api.get(f"/v1/proofs/{body['eventId']}").json()
        assert out["event"]["status"] == "final"
        assert out["on_chain"] is True
        # Recompute everything from the public fields, trusting nothing stored.
        dom = domain_of(api)
        struct = hash_supply_event(
            bytes.fromhex(str(body["eventId"])[2:]),
            bytes.fromhex(str(body["subject"])[2:]),
            int(body["kind"]),  # type: ignore[call-overload]
            int(body["occurredAt"]),  # type: ignore[call-overload]
            location_bytes(str(body["location"])),
            bytes.fromhex(str(body["payloadHash"])[2:]),
        )
        digest = supply_event_digest(dom.separator, struct)
        assert out["digest"] == "0x" + digest.hex()
        leaf = merkle.leaf_hash(digest)
        assert out["leaf"] == "0x" + leaf.hex()
        root = bytes.fromhex(out["anchor"]["root"][2:])
        proof = [bytes.fromhex(p[2:]) for p in out["proof"]]
        assert merkle.verify(root, leaf, proof)
        assert registry.verify(root, leaf, proof)
        assert registry.anchor_of(root).block_number == out["anchor"]["block_number"]  # type: ignore[union-attr]


def test_batches_respect_the_size_limit(api: TestClient) -> None:
    acme = make_org(api, "acme")
    worker = _worker(api)
    worker.settings = worker.settings.model_copy(update={"anchor_batch_size": 4})
    _post(api, acme, 10)
    worker.run_until_idle()
    with context(api).sessions() as session:
        sizes = sorted(session.scalars(select(AnchorBatch.leaf_count)))
    assert sizes == [2, 4, 4]


def test_a_sent_but_unrecorded_anchor_is_recovered_not_sent_twice(
    api: TestClient, tester: ChainClient
) -> None:
    acme = make_org(api, "acme")
    _post(api, acme, 3)
    worker = _worker(api)
    assert worker.build() == 1
    registry = _registry(api, tester)
    with context(api).sessions() as session:
        req = session.scalars(
            select(RelayRequest).where(RelayRequest.purpose == ANCHOR_PURPOSE)
        ).one()
    # The crashed worker's transaction: on chain, but its hash never reached the DB.
    lost = tester.transact_raw({"to": req.to_address, "data": req.data})
    count_before = registry.anchor_count()
    worker.run_until_idle()
    assert registry.anchor_count() == count_before
    with context(api).sessions() as session:
        req = session.scalars(
            select(RelayRequest).where(RelayRequest.purpose == ANCHOR_PURPOSE)
        ).one()
        assert req.status == "final"
        assert req.tx_hash == lost.tx_hash
        assert (
            session.scalar(
                select(func.count())
                .select_from(SentTransaction)
                .join(RelayRequest, RelayRequest.id == SentTransaction.relay_id)
                .where(RelayRequest.purpose == ANCHOR_PURPOSE)
            )
            == 0
        )


def test_duplicate_root_revert_after_sending_counts_as_success(
    api: TestClient, tester: ChainClient
) -> None:
    acme = make_org(api, "acme")
    _post(api, acme, 2)
    worker = _worker(api)
    worker.build()
    worker.relay.relayer.drive()  # sends and records the anchor transaction
    with context(api).sessions() as session:
        req = session.scalars(
            select(RelayRequest).where(RelayRequest.purpose == ANCHOR_PURPOSE)
        ).one()
        # Pretend the receipt was never seen and the request must be re-sent.
        req.status = "queued"
        req.nonce = None
        session.commit()
    worker.run_until_idle()
    with context(api).sessions() as session:
        assert session.scalars(
            select(RelayRequest.status).where(RelayRequest.purpose == ANCHOR_PURPOSE)
        ).all() == ["final"]
    assert _registry(api, tester).anchor_count() == 1


def test_parallel_workers_put_each_event_in_exactly_one_batch(api: TestClient) -> None:
    acme = make_org(api, "acme")
    base = _worker(api)
    settings = base.settings.model_copy(update={"anchor_batch_size": 5})
    workers = [
        AnchorWorker(
            sessions=base.sessions, chain=base.chain, registry=base.registry, settings=settings
        )
        for _ in range(3)
    ]
    _post(api, acme, 40)
    threads = [threading.Thread(target=w.run_until_idle, kwargs={"timeout": 60}) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with context(api).sessions() as session:
        batches = session.scalars(select(AnchorBatch)).all()
        assert sum(b.leaf_count for b in batches) == 40
        assert {b.status for b in batches} == {"final"}
        per_event = session.execute(
            select(EventProof.batch_id, func.count())
            .where(EventProof.event_id.is_not(None))
            .group_by(EventProof.batch_id)
        ).all()
        assert sum(c for _, c in per_event) == 40
        assert len({b.root for b in batches}) == len(batches)


def test_health_reports_anchoring_backlog(api: TestClient) -> None:
    acme = make_org(api, "acme")
    _post(api, acme, 3)
    body = api.get("/health").json()
    assert body["database"] == "ok"
    assert body["anchoring"]["pending"] == 3
    _worker(api).run_until_idle()
    assert api.get("/health").json()["anchoring"]["backlog"] == 0


def test_a_permanent_revert_parks_the_batch_until_an_operator_requeues_it(
    api: TestClient, tester: ChainClient
) -> None:
    from backend.anchoring.service import requeue_failed

    acme = make_org(api, "acme")
    events = _post(api, acme, 3)
    registry = _registry(api, tester)
    worker = _worker(api)
    assert worker.build() == 1
    with context(api).sessions() as session:
        # A request whose call can never succeed (a batch of no leaves, as a broken
        # build would encode it): the registry refuses it every time.
        req = session.scalars(
            select(RelayRequest).where(RelayRequest.purpose == ANCHOR_PURPOSE)
        ).one()
        batch = session.scalars(select(AnchorBatch)).one()
        req.data = registry.anchor_calldata(bytes.fromhex(batch.root[2:]), 0)
        session.commit()
    worker.relay.step()
    worker.relay.step()
    with context(api).sessions() as session:
        assert session.scalars(select(AnchorBatch.status)).all() == ["failed"]
        req = session.scalars(
            select(RelayRequest).where(RelayRequest.purpose == ANCHOR_PURPOSE)
        ).one()
        assert "AnchorLeafCountZero" in (req.last_error or "")
    assert api.get(f"/v1/proofs/{events[0]['eventId']}").json()["event"]["status"] == "batched"
    with context(api).sessions() as session:
        assert requeue_failed(session) == 3
    worker.run_until_idle()
    workers(api).indexer.step()
    assert api.get(f"/v1/proofs/{events[0]['eventId']}").json()["on_chain"] is True


REFUSE_UPDATES = {
    "sqlite": [
        "CREATE TRIGGER events_written_once BEFORE UPDATE ON supply_events "
        "BEGIN SELECT RAISE(ABORT, 'supply event rewritten'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION events_written_once() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'supply event rewritten'; END $$",
        "CREATE TRIGGER events_written_once BEFORE UPDATE ON supply_events "
        "FOR EACH ROW EXECUTE FUNCTION events_written_once()",
    ],
}
ALLOW_UPDATES = {
    "sqlite": ["DROP TRIGGER events_written_once"],
    "postgresql": [
        "DROP TRIGGER events_written_once ON supply_events",
        "DROP FUNCTION events_written_once()",
    ],
}


def test_an_event_row_is_written_once_and_reads_its_status_off_its_batch(
    api: TestClient, db_engine: Engine
) -> None:
    """Batching, anchoring and finality write proofs and one batch row, never the events:
    the database refuses any UPDATE of supply_events here, and the events still go from
    pending to final, counted by status on the way."""
    acme = make_org(api, "acme")
    events = _post(api, acme, 3)
    dialect = db_engine.dialect.name
    with db_engine.begin() as conn:
        for sql in REFUSE_UPDATES[dialect]:
            conn.execute(text(sql))
    try:
        worker = _worker(api)

        def seen() -> tuple[dict[str, object], str]:
            anchoring = api.get("/health").json()["anchoring"]
            status = api.get(f"/v1/proofs/{events[0]['eventId']}").json()["event"]["status"]
            return {k: anchoring[k] for k in ("pending", "batched", "anchored", "backlog")}, status

        assert seen() == ({"pending": 3, "batched": 0, "anchored": 0, "backlog": 3}, "pending")
        assert worker.build() == 1
        assert seen() == ({"pending": 0, "batched": 3, "anchored": 0, "backlog": 3}, "batched")
        worker.run_until_idle()
        assert seen() == ({"pending": 0, "batched": 0, "anchored": 0, "backlog": 0}, "final")
        with context(api).sessions() as session:
            statuses = session.scalars(select(SupplyEvent.status).select_from(SupplyEvent)).all()
            assert statuses == ["final"] * 3
    finally:
        with db_engine.begin() as conn:
            for sql in ALLOW_UPDATES[dialect]:
                conn.execute(text(sql))
