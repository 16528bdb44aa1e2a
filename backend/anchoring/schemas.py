"""Proof responses: everything needed to verify an event without trusting Waymark."""

from __future__ import annotations

from pydantic import BaseModel

from backend.common.schemas import RowModel
from backend.events.schemas import SupplyEventPublic


class AnchorPublic(RowModel):
    root: str
    leaf_count: int
    status: str
    tx_hash: str | None
    block_number: int | None
    block_hash: str | None


class EpcisEventProofPublic(BaseModel):
    """A captured EPCIS event: re-hash ``event`` (CBV 2.0) to get ``hash_id`` and the leaf input."""

    hash_id: str
    event_id: str
    event_type: str
    submitted_by: str
    signer: str | None
    signature: str | None
    status: str
    event: dict[str, object]


class ProofPublic(BaseModel):
    """Exactly one of ``event`` (a signed supply event) and ``epcis_event`` is set."""

    event: SupplyEventPublic | None = None
    epcis_event: EpcisEventProofPublic | None = None
    digest: str
    domain: dict[str, object]
    leaf: str | None
    proof: list[str] | None
    anchor: AnchorPublic | None
    chain_id: int
    anchor_registry: str
    anchorer: str
    """The account whose anchor of ``anchor.root`` counts (the registry is open and keyed
    by sender): check ``anchorOf(anchorer, root)``, with the anchorer you trust."""
    on_chain: bool | None
    """Whether the indexer saw the root anchored and the proof leads to it (what
    ``AnchorRegistry.verify(root, leaf, proof)`` checks); null for an event in no batch."""
