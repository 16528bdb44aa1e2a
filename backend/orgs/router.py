"""Organisations, API keys and signer keys (operator and org admin endpoints)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, status

from backend.deps import ChainDep, PageDep, Registries, SessionDep, get_context
from backend.errors import Forbidden
from backend.orgs import delegations, service
from backend.orgs.auth import PrincipalDep
from backend.orgs.schemas import (
    ApiKeyCreate,
    ApiKeyIssued,
    ApiKeyPublic,
    ApiKeysPublic,
    DelegationCreate,
    DelegationPublic,
    DelegationsPublic,
    OrganisationCreate,
    OrganisationCreated,
    OrganisationPublic,
    OrganisationRegister,
    OrganisationRegistered,
    SignerCreate,
    SignerPublic,
    SignerRevoke,
    SignerRotate,
    SignersPublic,
)

router = APIRouter(prefix="/v1/orgs", tags=["organisations"])

RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def registrar(request: Request) -> service.ChainRegistrar | None:
    """The app's registry writer (the relayer holds the registrar role), if it has one."""
    found = get_context(request).parts.get(service.ChainRegistrar)
    return found if isinstance(found, service.ChainRegistrar) else None


@router.post("", response_model=OrganisationCreated, status_code=status.HTTP_201_CREATED)
def create_org(
    body: OrganisationCreate, request: Request, principal: PrincipalDep, session: SessionDep
) -> OrganisationCreated:
    """Create an organisation and its first admin key (operator token only); its
    registration in OrganisationRegistry, with its GS1 prefixes, is queued on the relayer."""
    if not principal.operator:
        raise Forbidden("only the operator can create organisations")
    return service.create_org(session=session, data=body, registrar=registrar(request))


@router.post("/{slug}/registration", response_model=OrganisationRegistered)
def register_existing(
    slug: str,
    body: OrganisationRegister,
    request: Request,
    principal: PrincipalDep,
    session: SessionDep,
) -> OrganisationRegistered:
    """Register an organisation created before OrganisationRegistry existed, with its GS1
    prefixes and its signer keys (operator token only; 409 if already registered)."""
    if not principal.operator:
        raise Forbidden("only the operator can register organisations on chain")
    return service.register_existing(
        session=session, slug=slug, data=body, registrar=registrar(request)
    )


@router.get("/me", response_model=OrganisationPublic)
def me(principal: PrincipalDep, session: SessionDep) -> OrganisationPublic:
    """The organisation of the calling API key."""
    if principal.org_slug is None:
        raise Forbidden("the operator token belongs to no organisation")
    org = service.get_org(session=session, slug=principal.org_slug)
    return service.public_org(org)


@router.post("/{slug}/api-keys", response_model=ApiKeyIssued, status_code=201)
def issue_key(
    slug: str, body: ApiKeyCreate, principal: PrincipalDep, session: SessionDep
) -> ApiKeyIssued:
    """Issue an API key with the given scopes; the secret is in this response only."""
    return service.issue_key(session=session, principal=principal, slug=slug, data=body)


@router.get("/{slug}/api-keys", response_model=ApiKeysPublic)
def list_keys(
    slug: str, principal: PrincipalDep, session: SessionDep, page: PageDep
) -> ApiKeysPublic:
    items, nxt = service.list_keys(
        session=session, principal=principal, slug=slug, after=page.after, limit=page.limit
    )
    return ApiKeysPublic(items=items, next_cursor=nxt)


@router.delete("/{slug}/api-keys/{key_id}", response_model=ApiKeyPublic)
def revoke_key(
    slug: str, key_id: RowId, principal: PrincipalDep, session: SessionDep
) -> ApiKeyPublic:
    """Revoke an API key; it stops authenticating at once."""
    return service.revoke_key(session=session, principal=principal, slug=slug, key_id=key_id)


@router.post("/{slug}/signers", response_model=SignerPublic, status_code=201)
def register_signer(
    slug: str, body: SignerCreate, request: Request, principal: PrincipalDep, session: SessionDep
) -> SignerPublic:
    """Register an address whose EIP-712 signatures count as this organisation's; it is
    added to OrganisationRegistry with its roles."""
    return service.register_signer(
        session=session,
        principal=principal,
        slug=slug,
        address=body.address,
        label=body.label,
        valid_from=body.valid_from,
        roles=body.roles,
        registrar=registrar(request),
    )


@router.get("/{slug}/signers", response_model=SignersPublic)
def list_signers(
    slug: str, principal: PrincipalDep, session: SessionDep, page: PageDep
) -> SignersPublic:
    items, nxt = service.list_signers(
        session=session, principal=principal, slug=slug, after=page.after, limit=page.limit
    )
    return SignersPublic(items=items, next_cursor=nxt)


@router.post("/{slug}/signers/{signer_id}/revoke", response_model=SignerPublic)
def revoke_signer(
    slug: str,
    signer_id: RowId,
    body: SignerRevoke,
    request: Request,
    principal: PrincipalDep,
    session: SessionDep,
) -> SignerPublic:
    """Revoke a signer key from ``revoked_at``; events that occurred earlier stay valid."""
    return service.revoke_signer(
        session=session,
        principal=principal,
        slug=slug,
        signer_id=signer_id,
        revoked_at=body.revoked_at,
        registrar=registrar(request),
    )


@router.post("/{slug}/signers/{signer_id}/rotate", response_model=list[SignerPublic])
def rotate_signer(
    slug: str,
    signer_id: RowId,
    body: SignerRotate,
    request: Request,
    principal: PrincipalDep,
    session: SessionDep,
) -> list[SignerPublic]:
    """Revoke this signer now and register ``address`` in its place: [old, new]."""
    old, new = service.rotate_signer(
        session=session,
        principal=principal,
        slug=slug,
        signer_id=signer_id,
        address=body.address,
        label=body.label,
        roles=body.roles,
        registrar=registrar(request),
    )
    return [old, new]


@router.post("/{slug}/delegations", response_model=DelegationPublic, status_code=201)
def grant_delegation(
    slug: str,
    body: DelegationCreate,
    contracts: Registries,
    chain: ChainDep,
    principal: PrincipalDep,
    session: SessionDep,
) -> DelegationPublic:
    """Record a ``SubjectDelegation`` the issuer signed: ``delegate`` may add events."""
    return delegations.grant(
        session=session,
        principal=principal,
        chain=chain,
        domain=contracts.events_domain,
        slug=slug,
        data=body,
    )


@router.get("/{slug}/delegations", response_model=DelegationsPublic)
def list_delegations(
    slug: str, principal: PrincipalDep, session: SessionDep, page: PageDep
) -> DelegationsPublic:
    """Delegations this organisation granted or received, oldest first."""
    items, nxt = delegations.listing(
        session=session, principal=principal, slug=slug, after=page.after, limit=page.limit
    )
    return DelegationsPublic(items=items, next_cursor=nxt)


@router.post("/{slug}/delegations/{delegation_id}/revoke", response_model=DelegationPublic)
def revoke_delegation(
    slug: str, delegation_id: RowId, principal: PrincipalDep, session: SessionDep
) -> DelegationPublic:
    """Withdraw a delegation; the delegate's events stop showing at once."""
    return delegations.revoke(
        session=session, principal=principal, slug=slug, delegation_id=delegation_id
    )
