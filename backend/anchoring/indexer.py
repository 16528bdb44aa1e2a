"""Indexer handlers for ``AnchorRegistry``: the ``Anchored`` read model and reorg re-queueing."""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from backend.anchoring.models import AnchorBatch, ChainAnchor
from backend.anchoring.service import requeue_batch
from backend.chain import DecodedEvent
from backend.indexer.service import BlockRef, ContractHandlers
from backend.relayer.models import RelayRequest, RelayStatus


def on_anchored(session: Session, ev: DecodedEvent, block: BlockRef) -> None:
    exists = session.scalar(
        select(ChainAnchor.id).where(
            ChainAnchor.tx_hash == ev.tx_hash, ChainAnchor.log_index == ev.log_index
        )
    )
    if exists is not None:
        return
    session.add(
        ChainAnchor(
            root="0x" + bytes(ev.args["root"]).hex(),
            anchorer=ev.args["anchorer"],
            leaf_count=int(ev.args["leafCount"]),
            tx_hash=ev.tx_hash,
            log_index=ev.log_index,
            block_number=block.number,
            block_hash=block.hash,
        )
    )


def rollback(session: Session, fork: int) -> None:
    """Drop anchors at or above ``fork`` and re-queue the batches they carried."""
    session.execute(delete(ChainAnchor).where(ChainAnchor.block_number >= fork))
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
