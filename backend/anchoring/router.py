"""GET /v1/proofs/{ref}: public proof of an event's anchoring."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy.orm import Session, sessionmaker

from backend.anchoring.proofs import SupplyProofReader, normalise, proof_for
from backend.anchoring.schemas import ProofPublic
from backend.chain.eip712 import Domain
from backend.common.http import conditional
from backend.deps import get_context
from backend.errors import InvalidInput

router = APIRouter(prefix="/v1/proofs", tags=["proofs"])


def _lookup(
    sessions: sessionmaker[Session], registry: str, anchorer: str, domain: Domain, ref: str
) -> ProofPublic:
    with sessions() as session:
        return proof_for(
            session=session, registry=registry, anchorer=anchorer, domain=domain, ref=ref
        )


# A proof changes when its batch is anchored, final, or orphaned by a reorg.
PROOF_CACHE_CONTROL = "public, max-age=15"


def _send(request: Request, proof: ProofPublic) -> Response:
    return conditional(
        request,
        proof.model_dump_json().encode(),
        "application/json",
        {"Cache-Control": PROOF_CACHE_CONTROL},
    )


PROOF_PREFIX = "/v1/proofs/"


def stored_proof(request: Request) -> Response | None:
    """A supply event's proof, one indexed read on the event loop; ``None`` for anything
    else (an EPCIS event, an unknown or malformed reference, no deployment loaded yet).

    Also run before routing (``backend.middleware.HotReadsMiddleware``)."""
    ctx = get_context(request)
    if ctx.contracts is None:
        return None
    try:
        key = normalise(request.scope["path"].removeprefix(PROOF_PREFIX))
    except InvalidInput:
        return None
    domain = ctx.contracts.events_domain
    reader = ctx.part(SupplyProofReader)
    proof = reader.get(
        registry=domain.verifying_contract,
        anchorer=ctx.contracts.deployment.anchor_account,
        domain=domain,
        ref=key,
    )
    return None if proof is None else _send(request, proof)


@router.get("/{ref:path}", response_model=ProofPublic)
async def get_proof(ref: str, request: Request) -> Response:
    """The event, its signer, Merkle leaf and proof, the anchored root and where it is on chain.

    Read from rows: each proof is verified once, when its anchor is indexed. A supply
    event's proof is one indexed read on the event loop; a captured EPCIS event's is
    looked up in a thread. Answers ``If-None-Match`` with 304.
    """
    ctx = get_context(request)
    contracts = ctx.loaded()
    domain = contracts.events_domain
    key = normalise(ref)
    registry = domain.verifying_contract
    anchorer = contracts.deployment.anchor_account
    proof = ctx.part(SupplyProofReader).get(
        registry=registry, anchorer=anchorer, domain=domain, ref=key
    )
    if proof is None:
        proof = await run_in_threadpool(_lookup, ctx.sessions, registry, anchorer, domain, key)
    return _send(request, proof)
