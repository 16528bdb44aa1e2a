"""Proof responses: everything needed to verify an event without trusting Waymark."""

from __future__ import annotations

from pydantic import BaseModel

from backend.events.schemas import SupplyEventPublic


class AnchorPublic(BaseModel):
    root: str
    leaf_count: int
    status: str
    tx_hash: str | None
    block_number: int | None
    block_hash: str | None


class ProofPublic(BaseModel):
    event: SupplyEventPublic
    digest: str
    domain: dict[str, object]
    leaf: str | None
    proof: list[str] | None
    anchor: AnchorPublic | None
    chain_id: int
    anchor_registry: str
    on_chain: bool | None
    """``AnchorRegistry.verify(root, leaf, proof)`` now; null if the chain did not answer."""
