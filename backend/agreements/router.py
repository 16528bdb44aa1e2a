"""Purchase agreements API: read from the chain; acceptance and settlement relayed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from backend.agreements import service
from backend.agreements.schemas import AgreementAccept, AgreementPublic, AgreementsPublic
from backend.alliance.schemas import ActionPublic
from backend.chain.deployments import Deployment
from backend.common.types import EthAddress
from backend.deps import ChainDep, DeploymentDep, SessionDep
from backend.errors import ServiceUnavailable
from backend.orgs.auth import PrincipalDep

router = APIRouter(prefix="/v1/agreements", tags=["agreements"])

Id = Annotated[int, Path(ge=1, le=2**63 - 1)]
ACCEPTED = status.HTTP_202_ACCEPTED


def _dep(deployment: Deployment | None) -> Deployment:
    if deployment is None or service.CONTRACT not in deployment.contracts:
        raise ServiceUnavailable("no DeliveryAgreement deployment is loaded")
    return deployment


@router.get("", response_model=AgreementsPublic)
def list_agreements(
    _p: PrincipalDep,
    session: SessionDep,
    chain: ChainDep,
    d: DeploymentDep,
    party: Annotated[EthAddress | None, Query()] = None,
) -> AgreementsPublic:
    """Agreements, newest first; ``party`` keeps those naming that address."""
    return service.list_agreements(session=session, chain=chain, deployment=_dep(d), party=party)


@router.get("/{agreement_id}", response_model=AgreementPublic)
def get_agreement(
    agreement_id: Id, _p: PrincipalDep, session: SessionDep, chain: ChainDep, d: DeploymentDep
) -> AgreementPublic:
    """State, clause, and what was paid (or would be paid now) and why."""
    return service.agreement_public(
        session=session, chain=chain, deployment=_dep(d), agreement_id=agreement_id
    )


@router.post("/{agreement_id}/accept", response_model=ActionPublic, status_code=ACCEPTED)
def accept(
    agreement_id: Id,
    body: AgreementAccept,
    p: PrincipalDep,
    session: SessionDep,
    chain: ChainDep,
    d: DeploymentDep,
) -> ActionPublic:
    """Relay the seller's signed acceptance naming the shipment (gasless for the seller)."""
    return service.accept(
        session=session,
        chain=chain,
        deployment=_dep(d),
        principal=p,
        agreement_id=agreement_id,
        body=body,
    )


@router.post("/{agreement_id}/settle", response_model=ActionPublic, status_code=ACCEPTED)
def settle(
    agreement_id: Id, p: PrincipalDep, session: SessionDep, chain: ChainDep, d: DeploymentDep
) -> ActionPublic:
    """Relay ``settle`` now (the service also settles due agreements by itself)."""
    return service.settle(
        session=session, chain=chain, deployment=_dep(d), principal=p, agreement_id=agreement_id
    )
