"""``/app``: the field app's wallet sign-in (EIP-4361) and its session cookie.

``POST /app/api/sign-in/message`` writes the message the wallet signs;
``POST /app/api/sign-in`` checks the signed message and sets an HttpOnly,
SameSite=Strict cookie signed with the keys every replica shares;
``GET /app/api/me`` says who is signed in; ``POST /app/api/sign-out`` ends it.
"""

from __future__ import annotations

import time
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from backend.deps import ChainDep, SessionDep, SettingsDep
from backend.errors import Forbidden, Unauthenticated
from backend.fieldapp import service
from backend.fieldapp.service import Identity, Site
from backend.handlers import ErrorPublic
from backend.orgs.auth import record_failure, refuse_guessing

router = APIRouter(prefix="/app", tags=["field app"])
ERRORS: dict[int | str, dict[str, object]] = {"4XX": {"model": ErrorPublic}}


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class MessageRequest(_Body):
    address: Annotated[str, Field(max_length=42, description="The wallet's address.")]
    chain_id: Annotated[int, Field(alias="chainId", ge=1, le=2**63 - 1)]


class MessagePublic(BaseModel):
    message: str
    nonce: str
    expires_at: int


class SignInRequest(_Body):
    message: Annotated[str, Field(max_length=2048)]
    signature: Annotated[str, Field(max_length=4096, pattern=r"^0x[0-9a-fA-F]*$")]


class IdentityPublic(BaseModel):
    address: str
    org: str
    org_name: str
    roles: list[str]


def _public(identity: Identity) -> IdentityPublic:
    return IdentityPublic(
        address=identity.address,
        org=identity.org_slug,
        org_name=identity.org_name,
        roles=list(identity.roles),
    )


def _site(request: Request) -> Site:
    return Site.from_base_url(request.app.state.settings.public_base_url)


def _same_origin(request: Request) -> bool:
    """POSTs must come from this site (Origin, else Referer, when the browser sends one)."""
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source or source == "null":
        return source is None
    parts = urlsplit(source)
    return f"{parts.scheme}://{parts.netloc}" == f"{request.url.scheme}://{request.url.netloc}"


def current_identity(request: Request, session: SessionDep) -> Identity | None:
    """The signed-in key of this request's app session cookie, if it is still valid."""
    token = request.cookies.get(service.SESSION_COOKIE)
    if not token:
        return None
    try:
        return service.session_identity(
            session=session,
            signer=request.app.state.app_session_signer,
            token=token,
            now=int(time.time()),
        )
    except Unauthenticated:
        return None


@router.post("/api/sign-in/message", response_model=MessagePublic, responses=ERRORS)
def sign_in_message(
    body: MessageRequest, request: Request, session: SessionDep, chain: ChainDep
) -> MessagePublic:
    """A sign-in message for the wallet to sign (``personal_sign``); valid ten minutes, once."""
    if not _same_origin(request):
        raise Forbidden("cross-site sign-in refused")
    message = service.issue_message(
        session=session,
        site=_site(request),
        address=body.address,
        wallet_chain_id=body.chain_id,
        chain_id=chain.chain_id,
        now=int(time.time()),
    )
    return MessagePublic(
        message=message.text(), nonce=message.nonce, expires_at=message.expiration_time
    )


@router.post("/api/sign-in", response_model=IdentityPublic, responses=ERRORS)
def sign_in(
    body: SignInRequest,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    chain: ChainDep,
) -> IdentityPublic:
    """Check the signed message and set the session cookie; 401/403 with the reason."""
    if not _same_origin(request):
        raise Forbidden("cross-site sign-in refused")
    address = refuse_guessing(request)
    try:
        identity = service.sign_in(
            session=session,
            chain=chain,
            site=_site(request),
            chain_id=chain.chain_id,
            text=body.message,
            signature=body.signature,
            now=int(time.time()),
        )
    except Unauthenticated:
        record_failure(request, address)
        raise
    response.set_cookie(
        service.SESSION_COOKIE,
        service.session_token(signer=request.app.state.app_session_signer, identity=identity),
        max_age=service.SESSION_MAX_AGE,
        httponly=True,
        samesite="strict",
        secure=settings.public_base_url.startswith("https://"),
        path="/app",
    )
    response.headers["Cache-Control"] = "no-store"
    return _public(identity)


@router.get("/api/me", response_model=IdentityPublic, responses=ERRORS)
def me(request: Request, session: SessionDep) -> IdentityPublic:
    """The signed-in key, its organisation and its roles (401 when not signed in)."""
    identity = current_identity(request, session)
    if identity is None:
        raise Unauthenticated("not signed in")
    return _public(identity)


@router.post("/api/sign-out", status_code=204, response_class=Response)
def sign_out(request: Request) -> Response:
    """End the app session on this device."""
    if not _same_origin(request):
        raise Forbidden("cross-site sign-out refused")
    out = Response(status_code=204)
    out.delete_cookie(service.SESSION_COOKIE, path="/app")
    return out
