"""SSCC Digital Links: ``/00/{sscc}`` opens the public tracking page; a printable label."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from backend.deps import SessionDep, SettingsDep
from backend.errors import NotFound
from backend.gs1.digital_link import SsccLink, parse_link
from backend.gs1.errors import DigitalLinkError
from backend.gs1.sscc import SsccInvalid, validate_sscc
from backend.qr import tracking
from backend.qr.linkset import negotiate
from backend.qr.render import render_error_page

router = APIRouter(tags=["consumer"])


def _raw_path(request: Request) -> str:
    raw = request.scope.get("raw_path")
    return raw.decode("ascii", "replace") if raw else request.url.path


def _problem(
    as_json: bool, status: int, title: str, error: str, detail: str, field: str | None = None
) -> Response:
    if as_json:
        body = {"error": error, "detail": detail}
        if field is not None:
            body["field"] = field
        return JSONResponse(body, status_code=status)
    return HTMLResponse(render_error_page(status, title, detail), status_code=status)


@router.get("/00/{rest:path}", include_in_schema=False)
def track(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """The public tracking page (or its JSON) of the shipment labelled with this SSCC."""
    representation = negotiate(request.headers.get("accept"))
    as_json = representation in ("json", "linkset")
    raw = _raw_path(request)
    try:
        link = parse_link(raw, request.url.query)
    except DigitalLinkError as exc:
        return _problem(
            as_json,
            400,
            "Not a valid shipment code",
            "invalid_digital_link",
            exc.message,
            exc.field,
        )
    if not isinstance(link, SsccLink) or raw != link.path:
        # A path prefix, a trailing slash, or a GTIN further right: the canonical link.
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(link.path + query, status_code=301)
    if representation is None:
        return _problem(
            False, 406, "Not acceptable", "not_acceptable", "This link serves HTML and JSON."
        )
    try:
        view = tracking.tracking_view(
            session=session, sscc=link.sscc, base=settings.public_base_url
        )
    except NotFound as exc:
        return _problem(as_json, 404, "No shipment for this code", exc.error, exc.detail)
    headers = {"Vary": "Accept", "Cache-Control": "no-cache"}
    if as_json:
        return JSONResponse(view.as_json(), headers=headers)
    return HTMLResponse(tracking.render_tracking(view), headers=headers)


@router.get("/labels/00/{sscc}", include_in_schema=False)
def label(sscc: str, session: SessionDep, settings: SettingsDep) -> Response:
    """A printable A6 GS1-style logistic label with the SSCC and its Digital Link QR code."""
    try:
        valid = validate_sscc(sscc)
        view = tracking.tracking_view(session=session, sscc=valid, base=settings.public_base_url)
    except SsccInvalid as exc:
        return _problem(False, 400, "Not a valid shipment code", "invalid_digital_link", str(exc))
    except NotFound as exc:
        return _problem(False, 404, "No shipment for this code", exc.error, exc.detail)
    carrier = tracking.carrier_name(session=session, sscc=valid)
    return HTMLResponse(tracking.render_label(view, carrier=carrier))


# Registered last, so that ``/labels/00/…`` above is not taken for a prefix.
@router.get("/{prefix:path}/00/{rest:path}", include_in_schema=False)
def track_prefixed(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """An SSCC link under a custom path prefix: answered as its canonical path (301)."""
    return track(request, session, settings)
