"""``/dashboard``: the seller war room (HTML, or JSON with ``Accept: application/json``).

Browsers sign in with an API key through a form; the response sets an HttpOnly,
SameSite=Strict session cookie that never contains the key. Programs send the
key as ``Authorization: Bearer …`` or ``X-API-Key`` instead.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response

from backend.agreements.service import for_addresses
from backend.chain import ChainError
from backend.common.types import Bytes32
from backend.dashboard import service, sessions
from backend.dashboard.render import render_dashboard, render_login, render_shipment
from backend.dashboard.shipment import shipment_page
from backend.deps import ChainDep, DeploymentDep, SessionDep, SettingsDep, get_context
from backend.errors import Forbidden, InvalidInput, RateLimited, Unauthenticated, WaymarkError
from backend.handlers import ErrorPublic
from backend.names import display_names
from backend.orgs import service as orgs
from backend.orgs.auth import get_principal, record_failure, refuse_guessing
from backend.orgs.service import Principal
from backend.paths import FRONTEND_STATIC

router = APIRouter(tags=["dashboard"], include_in_schema=True)
MAX_FORM_BYTES = 4096
PER_PAGE = 20


def _principal(request: Request, session: Any, settings: Any) -> Principal | None:
    if request.headers.get("authorization") or request.headers.get("x-api-key"):
        return get_principal(request, session, settings)
    token = request.cookies.get(sessions.SESSION_COOKIE)
    if not token:
        return None
    try:
        return sessions.session_principal(
            session=session, signer=get_context(request).session_signer, token=token
        )
    except Unauthenticated:
        return None


def _chain_now(request: Request) -> int:
    """The chain's clock, which SLA deadlines are judged by on chain; the wall clock if it is down."""
    try:
        return get_context(request).chain.now()
    except ChainError:
        return int(time.time())


def _same_origin(request: Request) -> bool:
    """POSTs must come from this site (Origin, else Referer, when the browser sends one)."""
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source or source == "null":
        return source is None
    parts = urlsplit(source)
    return f"{parts.scheme}://{parts.netloc}" == f"{request.url.scheme}://{request.url.netloc}"


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


ColourParam = Annotated[str, Query(pattern="^(|red|yellow|green|closed)$")]
RouteParam = Annotated[str, Query(pattern="^(|[A-Z0-9]{5}-[A-Z0-9]{5})$")]
PartyParam = Annotated[str, Query(pattern="^(|0x[0-9a-fA-F]{40})$")]
DateParam = Annotated[str, Query(pattern="^(|[0-9]{4}-[0-9]{2}-[0-9]{2})$")]


def _day(text: str, *, next_day: bool = False) -> int | None:
    """``YYYY-MM-DD`` (UTC) → Unix seconds at its start (or the next day's)."""
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{text!r} is not a calendar date (YYYY-MM-DD)") from None
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return int((start + timedelta(days=1 if next_day else 0)).timestamp())


def _seller(request: Request, session: Any, settings: Any) -> Principal | None:
    principal = _principal(request, session, settings)
    if principal is None:
        return None
    if principal.operator or principal.org_id is None:
        raise Forbidden("the dashboard shows one organisation: sign in with its API key")
    principal.require_any({"seller"})
    return principal


@router.get(
    "/dashboard",
    response_model=None,
    responses={
        200: {
            "description": "The dashboard page, or its data as JSON (`Accept: application/json`).",
            "content": {"text/html": {}, "application/json": {}},
        },
        303: {"description": "Not signed in: redirect to /dashboard/login."},
    },
)
def dashboard(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    chain: ChainDep,
    deployment: DeploymentDep,
    colour: ColourParam = "",
    route: RouteParam = "",
    party: PartyParam = "",
    since: Annotated[DateParam, Query(alias="from")] = "",
    until: Annotated[DateParam, Query(alias="to")] = "",
    q: Annotated[str, Query(max_length=64)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=200)] = PER_PAGE,
) -> Response:
    """The war room of the signed-in seller: filters by colour, route, party, date and reference."""
    principal = _seller(request, session, settings)
    if principal is None:
        return RedirectResponse("/dashboard/login", status_code=303)
    assert principal.org_id is not None
    now = _chain_now(request)
    addresses = service.org_addresses(session=session, org_id=principal.org_id)
    rows = service.shipment_rows(
        session=session, org_id=principal.org_id, sellers=addresses, now=now
    )
    flt = service.RowFilter(
        colour=colour,
        route=route,
        party=party,
        since=_day(since),
        until=_day(until, next_day=True),
        q=q.strip(),
    )
    kept = [r for r in rows if flt.keeps(r)]
    pages = max(1, -(-len(kept) // per_page))
    shown = kept[(page - 1) * per_page : page * per_page]
    alliance = service.alliance_summary(session=session, addresses=addresses)
    agreements = for_addresses(
        session=session, chain=chain, deployment=deployment, addresses=addresses
    )
    names = display_names(
        session=session,
        addresses=[
            *(p for r in rows for p in r.parties),
            *(t["requester"] for t in alliance.transfers),
            *(t["lender"] for t in alliance.transfers),
            *(m["member"] for m in alliance.settlements),
            *(m["member"] for m in alliance.reallocations),
        ],
    )
    if _wants_json(request):
        return JSONResponse(
            {
                "org": principal.org_slug,
                "generated_at": now,
                "counts": service.counts(rows),
                "matching": len(kept),
                "page": page,
                "pages": pages,
                "shipments": [_row_json(r) for r in shown],
                "alliance": asdict(alliance),
                "agreements": agreements,
            }
        )
    html = render_dashboard(
        org=principal.org_slug or "",
        rows=shown,
        all_rows=rows,
        matching=len(kept),
        alliance=alliance,
        agreements=agreements,
        names=names,
        filters={
            "colour": colour,
            "route": route,
            "party": party,
            "from": since,
            "to": until,
            "q": q.strip(),
        },
        page=page,
        pages=pages,
        per_page=per_page,
        now=now,
        cookie=not bool(request.headers.get("authorization") or request.headers.get("x-api-key")),
    )
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


@router.get(
    "/dashboard/shipments/{shipment_id}",
    response_model=None,
    responses={
        200: {
            "description": "The shipment page, or its data as JSON (`Accept: application/json`).",
            "content": {"text/html": {}, "application/json": {}},
        },
        303: {"description": "Not signed in: redirect to /dashboard/login."},
    },
)
def shipment(
    shipment_id: Annotated[Bytes32, Path(description="bytes32 shipment id, 0x-prefixed")],
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """One shipment: timeline with signers, custody, weights, SLA, customs, passports."""
    principal = _seller(request, session, settings)
    if principal is None:
        return RedirectResponse("/dashboard/login", status_code=303)
    assert principal.org_id is not None
    now = _chain_now(request)
    addresses = service.org_addresses(session=session, org_id=principal.org_id)
    page = shipment_page(
        session=session,
        org_id=principal.org_id,
        addresses=addresses,
        shipment_id=shipment_id,
        now=now,
    )
    if _wants_json(request):
        data = asdict(page)
        data["assessment"] = {
            "colour": page.assessment.colour.value,
            "reasons": list(page.assessment.reasons),
        }
        return JSONResponse(data)
    html = render_shipment(
        org=principal.org_slug or "",
        page=page,
        now=now,
        cookie=not bool(request.headers.get("authorization") or request.headers.get("x-api-key")),
    )
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


def _row_json(row: service.ShipmentRow) -> dict[str, Any]:
    s, a = row.snapshot, row.assessment
    return {
        "shipment_id": s.shipment_id,
        "reference": row.reference,
        "page": f"/dashboard/shipments/{s.shipment_id}",
        "status": s.status.name,
        "origin": s.origin,
        "destination": s.destination,
        "last_location": s.last_location,
        "last_event_at": s.last_event_at,
        "colour": a.colour.value,
        "reasons": list(a.reasons),
        "next_deadline": (
            {"milestone": a.next_deadline[0].name, "at": a.next_deadline[1]}
            if a.next_deadline
            else None
        ),
    }


@router.get("/dashboard/login", response_class=HTMLResponse)
def login_form() -> HTMLResponse:
    return HTMLResponse(render_login(error=None), headers={"Cache-Control": "no-store"})


@router.post(
    "/dashboard/login",
    response_model=None,
    responses={
        303: {"description": "Signed in: session cookie set, redirect to /dashboard."},
        "4XX": {
            "model": ErrorPublic,
            "description": "Sign-in refused: the login page with the reason (HTML), or an error.",
            "content": {"text/html": {}},
        },
    },
)
async def login(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """Exchange an API key (form field ``api_key``) for a session cookie."""
    if not _same_origin(request):
        raise Forbidden("cross-site sign-in refused")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return HTMLResponse(render_login(error="The form is too large."), status_code=413)
    key = (parse_qs(body.decode("utf-8", "replace")).get("api_key") or [""])[0].strip()
    try:
        address = refuse_guessing(request)
        try:
            principal = orgs.authenticate(session=session, token=key, admin_token="")
        except Unauthenticated:
            record_failure(request, address)
            raise
        if principal.org_id is None:
            raise Unauthenticated("not an organisation key")
        principal.require_any({"seller"})
        token = sessions.session_token(
            signer=get_context(request).session_signer,
            api_key=key,
            key_hash=sessions.stored_key_hash(session=session, api_key=key),
        )
    except WaymarkError as exc:
        headers = {"Cache-Control": "no-store"}
        if isinstance(exc, RateLimited):
            headers["Retry-After"] = str(int(exc.retry_after))
        return HTMLResponse(
            render_login(error=f"Sign-in failed: {exc}"),
            status_code=exc.status_code,
            headers=headers,
        )
    response = RedirectResponse("/dashboard", status_code=303)
    response.set_cookie(
        sessions.SESSION_COOKIE,
        token,
        max_age=sessions.SESSION_MAX_AGE,
        path="/dashboard",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post(
    "/dashboard/logout",
    response_model=None,
    responses={303: {"description": "Session cookie cleared, redirect to /dashboard/login."}},
)
def logout(request: Request) -> Response:
    if not _same_origin(request):
        raise Forbidden("cross-site sign-out refused")
    response = RedirectResponse("/dashboard/login", status_code=303)
    response.delete_cookie(
        sessions.SESSION_COOKIE, path="/dashboard", httponly=True, samesite="strict"
    )
    return response


@router.get("/dashboard/static/dashboard.css", include_in_schema=False)
def stylesheet() -> FileResponse:
    return FileResponse(
        FRONTEND_STATIC / "dashboard.css",
        media_type="text/css",
        headers={"Cache-Control": "public, max-age=300"},
    )


@router.get("/dashboard/static/local-time.js", include_in_schema=False)
def local_time_script() -> FileResponse:
    """Rewrites each ``<time>`` into the viewer's time zone (UTC stays on hover)."""
    return FileResponse(
        FRONTEND_STATIC / "local-time.js",
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=300"},
    )
