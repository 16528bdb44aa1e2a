"""Look up an event's Merkle proof and check it against the chain."""

from __future__ import annotations

import json

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from backend.anchoring.models import AnchorBatch, EventProof
from backend.anchoring.schemas import AnchorPublic, ProofPublic
from backend.chain import AnchorRegistryClient, ChainClient, ChainError
from backend.chain.eip712 import Domain
from backend.errors import InvalidInput, NotFound
from backend.events.models import SupplyEvent
from backend.events.router import public


def proof_for(
    *, session: Session, chain: ChainClient, registry: str, domain: Domain, ref: str
) -> ProofPublic:
    """``ref`` is the event's digest or its ``eventId`` (both 0x + 64 hex)."""
    ref = ref.lower()
    if (
        len(ref) != 66
        or not ref.startswith("0x")
        or any(c not in "0123456789abcdef" for c in ref[2:])
    ):
        raise InvalidInput("expected an event digest or eventId: 0x followed by 64 hex digits")
    event = session.scalar(
        select(SupplyEvent).where(or_(SupplyEvent.digest == ref, SupplyEvent.event_id == ref))
    )
    if event is None:
        raise NotFound(f"no event with digest or eventId {ref}")
    leaf = proof = None
    anchor = None
    on_chain: bool | None = None
    if event.batch_id is not None:
        batch = session.get(AnchorBatch, event.batch_id)
        row = session.scalar(
            select(EventProof).where(
                EventProof.event_id == event.id, EventProof.batch_id == event.batch_id
            )
        )
        if batch is not None and row is not None:
            leaf = row.leaf
            proof = json.loads(row.proof)
            anchor = AnchorPublic(
                root=batch.root,
                leaf_count=batch.leaf_count,
                status=batch.status,
                tx_hash=batch.tx_hash,
                block_number=batch.block_number,
                block_hash=batch.block_hash,
            )
            try:
                on_chain = AnchorRegistryClient(chain, registry).verify(
                    bytes.fromhex(batch.root[2:]),
                    bytes.fromhex(leaf[2:]),
                    [bytes.fromhex(p[2:]) for p in proof],
                )
            except ChainError:
                on_chain = None
    return ProofPublic(
        event=public(event),
        digest=event.digest,
        domain=domain.to_json(),
        leaf=leaf,
        proof=proof,
        anchor=anchor,
        chain_id=domain.chain_id,
        anchor_registry=registry,
        on_chain=on_chain,
    )
