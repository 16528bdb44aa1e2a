"""SSCC Digital Links: ``/00/{sscc}`` opens the public tracking page; a printable label."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from backend.deps import SessionDep, SettingsDep
from backend.errors import NotFound
from backend.qr import tracking
from backend.qr.linkset import negotiate
from backend.qr.render import render_error_page
from backend.shipments.sscc import SsccInvalid, validate_sscc

router = APIRouter(tags=["consumer"])

_PATH = re.compile(r"^/00/([^/?#]*)/?$")


def _raw_path(request: Request) -> str:
    raw = request.scope.get("raw_path")
    return raw.decode("ascii", "replace") if raw else request.url.path


def _problem(as_json: bool, status: int, title: str, error: str, detail: str) -> Response:
    if as_json:
        return JSONResponse({"error": error, "detail": detail}, status_code=status)
    return HTMLResponse(render_error_page(status, title, detail), status_code=status)


@router.get("/00/{rest:path}", include_in_schema=False)
def track(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """The public tracking page (or its JSON) of the shipment labelled with this SSCC."""
    representation = negotiate(request.headers.get("accept"))
    as_json = representation in ("json", "linkset")
    match = _PATH.match(_raw_path(request))
    try:
        if match is None:
            raise SsccInvalid("an SSCC link is /00/{18-digit SSCC}", field="sscc")
        sscc = validate_sscc(match.group(1))
    except SsccInvalid as exc:
        return _problem(
            as_json, 400, "Not a valid shipment code", "invalid_digital_link", exc.detail
        )
    if representation is None:
        return _problem(
            False, 406, "Not acceptable", "not_acceptable", "This link serves HTML and JSON."
        )
    try:
        view = tracking.tracking_view(session=session, sscc=sscc, base=settings.public_base_url)
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
        return _problem(False, 400, "Not a valid shipment code", "invalid_digital_link", exc.detail)
    except NotFound as exc:
        return _problem(False, 404, "No shipment for this code", exc.error, exc.detail)
    carrier = tracking.carrier_name(session=session, sscc=valid)
    return HTMLResponse(tracking.render_label(view, carrier=carrier))
