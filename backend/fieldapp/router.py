"""``/app``: the field app's pages, its wallet sign-in (EIP-4361) and its signed writes.

``POST /app/api/sign-in/message`` writes the message the wallet signs;
``POST /app/api/sign-in`` checks the signed message and sets an HttpOnly,
SameSite=Strict cookie signed with the keys every replica shares;
``GET /app/api/me`` says who is signed in; ``POST /app/api/sign-out`` ends it.
``GET /app`` lists the organisation's shipments, ``GET /app/shipments/{id}``
offers the milestones it may record; a draft is checked field by field and
comes back as ``eth_signTypedData_v4`` data; the signed milestone goes through
the same pipeline as the API's (``backend.shipments.writes``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from backend.chain import ChainClient, ChainError
from backend.chain.typed_data.shipments import CUSTODY_TRANSFERS, MILESTONE
from backend.common.schemas import RowModel
from backend.common.types import Bytes32, EthAddress, WalletSignature, to_hex
from backend.deps import ChainDep, SessionDep, SettingsDep, get_context
from backend.errors import (
    Forbidden,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    Unauthenticated,
)
from backend.fieldapp import pages, service
from backend.fieldapp import passports as passport_forms
from backend.fieldapp.milestones import REASONS
from backend.fieldapp.service import Identity, Site
from backend.gs1.sscc import SsccInvalid, validate_sscc
from backend.handlers import ErrorPublic
from backend.locations import unlocode
from backend.orgs.auth import RateLimits, record_failure, refuse_guessing
from backend.orgs.signers import Signed, verify_signature
from backend.passports import writes as passport_writes
from backend.passports.api_schemas import PassportAmend, PassportCreate
from backend.passports.public import public_passport
from backend.passports.router import registry as passport_registry
from backend.qr.images import qr_svg
from backend.relayer.schemas import RelayAccepted, RelayPublic
from backend.relayer.signed import own_request
from backend.shipments import evidence
from backend.shipments import writes as shipments
from backend.shipments.messages import milestone_message
from backend.shipments.router import EvidenceHash, evidence_response, registry
from backend.shipments.schemas import MilestoneCreate, MilestoneIn, ShipmentCreate

router = APIRouter(prefix="/app", tags=["field app"])
ERRORS: dict[int | str, dict[str, object]] = {"4XX": {"model": ErrorPublic}}


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class MessageRequest(_Body):
    address: Annotated[EthAddress, Field(description="The wallet's address.")]
    chain_id: Annotated[int, Field(alias="chainId", ge=1, le=2**63 - 1)]


class MessagePublic(BaseModel):
    message: str
    nonce: str
    expires_at: int


class SignInRequest(_Body):
    message: Annotated[str, Field(max_length=2048)]
    signature: WalletSignature


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
    return Site.from_base_url(get_context(request).settings.public_base_url)


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
            signer=get_context(request).app_session_signer,
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
        service.session_token(signer=get_context(request).app_session_signer, identity=identity),
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


# -- pages ------------------------------------------------------------------

TEMPLATES = Path(__file__).resolve().parent / "templates"
ShipmentId = Annotated[Bytes32, PathParam(description="bytes32 shipment id, 0x-prefixed")]
NO_STORE = {"Cache-Control": "no-store"}


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _page(name: str, **context: Any) -> HTMLResponse:
    return HTMLResponse(_env().get_template(name).render(**context), headers=NO_STORE)


def _require(request: Request, session: Any) -> Identity:
    identity = current_identity(request, session)
    if identity is None:
        raise Unauthenticated("not signed in")
    return identity


def _chain_now(chain: Any) -> int:
    try:
        return int(chain.now())
    except ChainError:
        return int(time.time())


@dataclass(frozen=True)
class Visit:
    """A request for one of the app's pages: the sign-in page until a key is signed in."""

    request: Request
    session: Session
    chain: ChainClient
    identity: Identity | None

    def answer(self, respond: Callable[[Identity], Response]) -> Response:
        """What ``respond`` answers for the signed-in key; the sign-in page for anyone else."""
        if self.identity is None:
            return _page(
                "signin.html",
                identity=None,
                chain_id=self.chain.chain_id,
                domain=_site(self.request).domain,
            )
        return respond(self.identity)

    def page(
        self, name: str, context: Callable[[Identity], dict[str, Any]] | None = None
    ) -> Response:
        """Template ``name`` for the signed-in key, with what ``context`` adds for it."""
        return self.answer(
            lambda identity: _page(
                name,
                identity=identity,
                chain_id=self.chain.chain_id,
                **(context(identity) if context else {}),
            )
        )


def visit(request: Request, session: SessionDep, chain: ChainDep) -> Visit:
    return Visit(request, session, chain, current_identity(request, session))


VisitDep = Annotated[Visit, Depends(visit)]


@router.get("", response_class=HTMLResponse, include_in_schema=False)
def field_app(v: VisitDep) -> Response:
    """Sign in with the wallet, or the organisation's shipments once signed in."""
    return v.page(
        "shipments.html",
        lambda identity: {"cards": pages.my_shipments(session=v.session, identity=identity)},
    )


@router.get("/shipments/{shipment_id}", response_class=HTMLResponse, include_in_schema=False)
def shipment_page(shipment_id: ShipmentId, v: VisitDep) -> Response:
    """One shipment: what is expected next and the form for the milestones this key may sign."""

    def context(identity: Identity) -> dict[str, Any]:
        card = pages.one_shipment(session=v.session, identity=identity, shipment_id=shipment_id)
        locodes = sorted({card.origin, card.destination} - {""})
        journey = pages.journey(session=v.session, card=card)
        return {"card": card, "journey": journey, "locodes": locodes, "reasons": REASONS}

    return v.page("shipment.html", context)


@router.get("/scan", response_class=HTMLResponse, include_in_schema=False)
def scan_page(v: VisitDep) -> Response:
    """The camera scanner for SSCC labels (GS1 Digital Link ``/00/{sscc}``)."""
    return v.page("scan.html")


@router.get("/00", include_in_schema=False)
@router.get("/00/{sscc}", include_in_schema=False)
def open_label(v: VisitDep, sscc: str = "") -> Response:
    """A scanned or typed SSCC: on to its shipment's page, for a party of it (404 otherwise)."""

    def redirect(identity: Identity) -> Response:
        try:
            valid = validate_sscc("".join(sscc.split())[:40])
        except SsccInvalid as exc:
            raise InvalidInput(f"sscc: {exc}") from None
        card = pages.shipment_by_sscc(session=v.session, identity=identity, sscc=valid)
        return RedirectResponse(f"/app/shipments/{card.id}", status_code=303, headers=NO_STORE)

    return v.answer(redirect)


# -- signed writes ----------------------------------------------------------


class MilestoneForm(_Body):
    milestone: Annotated[str, Field(max_length=32)] = ""
    counterparty: Annotated[str, Field(max_length=42)] = ""
    location: Annotated[str, Field(max_length=40)] = ""
    weight_kg: Annotated[str, Field(max_length=24)] = ""
    reason: Annotated[str, Field(max_length=4)] = ""
    # SHA-256 of each attached photo, in the order the signature covers them (checked
    # against the bound of 8 with a message next to the field, hence the looser cap here).
    evidence: Annotated[list[Annotated[str, Field(max_length=80)]], Field(max_length=32)] = []


class FormDraft(RowModel):
    # A form checked field by field: the errors, else the typed data to sign and what
    # to submit with its signature. Read from the form's draft as it is.
    errors: dict[str, str]
    typed_data: dict[str, Any] | None
    submission: dict[str, Any] | None
    summary: str


class DraftPublic(FormDraft):
    cosigned: bool = Field(
        False, description="A pickup or handover: the receiver co-signs it on its own phone."
    )


def signed_write(path: str) -> Callable[[Callable[..., RelayAccepted]], Any]:
    """``POST path`` of a write the signed-in key signed: 202 with the relay request to follow."""
    return router.post(
        path, status_code=status.HTTP_202_ACCEPTED, response_model=RelayAccepted, responses=ERRORS
    )


def _own_signature(identity: Identity, signer: str, what: str = "what") -> None:
    """The session's key is the one that signed: it relays nothing another key signed."""
    if signer.lower() != identity.address.lower():
        raise Forbidden(
            f"this session is {identity.address}; it submits only {what} that key signed"
        )


def _writer(request: Request, session: Any) -> Identity:
    """The signed-in key of a write from this site, within its key's rate limit."""
    if not _same_origin(request):
        raise Forbidden("cross-site request refused")
    identity = _require(request, session)
    limits = RateLimits.of(get_context(request))
    wait = limits.per_key.take(f"app:{identity.address}")
    if wait > 0:
        raise RateLimited("too many requests from this key", retry_after=max(1, math.ceil(wait)))
    return identity


@router.post(
    "/api/shipments/{shipment_id}/milestones/draft", response_model=DraftPublic, responses=ERRORS
)
def draft_milestone(
    shipment_id: ShipmentId,
    body: MilestoneForm,
    request: Request,
    session: SessionDep,
    chain: ChainDep,
) -> DraftPublic:
    """Check a milestone form field by field; the typed data to sign once every field is good."""
    identity = _writer(request, session)
    card = pages.one_shipment(session=session, identity=identity, shipment_id=shipment_id)
    draft = pages.draft_milestone(
        session=session,
        card=card,
        identity=identity,
        registry=registry(request),
        form=body.model_dump(),
        now=_chain_now(chain),
    )
    return DraftPublic.model_validate(draft)


class EvidencePublic(BaseModel):
    evidence_hash: str
    media_type: str
    size: int


def _store_evidence(
    request: Request, session: Any, shipment_id: bytes, claimed: bytes, content: bytes
) -> EvidencePublic:
    identity = _writer(request, session)
    pages.one_shipment(session=session, identity=identity, shipment_id=shipment_id)
    stored = evidence.store(
        session=session,
        shipment_id=shipment_id,
        claimed_hash=claimed,
        content=content,
        org_id=identity.org_id,
        uploaded_by=identity.address,
    )
    return EvidencePublic(
        evidence_hash=stored.evidence_hash, media_type=stored.media_type, size=stored.size
    )


@router.put(
    "/api/shipments/{shipment_id}/evidence/{evidence_hash}",
    status_code=status.HTTP_201_CREATED,
    response_model=EvidencePublic,
    responses=ERRORS,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}},
        }
    },
)
async def upload_evidence(
    shipment_id: ShipmentId, evidence_hash: EvidenceHash, request: Request, session: SessionDep
) -> EvidencePublic:
    """Store a photo under the SHA-256 the milestone will sign (the server recomputes it)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > evidence.MAX_BYTES:
        raise PayloadTooLarge(
            f"photo: {declared} bytes is over the "
            f"{evidence.MAX_BYTES // (1024 * 1024)} MiB limit; take it again at a lower resolution"
        )
    content = await request.body()
    return await run_in_threadpool(
        _store_evidence, request, session, shipment_id, evidence_hash, content
    )


@router.get(
    "/api/shipments/{shipment_id}/evidence/{evidence_hash}",
    response_class=Response,
    responses=ERRORS,
)
def read_evidence(
    shipment_id: ShipmentId, evidence_hash: EvidenceHash, request: Request, session: SessionDep
) -> Response:
    """A stored photo of a shipment this key's organisation is a party of."""
    identity = _require(request, session)
    pages.one_shipment(session=session, identity=identity, shipment_id=shipment_id)
    return evidence_response(
        evidence.read(session=session, shipment_id=shipment_id, hash_=evidence_hash)
    )


@signed_write("/api/shipments/{shipment_id}/milestones")
def submit_milestone(
    shipment_id: ShipmentId, body: MilestoneCreate, request: Request, session: SessionDep
) -> RelayAccepted:
    """Relay a milestone the signed-in key signed, through the API's own checks."""
    identity = _writer(request, session)
    _own_signature(identity, body.milestone.signer, "milestones")
    card = pages.one_shipment(session=session, identity=identity, shipment_id=shipment_id)
    location = body.milestone.location
    if location and not unlocode.known(location, also=pages.route_codes(card)):
        raise InvalidInput(f"location: {location} is not a UN/LOCODE")
    return shipments.record_milestone(
        session=session,
        registry=registry(request),
        principal=identity.principal(),
        shipment_id=shipment_id,
        data=body,
    )


@router.get("/api/relay/{relay_id}", response_model=RelayPublic, responses=ERRORS)
def relay_status(
    relay_id: Annotated[int, PathParam(ge=1, le=2**31 - 1)], request: Request, session: SessionDep
) -> RelayPublic:
    """Status of one of the organisation's relayed writes (queued, sent, mined, final, failed)."""
    identity = _require(request, session)
    req = own_request(session=session, principal=identity.principal(), relay_id=relay_id)
    return RelayPublic.model_validate(req)


# -- handovers ----------------------------------------------------------------


class HandoverSigned(_Body):
    """The releasing party's signed pickup or handover, as its link carries it."""

    milestone: MilestoneIn
    signature: WalletSignature


class HandoverReviewPublic(BaseModel):
    summary: str
    typed_data: dict[str, Any]
    photos: list[str] = Field(
        description="SHA-256 of each evidence photo the releaser's signed evidenceHash covers, "
        "in order; each reads from /app/api/shipments/{id}/evidence/{hash}"
    )


def _handover_release(
    request: Request, session: Any, identity: Identity, body: HandoverSigned | MilestoneCreate
) -> tuple[pages.Card, Identity]:
    """The shipment and the releasing party's identity, once the link is proven to be a
    custody transfer to this key, signed by the key it names."""
    item = body.milestone
    if item.milestone not in CUSTODY_TRANSFERS:
        raise Forbidden("only a pickup or handover is co-signed by its receiver")
    if item.counterparty.lower() != identity.address.lower():
        raise Forbidden(
            f"this handover is for {item.counterparty}; you are signed in as {identity.address}"
        )
    signer = verify_signature(
        Signed(
            registry(request).domain(),
            MILESTONE,
            milestone_message(item),
            body.signature,
            claimed=item.signer,
            field="signer",
        ),
        chain=registry(request).chain,
    )
    try:
        releaser = service.identity_of(session=session, address=signer, now=int(time.time()))
    except Forbidden as exc:
        raise Forbidden(f"the releasing party's key no longer counts: {exc}") from None
    card = pages.one_shipment(session=session, identity=identity, shipment_id=item.shipment_id)
    return card, releaser


@router.get("/handover", response_class=HTMLResponse, include_in_schema=False)
def handover_page(v: VisitDep) -> Response:
    """The receiver's page: the signed handover travels in the link's fragment, never in logs."""
    return v.page("handover.html")


@router.post("/api/handover/review", response_model=HandoverReviewPublic, responses=ERRORS)
def review_handover(
    body: HandoverSigned, request: Request, session: SessionDep, chain: ChainDep
) -> HandoverReviewPublic:
    """What the signed-in receiver accepts, and the ``CustodyAcceptance`` it signs."""
    identity = _writer(request, session)
    card, releaser = _handover_release(request, session, identity, body)
    review = pages.review_handover(
        session=session,
        card=card,
        identity=identity,
        registry=registry(request),
        milestone=body.milestone.model_dump(mode="json", by_alias=True),
        releaser_name=releaser.org_name,
        now=_chain_now(chain),
    )
    return HandoverReviewPublic(
        summary=review.summary, typed_data=review.typed_data, photos=review.photos
    )


@signed_write("/api/handover")
def submit_handover(body: MilestoneCreate, request: Request, session: SessionDep) -> RelayAccepted:
    """Relay a pickup or handover once its receiver (the signed-in key) has co-signed it.

    It is written for the releasing party's organisation, exactly as that
    organisation's own API key would submit it with the receiver's acceptance.
    """
    identity = _writer(request, session)
    _card, releaser = _handover_release(
        request,
        session,
        identity,
        HandoverSigned(milestone=body.milestone, signature=body.signature),
    )
    return shipments.record_milestone(
        session=session,
        registry=registry(request),
        principal=releaser.principal(),
        shipment_id=body.milestone.shipment_id,
        data=body,
    )


class CardPublic(BaseModel):
    status: str
    holds: bool
    expected: str


@router.get("/api/shipments/{shipment_id}", response_model=CardPublic, responses=ERRORS)
def shipment_state(shipment_id: ShipmentId, request: Request, session: SessionDep) -> CardPublic:
    """Where a shipment of the organisation stands (the receiver's page follows it)."""
    identity = _require(request, session)
    card = pages.one_shipment(session=session, identity=identity, shipment_id=shipment_id)
    return CardPublic(status=card.status, holds=card.holds, expected=card.expected)


class QrRequest(_Body):
    text: Annotated[str, Field(max_length=2000)]


@router.post("/api/qr", response_class=Response, responses=ERRORS)
def handover_qr(body: QrRequest, request: Request, session: SessionDep) -> Response:
    """The QR code of a handover link of this site, for the receiver's camera."""
    _writer(request, session)
    prefix = f"{_site(request).uri}/handover#"
    if not body.text.startswith(prefix):
        raise Forbidden("only this site's handover links are drawn")
    return Response(
        qr_svg(body.text, module_px=4, title="Handover link"),
        media_type="image/svg+xml",
        headers=NO_STORE,
    )


# -- new shipments (sellers) ---------------------------------------------------


@router.get("/new-shipment", response_class=HTMLResponse, include_in_schema=False)
def new_shipment_page(v: VisitDep) -> Response:
    """The seller's form for a new shipment, signed in the wallet like every other write."""
    return v.page("new_shipment.html")


class ShipmentForm(_Body):
    reference: Annotated[str, Field(max_length=80)] = ""
    origin: Annotated[str, Field(max_length=16)] = ""
    destination: Annotated[str, Field(max_length=16)] = ""
    carrier: Annotated[str, Field(max_length=64)] = ""
    warehouse: Annotated[str, Field(max_length=64)] = ""
    customs_broker: Annotated[str, Field(max_length=64)] = ""
    consignee: Annotated[str, Field(max_length=64)] = ""
    weight_kg: Annotated[str, Field(max_length=24)] = ""
    pieces: Annotated[str, Field(max_length=12)] = ""
    mode: Annotated[str, Field(max_length=8)] = ""
    lines: Annotated[str, Field(max_length=40_000)] = ""
    picked_up_by: Annotated[str, Field(max_length=40)] = ""
    delivered_by: Annotated[str, Field(max_length=40)] = ""


class ShipmentDraftPublic(FormDraft):
    pass


@router.post("/api/shipments/draft", response_model=ShipmentDraftPublic, responses=ERRORS)
def draft_shipment(
    body: ShipmentForm, request: Request, session: SessionDep, chain: ChainDep
) -> ShipmentDraftPublic:
    """Check a new shipment field by field; the ``CreateShipment`` typed data once all are good."""
    identity = _writer(request, session)
    draft = pages.draft_shipment(
        identity=identity, registry=registry(request), form=body.model_dump(), now=_chain_now(chain)
    )
    return ShipmentDraftPublic.model_validate(draft)


@signed_write("/api/shipments")
def create_shipment(body: ShipmentCreate, request: Request, session: SessionDep) -> RelayAccepted:
    """Relay a shipment the signed-in seller key signed, through the API's own checks."""
    identity = _writer(request, session)
    _own_signature(identity, body.terms.seller, "shipments")
    return shipments.create(
        session=session, registry=registry(request), principal=identity.principal(), data=body
    )


# -- passports (sellers) -----------------------------------------------------------


class PassportForm(_Body):
    gtin: Annotated[str, Field(max_length=32)] = ""
    lot: Annotated[str, Field(max_length=40)] = ""
    serial: Annotated[str, Field(max_length=40)] = ""
    product_name: Annotated[str, Field(max_length=200)] = ""
    category: Annotated[str, Field(max_length=120)] = ""
    description: Annotated[str, Field(max_length=2000)] = ""
    origin_country: Annotated[str, Field(max_length=8)] = ""
    region: Annotated[str, Field(max_length=120)] = ""
    materials: Annotated[str, Field(max_length=8000)] = ""
    sections: Annotated[str, Field(max_length=200_000)] = ""


class PassportDraftPublic(FormDraft):
    pass


PassportIdPath = Annotated[Bytes32, PathParam(description="bytes32 passport id")]


def _stored_document(session: Any, identity: Identity, passport_id: bytes) -> dict[str, Any]:
    """The latest document of a passport this organisation issued (404 for anyone else)."""
    view = public_passport(session=session, passport_id=passport_id)
    mine = {k.lower() for k in pages.org_keys(session, identity)}
    if view is None or view.document is None or view.issuer.lower() not in mine:
        raise NotFound(f"passport {to_hex(passport_id)} not found")
    return view.document


@router.get("/passports/new", response_class=HTMLResponse, include_in_schema=False)
def new_passport_page(v: VisitDep) -> Response:
    """The seller's form for a new product passport."""
    empty = dict.fromkeys(passport_forms.FIELDS, "")
    return v.page("passport.html", lambda _identity: {"form": empty, "amending": ""})


@router.get("/passports/{passport_id}/amend", response_class=HTMLResponse, include_in_schema=False)
def amend_passport_page(passport_id: PassportIdPath, v: VisitDep) -> Response:
    """The form filled from the passport's latest document, to sign its next version."""

    def context(identity: Identity) -> dict[str, Any]:
        document = _stored_document(v.session, identity, passport_id)
        return {"form": passport_forms.form_of(document), "amending": to_hex(passport_id)}

    return v.page("passport.html", context)


def _passport_draft(
    request: Request, session: Any, chain: Any, body: PassportForm, amending: bytes | None
) -> PassportDraftPublic:
    identity = _writer(request, session)
    base = _stored_document(session, identity, amending) if amending else None
    draft = passport_forms.draft(
        identity=identity,
        registry=passport_registry(request),
        form=body.model_dump(),
        base_url=get_context(request).settings.public_base_url,
        now=_chain_now(chain),
        amending=amending,
        base=base,
    )
    return PassportDraftPublic.model_validate(draft)


@router.post("/api/passports/draft", response_model=PassportDraftPublic, responses=ERRORS)
def draft_passport(
    body: PassportForm, request: Request, session: SessionDep, chain: ChainDep
) -> PassportDraftPublic:
    """Check a new passport field by field; the ``IssuePassport`` typed data once all are good."""
    return _passport_draft(request, session, chain, body, None)


@router.post(
    "/api/passports/{passport_id}/draft", response_model=PassportDraftPublic, responses=ERRORS
)
def draft_amendment(
    passport_id: PassportIdPath,
    body: PassportForm,
    request: Request,
    session: SessionDep,
    chain: ChainDep,
) -> PassportDraftPublic:
    """Check an amendment field by field; the ``AmendPassport`` typed data once all are good."""
    return _passport_draft(request, session, chain, body, passport_id)


@signed_write("/api/passports")
def issue_passport(body: PassportCreate, request: Request, session: SessionDep) -> RelayAccepted:
    """Relay a passport the signed-in seller key signed, through the API's own checks."""
    identity = _writer(request, session)
    _own_signature(identity, body.issuer)
    return passport_writes.issue(
        session=session,
        registry=passport_registry(request),
        principal=identity.principal(),
        data=body,
    )


@signed_write("/api/passports/{passport_id}/versions")
def amend_passport(
    passport_id: PassportIdPath, body: PassportAmend, request: Request, session: SessionDep
) -> RelayAccepted:
    """Relay an amendment the signed-in seller key signed, through the API's own checks."""
    identity = _writer(request, session)
    _own_signature(identity, body.issuer)
    return passport_writes.amend(
        session=session,
        registry=passport_registry(request),
        principal=identity.principal(),
        passport_id=passport_id,
        data=body,
    )
