"""Indexer handlers for ``AnchorRegistry``: the ``Anchored`` read model and reorg re-queueing."""

from __future__ import annotations

import json

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from backend.anchoring import merkle
from backend.anchoring.models import AnchorBatch, ChainAnchor, EventProof
from backend.anchoring.service import requeue_batch
from backend.chain import DecodedEvent
from backend.common.types import hex_bytes, to_hex
from backend.indexer.service import BlockRef, ContractHandlers
from backend.relayer.models import RelayRequest, RelayStatus


def verify_proofs(session: Session, root: str, block: int) -> int:
    """Record which proofs of the batches with ``root`` lead to it; the number verified.

    What ``AnchorRegistry.verify`` checks, done once when the anchor is indexed: the
    root is anchored (this event says so) and the proof leads from the leaf to the
    root (OpenZeppelin ``MerkleProof``, the same sorted-pair hashing).
    """
    rows = session.execute(
        select(EventProof.id, EventProof.leaf, EventProof.proof)
        .join(AnchorBatch, AnchorBatch.id == EventProof.batch_id)
        .where(AnchorBatch.root == root, EventProof.verified_block.is_(None))
    ).all()
    raw = hex_bytes(root)
    good = [
        r.id
        for r in rows
        if merkle.verify(raw, hex_bytes(r.leaf), [hex_bytes(p) for p in json.loads(r.proof)])
    ]
    for chunk in range(0, len(good), 1000):
        session.execute(
            update(EventProof)
            .where(EventProof.id.in_(good[chunk : chunk + 1000]))
            .values(verified_block=block)
            .execution_options(synchronize_session=False)
        )
    return len(good)


def on_anchored(session: Session, ev: DecodedEvent, block: BlockRef) -> None:
    verify_proofs(session, to_hex(ev.args["root"]), block.number)
    exists = session.scalar(
        select(ChainAnchor.id).where(
            ChainAnchor.tx_hash == ev.tx_hash, ChainAnchor.log_index == ev.log_index
        )
    )
    if exists is not None:
        return
    session.add(
        ChainAnchor(
            root=to_hex(ev.args["root"]),
            anchorer=ev.args["anchorer"],
            leaf_count=int(ev.args["leafCount"]),
            tx_hash=ev.tx_hash,
            log_index=ev.log_index,
            block_number=block.number,
            block_hash=block.hash,
        )
    )


def rollback(session: Session, fork: int) -> None:
    """Drop anchors at or above ``fork``, their proofs' verification, and re-queue the
    batches they carried."""
    session.execute(delete(ChainAnchor).where(ChainAnchor.block_number >= fork))
    session.execute(
        update(EventProof)
        .where(EventProof.verified_block >= fork)
        .values(verified_block=None)
        .execution_options(synchronize_session=False)
    )
    batches = session.scalars(
        select(AnchorBatch).where(
            AnchorBatch.block_number >= fork, AnchorBatch.status.in_(("anchored", "final"))
        )
    ).all()
    for batch in batches:
        if batch.relay_id is not None:
            session.execute(
                update(RelayRequest)
                .where(RelayRequest.id == batch.relay_id)
                .values(status=RelayStatus.ORPHANED)
                .execution_options(synchronize_session=False)
            )
        requeue_batch(session, batch)


def anchor_handlers() -> ContractHandlers:
    return ContractHandlers("AnchorRegistry", {"Anchored": on_anchored}, rollback)
