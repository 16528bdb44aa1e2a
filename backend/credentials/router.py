"""Credentials API: did:web documents, passport credentials, status lists (all public)."""

from __future__ import annotations

import time
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Path, Request
from fastapi.responses import JSONResponse, Response

from backend.common.types import Bytes32Hex
from backend.credentials import service
from backend.credentials.service import MEDIA_TYPE_JWT, MEDIA_TYPE_LD, IssuedCredential
from backend.deps import SessionDep
from backend.errors import NotAcceptable
from backend.passports.router import registry

router = APIRouter(tags=["credentials"])

DID_MEDIA_TYPE = "application/did+ld+json"
Slug = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$", description="organisation slug")]
PassportId = Annotated[Bytes32Hex, Path(description="bytes32 passport id, 0x-prefixed")]
Version = Annotated[int, Path(ge=1, le=2**32 - 1, description="passport version")]
Accept = Annotated[str | None, Header()]

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
    return str(request.app.state.settings.public_base_url).rstrip("/")


@router.get("/orgs/{slug}/did.json", response_class=JSONResponse)
def did_document(slug: Slug, request: Request, session: SessionDep) -> JSONResponse:
    """The organisation's did:web document: on-chain signer keys and its credential key."""
    doc = service.did_document(
        session=session, slug=slug, base=_base(request), chain_id=request.app.state.chain.chain_id
    )
    return JSONResponse(doc, media_type=DID_MEDIA_TYPE)


@router.get("/v1/passports/{passport_id}/credential", response_class=Response)
def latest_credential(
    passport_id: PassportId, request: Request, session: SessionDep, accept: Accept = None
) -> Response:
    """The latest version as a UNTP DPP credential (``application/vc+jwt`` or JSON-LD)."""
    return _credential(passport_id, None, request, session, accept)


@router.get("/v1/passports/{passport_id}/versions/{version}/credential", response_class=Response)
def version_credential(
    passport_id: PassportId,
    version: Version,
    request: Request,
    session: SessionDep,
    accept: Accept = None,
) -> Response:
    """One version as a UNTP DPP credential (``application/vc+jwt`` or JSON-LD)."""
    return _credential(passport_id, version, request, session, accept)


def _credential(
    passport_id: str, version: int | None, request: Request, session: SessionDep, accept: str | None
) -> Response:
    _choose(accept)  # 406 before any work
    issued = service.passport_credential(
        session=session,
        settings=request.app.state.settings,
        registry=registry(request),
        base=_base(request),
        passport_id=passport_id.lower(),
        version=version,
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
        settings=request.app.state.settings,
        base=_base(request),
        slug=slug,
        now=int(time.time()),
    )
    return _answer(issued, accept)
