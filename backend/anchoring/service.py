"""Batching events into Merkle roots, the anchor relay handler, and proof lookup.

Two kinds of events are anchored, side by side in the same batches: signed supply
events (outbox topic ``anchor``, leaf input their EIP-712 digest) and captured EPCIS
events (topic ``anchor_epcis``, leaf input the SHA-256 of their CBV 2.0 pre-hash
string, i.e. the digest inside their event hash id).
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.orm import Session

from backend.anchoring import merkle
from backend.anchoring.models import AnchorBatch, EventProof
from backend.chain import AnchorRegistryClient, ChainClient, ContractRevert
from backend.common.types import hex_bytes, to_hex
from backend.db.base import utcnow
from backend.db.lists import among, insert_rows
from backend.events.models import EpcisEvent, Outbox, SupplyEvent
from backend.events.service import ANCHOR_TOPIC, EPCIS_ANCHOR_TOPIC
from backend.pages import store as pages
from backend.relayer import service as relayer
from backend.relayer.models import RelayRequest
from backend.relayer.service import Mined

log = logging.getLogger(__name__)

ANCHOR_PURPOSE = "anchor"
PROOFS: Table = EventProof.__table__  # type: ignore[assignment]


def event_leaf(digest: bytes) -> bytes:
    """StandardMerkleTree leaf of ``abi.encode(bytes32 digest)`` (the digest itself)."""
    return merkle.leaf_hash(digest)


def claim_outbox(
    session: Session,
    *,
    limit: int,
    owner: str,
    lease_seconds: float,
    topic: str = ANCHOR_TOPIC,
) -> list[int]:
    """Claim up to ``limit`` outbox rows of ``topic``; returns the event ids.

    PostgreSQL: ``SELECT … FOR UPDATE SKIP LOCKED`` so concurrent workers take
    disjoint rows. SQLite: an atomic lease ``UPDATE`` as the transaction's first
    statement takes the database write lock, so claims are serialised.
    """
    now = utcnow()
    if session.get_bind().dialect.name == "postgresql":
        rows = session.execute(
            select(Outbox.id, Outbox.ref_id)
            .where(Outbox.topic == topic)
            .order_by(Outbox.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
    else:
        free = (
            select(Outbox.id)
            .where(
                Outbox.topic == topic,
                (Outbox.lease_until.is_(None)) | (Outbox.lease_until < now),
            )
            .order_by(Outbox.id)
            .limit(limit)
            .scalar_subquery()
        )
        session.execute(
            update(Outbox)
            .where(Outbox.id.in_(free))
            .values(claimed_by=owner, lease_until=now + timedelta(seconds=lease_seconds))
            .execution_options(synchronize_session=False)
        )
        rows = session.execute(
            select(Outbox.id, Outbox.ref_id).where(
                Outbox.topic == topic, Outbox.claimed_by == owner
            )
        ).all()
    if rows:
        session.execute(delete(Outbox).where(among(session, Outbox.id, [r.id for r in rows])))
    return [r.ref_id for r in rows]


def build_batch(
    session: Session, *, chain: ChainClient, registry: str, limit: int, owner: str, lease: float
) -> AnchorBatch | None:
    """Claim pending events and turn them into a batch with proofs and a relay request.

    Everything happens in one transaction: the batch (root and members) is on
    disk before any transaction is sent for it.
    """
    event_ids = claim_outbox(session, limit=limit, owner=owner, lease_seconds=lease)
    epcis_ids = claim_outbox(
        session,
        limit=max(0, limit - len(event_ids)),
        owner=owner,
        lease_seconds=lease,
        topic=EPCIS_ANCHOR_TOPIC,
    )
    # An event claimed twice (a repeat outbox row) is batched once: one proof an event.
    events = session.execute(
        select(SupplyEvent.id, SupplyEvent.digest).where(
            among(session, SupplyEvent.id, event_ids),
            ~select(EventProof.id).where(EventProof.event_id == SupplyEvent.id).exists(),
        )
    ).all()
    epcis = session.execute(
        select(EpcisEvent.id, EpcisEvent.digest).where(
            among(session, EpcisEvent.id, epcis_ids),
            ~select(EventProof.id).where(EventProof.epcis_event_id == EpcisEvent.id).exists(),
        )
    ).all()
    if not events and not epcis:
        session.commit()
        return None
    # leaf → ("event_id" | "epcis_event_id", row id); a supply event and an EPCIS event
    # cannot share a leaf (an EIP-712 digest is no SHA-256 of a pre-hash string).
    leaves = {event_leaf(hex_bytes(d)): ("event_id", i) for i, d in events}
    for i, d in epcis:
        leaves.setdefault(event_leaf(hex_bytes(d)), ("epcis_event_id", i))
    tree = merkle.build(list(leaves))
    batch = AnchorBatch(root=to_hex(tree.root), leaf_count=len(leaves), status="built")
    session.add(batch)
    session.flush()
    proofs = tree.proofs()
    rows = [
        {
            "event_id": ref if column == "event_id" else None,
            "epcis_event_id": ref if column == "epcis_event_id" else None,
            "batch_id": batch.id,
            "leaf": to_hex(leaf),
            "proof": json.dumps([to_hex(p) for p in proofs[leaf]]),
        }
        for leaf, (column, ref) in leaves.items()
    ]
    insert_rows(session, PROOFS, rows)
    calldata = AnchorRegistryClient(chain, registry).anchor_calldata(tree.root, len(leaves))
    req = relayer.enqueue(
        session, purpose=ANCHOR_PURPOSE, to=registry, data=calldata, ref_id=batch.id
    )
    batch.relay_id = req.id
    session.commit()
    return batch


def subjects_of(session: Session, batch: AnchorBatch) -> set[str]:
    """The passports whose pages show the batch's events."""
    return set(
        session.scalars(
            select(SupplyEvent.subject)
            .join(EventProof, EventProof.event_id == SupplyEvent.id)
            .where(EventProof.batch_id == batch.id)
        )
    )


def requeue_batch(session: Session, batch: AnchorBatch) -> int:
    """Send a batch's events back to pending (reorg); they are anchored again later.

    Its proofs go, and with them the events' membership of the batch (``event_proofs``).
    """
    batch.status = "orphaned"
    pages.mark_shown(session, subjects_of(session, batch))
    members = session.execute(
        select(EventProof.event_id, EventProof.epcis_event_id).where(
            EventProof.batch_id == batch.id
        )
    ).all()
    session.execute(delete(EventProof).where(EventProof.batch_id == batch.id))
    now = utcnow()
    count = 0
    for topic, ids in (
        (ANCHOR_TOPIC, [e for e, _ in members if e is not None]),
        (EPCIS_ANCHOR_TOPIC, [c for _, c in members if c is not None]),
    ):
        if ids:
            session.execute(
                insert(Outbox), [{"topic": topic, "ref_id": i, "created_at": now} for i in ids]
            )
            count += len(ids)
    log.warning("batch %s (root %s) orphaned; %d events re-queued", batch.id, batch.root, count)
    return count


def requeue_failed(session: Session) -> int:
    """Send the events of every failed batch back to pending (after fixing the cause)."""
    batches = session.scalars(select(AnchorBatch).where(AnchorBatch.status == "failed")).all()
    count = sum(requeue_batch(session, b) for b in batches)
    session.commit()
    return count


class AnchorHandler:
    """Relay handler for ``anchor`` requests (one per batch)."""

    def __init__(self, chain: ChainClient, registry: str) -> None:
        self.chain = chain
        self.registry = AnchorRegistryClient(chain, registry)

    def _batch(self, session: Session, req: RelayRequest) -> AnchorBatch:
        batch = session.get(AnchorBatch, req.ref_id)
        assert batch is not None
        return batch

    only_own_sends = True  # the registry keys anchors by sender

    def already_done(self, session: Session, request: RelayRequest) -> Mined | None:
        """Our own anchor of the batch's root, if one landed (a stranger's does not count:
        the registry keys anchors by sender, so ours still goes through)."""
        root = hex_bytes(self._batch(session, request).root)
        anchorer = self.chain.address
        info = self.registry.anchor_of(root, anchorer=anchorer)
        if info is None:
            return None
        for ev in self.chain.get_logs(
            [self.registry.address],
            info.block_number,
            info.block_number,
            topics=self.registry.anchored_topics(anchorer),
        ):
            if ev.name == "Anchored" and bytes(ev.args["root"]) == root:
                block = self.chain.block(info.block_number)
                return Mined(ev.tx_hash, info.block_number, block["hash"])
        return None

    def is_done_revert(self, exc: ContractRevert) -> bool:
        # Only the relayer's own earlier anchor of the root (keyed by sender).
        return exc.error_name == "AnchorRootAlreadyAnchored"

    def on_mined(self, session: Session, request: RelayRequest, mined: Mined) -> None:
        batch = self._batch(session, request)
        if batch.status == "orphaned":  # the indexer re-queued it meanwhile
            return
        batch.status = "anchored"
        batch.tx_hash = mined.tx_hash
        batch.block_number = mined.block_number
        batch.block_hash = mined.block_hash
        batch.anchored_at = utcnow()
        pages.mark_shown(session, subjects_of(session, batch), block=mined.block_number)

    def on_final(self, session: Session, request: RelayRequest) -> None:
        batch = self._batch(session, request)
        if batch.status != "anchored":
            return
        batch.status = "final"
        batch.final_at = utcnow()

    def on_orphaned(self, session: Session, request: RelayRequest) -> None:
        requeue_batch(session, self._batch(session, request))

    def on_failed(self, session: Session, request: RelayRequest, error: str) -> None:
        # A revert other than "already anchored" (the registry is open, so this
        # means a broken deployment) will not heal by retrying: park the batch for
        # an operator (``requeue_failed``) instead of re-batching in a hot loop.
        batch = self._batch(session, request)
        batch.status = "failed"
        log.error("anchor of batch %s failed: %s", batch.id, error)
