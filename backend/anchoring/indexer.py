"""Indexer handlers for ``AnchorRegistry``: the ``Anchored`` read model and reorg re-queueing.

The registry is open (anyone may anchor any root under their own address), so the
indexer asks the node for the ``Anchored`` logs of the deployment's anchorer only
(a topic filter in ``eth_getLogs``): a stranger's anchor, even of a root Waymark
anchors too, never enters ``chain_anchors`` and never verifies a proof.

A round's anchors are handled as one run: one query for the ones already stored,
one for the proofs they verify, one bulk insert.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy import delete, insert, select, tuple_, update
from sqlalchemy.orm import Session

from backend.anchoring import merkle
from backend.anchoring.models import AnchorBatch, ChainAnchor, EventProof
from backend.anchoring.service import requeue_batch
from backend.chain import AnchorRegistryClient, ChainClient, DecodedEvent
from backend.chain.deployments import Deployment
from backend.common.types import hex_bytes, to_hex
from backend.db.lists import among
from backend.indexer.service import BlockRef, ContractHandlers
from backend.relayer.models import RelayRequest, RelayStatus

_CHUNK = 500  # bound on the values of one IN (...) list


def verify_proofs(session: Session, root: str, block: int) -> int:
    """Record which proofs of the batches with ``root`` lead to it; the number verified.

    What ``AnchorRegistry.verify`` checks, done once when the anchor is indexed: the
    root is anchored (this event says so) and the proof leads from the leaf to the
    root (OpenZeppelin ``MerkleProof``, the same sorted-pair hashing).
    """
    return verify_roots(session, {root: block})


def verify_roots(session: Session, blocks: dict[str, int]) -> int:
    """:func:`verify_proofs` for many roots (root → anchoring block) in one query each chunk."""
    roots = list(blocks)
    verified: dict[int, list[int]] = {}
    for chunk in range(0, len(roots), _CHUNK):
        rows = session.execute(
            select(EventProof.id, EventProof.leaf, EventProof.proof, AnchorBatch.root)
            .join(AnchorBatch, AnchorBatch.id == EventProof.batch_id)
            .where(
                AnchorBatch.root.in_(roots[chunk : chunk + _CHUNK]),
                EventProof.verified_block.is_(None),
            )
        ).all()
        for r in rows:
            if merkle.verify(
                hex_bytes(r.root),
                hex_bytes(r.leaf),
                [hex_bytes(p) for p in json.loads(r.proof)],
            ):
                verified.setdefault(blocks[r.root], []).append(r.id)
    for block, good in verified.items():
        for chunk in range(0, len(good), 1000):
            session.execute(
                update(EventProof)
                .where(among(session, EventProof.id, good[chunk : chunk + 1000]))
                .values(verified_block=block)
                .execution_options(synchronize_session=False)
            )
    return sum(len(g) for g in verified.values())


def _leaf_counts(session: Session, roots: Sequence[str]) -> dict[str, int]:
    """The leaf count of the batch with each root (the event carries none: it is in
    ``anchorOf`` on chain, and in the batch this database built)."""
    counts: dict[str, int] = {}
    for chunk in range(0, len(roots), _CHUNK):
        rows = session.execute(
            select(AnchorBatch.root, AnchorBatch.leaf_count).where(
                AnchorBatch.root.in_(roots[chunk : chunk + _CHUNK])
            )
        )
        counts.update((root, count) for root, count in rows)
    return counts


def on_anchored(session: Session, ev: DecodedEvent, block: BlockRef) -> None:
    """One ``Anchored`` log: a run of one."""
    on_anchored_run(session, [(ev, block)])


def on_anchored_run(session: Session, run: Sequence[tuple[DecodedEvent, BlockRef]]) -> None:
    """Consecutive ``Anchored`` logs: the proofs they verify, then one bulk insert."""
    session.flush()
    verify_roots(session, {to_hex(ev.args["root"]): ref.number for ev, ref in run})
    keys = [(ev.tx_hash, ev.log_index) for ev, _ in run]
    stored: set[tuple[str, int]] = set()
    for chunk in range(0, len(keys), _CHUNK):
        stored.update(
            (t, i)
            for t, i in session.execute(
                select(ChainAnchor.tx_hash, ChainAnchor.log_index).where(
                    tuple_(ChainAnchor.tx_hash, ChainAnchor.log_index).in_(
                        keys[chunk : chunk + _CHUNK]
                    )
                )
            )
        )
    counts = _leaf_counts(session, list({to_hex(ev.args["root"]) for ev, _ in run}))
    rows = [
        {
            "root": to_hex(ev.args["root"]),
            "anchorer": ev.args["anchorer"],
            "leaf_count": counts.get(to_hex(ev.args["root"]), 0),
            "tx_hash": ev.tx_hash,
            "log_index": ev.log_index,
            "block_number": ref.number,
            "block_hash": ref.hash,
        }
        for ev, ref in run
        if (ev.tx_hash, ev.log_index) not in stored
    ]
    if rows:
        session.execute(insert(ChainAnchor), rows)


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


CONTRACT = "AnchorRegistry"


def anchor_handlers(chain: ChainClient, deployment: Deployment) -> ContractHandlers:
    """The ``Anchored`` logs of ``deployment``'s anchorer, narrowed by the node."""
    topics = None
    if CONTRACT in deployment.contracts:
        registry = AnchorRegistryClient(chain, deployment.address(CONTRACT))
        topics = registry.anchored_topics(deployment.anchor_account)
    return ContractHandlers(
        CONTRACT,
        {"Anchored": on_anchored},
        rollback,
        {"Anchored": on_anchored_run},
        topics=topics,
    )
