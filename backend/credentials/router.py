"""Credentials API: did:web documents, passport and traceability credentials, status lists."""

from __future__ import annotations

import time
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Path, Query, Request, status
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from backend.common.types import Bytes32, Bytes32Hex, EthAddress, WalletSignature
from backend.credentials import access, service
from backend.credentials.service import MEDIA_TYPE_JWT, MEDIA_TYPE_LD, IssuedCredential
from backend.deps import ChainDep, Ctx, Registries, SessionDep, get_context
from backend.errors import NotAcceptable
from backend.orgs.auth import PrincipalDep, get_principal
from backend.orgs.schemas import Scope
from backend.orgs.signers import org_of
from backend.passports.router import registry

router = APIRouter(tags=["credentials"])

DID_MEDIA_TYPE = "application/did+ld+json"
Slug = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$", description="organisation slug")]
PassportId = Annotated[Bytes32Hex, Path(description="bytes32 passport id, 0x-prefixed")]
Version = Annotated[int, Path(ge=1, le=2**32 - 1, description="passport version")]
Accept = Annotated[str | None, Header()]
AccessLevel = Annotated[
    Literal["public", "legitimate_interest", "authority"],
    Query(
        alias="access",
        description="access level to read at; above public needs an API key whose "
        "organisation holds a grant of that level from the issuer",
    ),
]

_LD = {MEDIA_TYPE_LD, "application/vc", "application/ld+json", "application/json"}
_OFFERED = f"{MEDIA_TYPE_JWT}, {MEDIA_TYPE_LD}, application/vc, application/json"


def _choose(accept: str | None) -> Literal["jwt", "ld"]:
    """``jwt`` or ``ld`` by the ``Accept`` header's q-values (wildcards: JSON-LD)."""
    if accept is None or not accept.strip():
        return "ld"
    best: tuple[float, int] | None = None
    chosen: Literal["jwt", "ld"] | None = None
    for position, item in enumerate(accept.split(",")):
        media, *params = (f.strip() for f in item.split(";"))
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        media = media.lower()
        kind: Literal["jwt", "ld"]
        if media == MEDIA_TYPE_JWT:
            kind = "jwt"
        elif media in _LD or media in ("*/*", "application/*"):
            kind = "ld"
        else:
            continue
        rank = (q, -position)
        if q > 0 and (best is None or rank > best):
            best, chosen = rank, kind
    if chosen is None:
        raise NotAcceptable(f"offered: {_OFFERED}")
    return chosen


def _answer(issued: IssuedCredential, accept: str | None) -> Response:
    headers = {"Vary": "Accept"}
    if _choose(accept) == "jwt":
        return Response(issued.jws, media_type=MEDIA_TYPE_JWT, headers=headers)
    return JSONResponse(issued.credential, media_type=MEDIA_TYPE_LD, headers=headers)


def _base(request: Request) -> str:
    return str(get_context(request).settings.public_base_url).rstrip("/")


@router.get("/orgs/{slug}/did.json", response_class=JSONResponse)
def did_document(slug: Slug, request: Request, session: SessionDep) -> JSONResponse:
    """The organisation's did:web document: on-chain signer keys and its credential key."""
    doc = service.did_document(
        session=session,
        slug=slug,
        base=_base(request),
        chain_id=get_context(request).chain.chain_id,
    )
    return JSONResponse(doc, media_type=DID_MEDIA_TYPE)


@router.get("/v1/passports/{passport_id}/credential", response_class=Response)
def latest_credential(
    passport_id: PassportId,
    request: Request,
    session: SessionDep,
    accept: Accept = None,
    level: AccessLevel = "public",
) -> Response:
    """The latest version as a UNTP DPP credential (``application/vc+jwt`` or JSON-LD)."""
    return _credential(passport_id, None, request, session, accept, level)


@router.get("/v1/passports/{passport_id}/versions/{version}/credential", response_class=Response)
def version_credential(
    passport_id: PassportId,
    version: Version,
    request: Request,
    session: SessionDep,
    accept: Accept = None,
    level: AccessLevel = "public",
) -> Response:
    """One version as a UNTP DPP credential (``application/vc+jwt`` or JSON-LD)."""
    return _credential(passport_id, version, request, session, accept, level)


def _credential(
    passport_id: str,
    version: int | None,
    request: Request,
    session: SessionDep,
    accept: str | None,
    level: str,
) -> Response:
    _choose(accept)  # 406 before any work
    reader_org_id: int | None = None
    reader: str | None = None
    if level != "public":  # only restricted reads need a key
        principal = get_principal(request, session, get_context(request).settings)
        reader_org_id, reader = principal.org_id, principal.org_slug
    issued = service.passport_credential(
        session=session,
        settings=get_context(request).settings,
        registry=registry(request),
        base=_base(request),
        passport_id=passport_id.lower(),
        version=version,
        level=level,
        reader_org_id=reader_org_id,
        reader=reader,
    )
    return _answer(issued, accept)


@router.get("/v1/passports/attestations/{attestation_id}/credential", response_class=Response)
def attestation_credential(
    attestation_id: PassportId, request: Request, session: SessionDep, accept: Accept = None
) -> Response:
    """A certifier attestation as a UNTP Digital Conformity Credential, from the certifier."""
    _choose(accept)
    issued = service.attestation_credential(
        session=session,
        settings=get_context(request).settings,
        registry=registry(request),
        base=_base(request),
        attestation_id=attestation_id.lower(),
    )
    return _answer(issued, accept)


@router.get("/credentials/status/{slug}", response_class=Response)
def status_list(
    slug: Slug, request: Request, session: SessionDep, accept: Accept = None
) -> Response:
    """The organisation's Bitstring Status List credential (revocation: recalled or revoked)."""
    _choose(accept)
    issued = service.status_list(
        session=session,
        settings=get_context(request).settings,
        base=_base(request),
        slug=slug,
        now=int(time.time()),
    )
    return _answer(issued, accept)


@router.get(
    "/v1/shipments/{shipment_id}/milestones/{index}/credential",
    response_class=Response,
    tags=["credentials"],
)
def milestone_credential(
    shipment_id: Annotated[Bytes32, Path(description="bytes32 shipment id, 0x-prefixed")],
    index: Annotated[int, Path(ge=0, le=2**31 - 1, description="milestone index")],
    request: Request,
    ctx: Ctx,
    session: SessionDep,
    principal: PrincipalDep,
    accept: Accept = None,
) -> Response:
    """A shipment milestone as a UNTP Digital Traceability Event, from its signer's
    organisation; for the shipment's seller and parties, like its EPCIS export."""
    _choose(accept)
    issued = service.milestone_credential(
        session=session,
        settings=ctx.settings,
        chain=ctx.chain,
        shipment_registry=ctx.loaded().deployment.address("ShipmentRegistry"),
        base=_base(request),
        principal=principal,
        shipment_id=shipment_id,
        index=index,
    )
    return _answer(issued, accept)


@router.get("/v1/events/{event_id}/credential", response_class=Response)
def supply_event_credential(
    event_id: Annotated[Bytes32Hex, Path(description="the event's bytes32 eventId")],
    request: Request,
    ctx: Ctx,
    session: SessionDep,
    principal: PrincipalDep,
    accept: Accept = None,
) -> Response:
    """A signed supply event as a UNTP Digital Traceability Event, from its signer's
    organisation; for the organisation that recorded it, like ``GET /v1/events``."""
    _choose(accept)
    issued = service.supply_event_credential(
        session=session,
        settings=ctx.settings,
        chain=ctx.chain,
        anchor_registry=ctx.loaded().deployment.address("AnchorRegistry"),
        base=_base(request),
        principal=principal,
        event_id=event_id.lower(),
    )
    return _answer(issued, accept)


# -- access grants ------------------------------------------------------------------------


class AccessGrantCreate(BaseModel):
    """An EIP-712 ``AccessGrant`` signed by an issuer key of the brand's organisation."""

    model_config = ConfigDict(extra="forbid")

    issuer: EthAddress = Field(description="the brand's issuer key that signed the grant")
    grantee: str = Field(description="slug of the organisation granted access")
    level: Literal["legitimate_interest", "authority"]
    passport_id: Bytes32Hex | None = Field(
        default=None, description="one passport; omitted: every passport the issuer issues"
    )
    expires_at: int = Field(ge=0, le=2**64 - 1, description="unix seconds; signed")
    salt: Bytes32 = Field(description="makes each grant distinct; signed")
    signature: WalletSignature


class AccessGrantRevoke(BaseModel):
    """An EIP-712 ``AccessGrantRevocation`` of the grant's digest, signed by an issuer key."""

    model_config = ConfigDict(extra="forbid")

    signature: WalletSignature
    signer: EthAddress | None = Field(
        default=None,
        description="The issuer key that signed; needed for a contract wallet's signature.",
    )


GRANT_SCOPES = frozenset({Scope.SELLER, Scope.ADMIN})


@router.post("/v1/access-grants", status_code=status.HTTP_201_CREATED)
def create_grant(
    body: AccessGrantCreate,
    contracts: Registries,
    principal: PrincipalDep,
    session: SessionDep,
    chain: ChainDep,
) -> dict[str, object]:
    """Record a grant the caller's organisation (a passport issuer) signed with an issuer key."""
    principal.require_any(GRANT_SCOPES)
    row = access.grant(
        session=session,
        chain=chain,
        domain=contracts.events_domain,
        issuer_org_id=org_of(principal),
        data=access.SignedGrant(
            issuer=body.issuer,
            grantee=body.grantee,
            level=body.level,
            passport_id=body.passport_id,
            expires_at=body.expires_at,
            salt=body.salt,
            signature=body.signature,
        ),
        now=int(time.time()),
    )
    return access.grant_public(row, session=session)


@router.post("/v1/access-grants/{grant_id}/revoke")
def revoke_grant(
    grant_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    body: AccessGrantRevoke,
    contracts: Registries,
    principal: PrincipalDep,
    session: SessionDep,
    chain: ChainDep,
) -> dict[str, object]:
    """Revoke one of the caller's organisation's grants (signed); it stops counting at once."""
    principal.require_any(GRANT_SCOPES)
    row = access.revoke(
        session=session,
        chain=chain,
        domain=contracts.events_domain,
        issuer_org_id=org_of(principal),
        grant_id=grant_id,
        signature=body.signature,
        now=int(time.time()),
        signer=body.signer,
    )
    return access.grant_public(row, session=session)
