"""GET /v1/proofs/{ref}: public proof of an event's anchoring."""

from __future__ import annotations

from fastapi import APIRouter, Request

from backend.anchoring.proofs import proof_for
from backend.anchoring.schemas import ProofPublic
from backend.deps import ChainDep, SessionDep

router = APIRouter(prefix="/v1/proofs", tags=["proofs"])


@router.get("/{ref:path}", response_model=ProofPublic)
def get_proof(ref: str, request: Request, session: SessionDep, chain: ChainDep) -> ProofPublic:
    """The event, its signer, Merkle leaf and proof, the anchored root and where it is on chain."""
    domain = request.app.state.events_domain
    return proof_for(
        session=session,
        chain=chain,
        registry=domain.verifying_contract,
        domain=domain,
        ref=ref,
    )
