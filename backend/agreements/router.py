"""Purchase agreements API: the indexed read model; acceptance and settlement relayed.

Writes go through the alliance routers' relay pipeline (``backend.alliance.deps``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from backend.agreements import service
from backend.agreements.schemas import AgreementAccept, AgreementPublic, AgreementsPublic
from backend.alliance.deps import ACCEPTED, LoadedDeploymentDep, RelayedDep
from backend.alliance.schemas import ActionPublic
from backend.common.types import EthAddress
from backend.deps import ChainDep, SessionDep
from backend.orgs.auth import PrincipalDep

router = APIRouter(prefix="/v1/agreements", tags=["agreements"])

Id = Annotated[int, Path(ge=1, le=2**63 - 1)]


@router.get("", response_model=AgreementsPublic)
def list_agreements(
    _p: PrincipalDep,
    session: SessionDep,
    chain: ChainDep,
    d: LoadedDeploymentDep,
    party: Annotated[EthAddress | None, Query()] = None,
) -> AgreementsPublic:
    """Agreements, newest first; ``party`` keeps those naming that address."""
    return service.list_agreements(session=session, chain=chain, deployment=d, party=party)


@router.get("/{agreement_id}", response_model=AgreementPublic)
def get_agreement(
    agreement_id: Id, _p: PrincipalDep, session: SessionDep, chain: ChainDep, d: LoadedDeploymentDep
) -> AgreementPublic:
    """State, clause, and what was paid (or would be paid now) and why."""
    return service.agreement_public(
        session=session, chain=chain, deployment=d, agreement_id=agreement_id
    )


@router.post("/{agreement_id}/accept", response_model=ActionPublic, status_code=ACCEPTED)
def accept(agreement_id: Id, body: AgreementAccept, r: RelayedDep) -> ActionPublic:
    """Relay the seller's signed acceptance naming the shipment (gasless for the seller)."""
    return service.accept(r, agreement_id=agreement_id, body=body)


@router.post("/{agreement_id}/settle", response_model=ActionPublic, status_code=ACCEPTED)
def settle(agreement_id: Id, r: RelayedDep) -> ActionPublic:
    """Relay ``settle`` now (the service also settles due agreements by itself)."""
    return service.settle(r, agreement_id=agreement_id)
