"""Passports API: relayed signed writes (202 + relay id) and the public passport view."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, status

from backend.chain.passports import PassportRegistryClient
from backend.common.types import Bytes32, to_hex
from backend.deps import SessionDep, get_context
from backend.errors import NotFound
from backend.orgs.auth import PrincipalDep
from backend.passports import public, writes
from backend.passports.api_schemas import (
    AttestationCreate,
    AttestationRevoke,
    PassportAmend,
    PassportCreate,
    PassportPublicView,
    PassportStatusChangeIn,
)
from backend.relayer.schemas import RelayAccepted

router = APIRouter(prefix="/v1/passports", tags=["passports"])

PassportId = Annotated[Bytes32, Path(description="bytes32 passport id, 0x-prefixed")]
AttestationId = Annotated[Bytes32, Path(description="bytes32 attestation id, 0x-prefixed")]


def registry(request: Request) -> PassportRegistryClient:
    """The deployed ProductPassportRegistry (built once with the loaded deployment)."""
    return get_context(request).loaded().passports


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=RelayAccepted)
def issue(
    body: PassportCreate, request: Request, principal: PrincipalDep, session: SessionDep
) -> RelayAccepted:
    """Relay an issuer-signed passport; the document must hash to ``documentHash``."""
    return writes.issue(session=session, registry=registry(request), principal=principal, data=body)


@router.post(
    "/attestations/{attestation_id}/revoke",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=RelayAccepted,
)
def revoke_attestation(
    attestation_id: AttestationId,
    body: AttestationRevoke,
    request: Request,
    principal: PrincipalDep,
    session: SessionDep,
) -> RelayAccepted:
    """Relay a certifier's signed withdrawal of its attestation."""
    return writes.revoke_attestation(
        session=session,
        registry=registry(request),
        principal=principal,
        attestation_id=attestation_id,
        data=body,
    )


@router.post(
    "/{passport_id}/versions", status_code=status.HTTP_202_ACCEPTED, response_model=RelayAccepted
)
def amend(
    passport_id: PassportId,
    body: PassportAmend,
    request: Request,
    principal: PrincipalDep,
    session: SessionDep,
) -> RelayAccepted:
    """Relay an issuer-signed amendment with the new version's document."""
    return writes.amend(
        session=session,
        registry=registry(request),
        principal=principal,
        passport_id=passport_id,
        data=body,
    )


@router.post(
    "/{passport_id}/recall", status_code=status.HTTP_202_ACCEPTED, response_model=RelayAccepted
)
def recall(
    passport_id: PassportId,
    body: PassportStatusChangeIn,
    request: Request,
    principal: PrincipalDep,
    session: SessionDep,
) -> RelayAccepted:
    """Relay an issuer-signed recall."""
    return writes.change_status(
        session=session,
        registry=registry(request),
        principal=principal,
        passport_id=passport_id,
        data=body,
        revoke=False,
    )


@router.post(
    "/{passport_id}/revoke", status_code=status.HTTP_202_ACCEPTED, response_model=RelayAccepted
)
def revoke(
    passport_id: PassportId,
    body: PassportStatusChangeIn,
    request: Request,
    principal: PrincipalDep,
    session: SessionDep,
) -> RelayAccepted:
    """Relay an issuer-signed revocation (final)."""
    return writes.change_status(
        session=session,
        registry=registry(request),
        principal=principal,
        passport_id=passport_id,
        data=body,
        revoke=True,
    )


@router.post(
    "/{passport_id}/attestations",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=RelayAccepted,
)
def attest(
    passport_id: PassportId,
    body: AttestationCreate,
    request: Request,
    principal: PrincipalDep,
    session: SessionDep,
) -> RelayAccepted:
    """Relay a certifier-signed attestation; ``subject`` is the attestation id."""
    return writes.attest(
        session=session,
        registry=registry(request),
        principal=principal,
        passport_id=passport_id,
        data=body,
    )


@router.get("/{passport_id}", response_model=PassportPublicView)
def get_passport(
    passport_id: PassportId,
    session: SessionDep,
) -> PassportPublicView:
    """Public: head, versions, attestations (status now), stored document, tamper flag."""
    view = public.public_passport(session=session, passport_id=passport_id)
    if view is None:
        raise NotFound(f"passport {to_hex(passport_id)} not found")
    return view
