"""EPCIS 2.0 REST bindings (the subset Waymark serves): capture jobs and event queries.

* ``POST /epcis/capture``: an EPCISDocument (JSON-LD) → ``202`` + ``Location`` of the job;
  ``GS1-Capture-Error-Behaviour: rollback`` (default) or ``proceed``;
* ``GET /epcis/capture`` / ``OPTIONS /epcis/capture``: the caller's jobs / the capture
  limits (``GS1-EPCIS-Capture-Limit``, ``GS1-Capture-File-Size-Limit``);
* ``GET /epcis/capture/{captureID}``: status and per-event errors;
* ``GET /epcis/events``: an ``EPCISQueryDocument`` page (``perPage``, ``nextPageToken``,
  ``Link: <…>; rel="next"``);
* ``GET /epcis/events/{eventID}``: one event by hash id or client eventID.

Every answer carries ``GS1-EPCIS-Version`` and ``GS1-CBV-Version``. A request asking
for another ``GS1-EPCIS-Version`` or accepting neither JSON-LD nor JSON gets ``406``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import JSONResponse
from sqlalchemy import select

from backend.deps import SessionDep, SettingsDep, get_context
from backend.epcis import capture as capture_service
from backend.epcis.document import EPCIS_CONTEXT
from backend.epcis.query import get_event, query_events
from backend.errors import Forbidden, NotFound, WaymarkError
from backend.events.models import EpcisCapture, EpcisEvent
from backend.orgs.auth import PrincipalDep
from backend.orgs.models import Organisation
from backend.orgs.service import WRITER_SCOPES, Principal

router = APIRouter(prefix="/epcis", tags=["epcis"])

_LD_OBJECT = {"application/ld+json": {"schema": {"type": "object"}}}
_DOCUMENT_BODY = {
    "requestBody": {
        "required": True,
        "description": "An EPCISDocument (GS1 EPCIS 2.0 JSON-LD).",
        "content": {
            "application/ld+json": {"schema": {"type": "object"}},
            "application/json": {"schema": {"type": "object"}},
        },
    }
}

EPCIS_VERSION = "2.0.0"
CBV_VERSION = "2.0.0"
JSON_LD = "application/ld+json"
_ACCEPTABLE = ("application/ld+json", "application/json", "application/*", "*/*")


class NotAcceptable(WaymarkError):
    status_code = 406
    error = "not_acceptable"


class UnsupportedMediaType(WaymarkError):
    status_code = 415
    error = "unsupported_media_type"


def _negotiate(request: Request) -> None:
    version = request.headers.get("gs1-epcis-version")
    if version is not None and not version.strip().startswith("2.0"):
        raise NotAcceptable(
            f"GS1-EPCIS-Version {version!r} is not supported; this service speaks {EPCIS_VERSION}"
        )
    cbv = request.headers.get("gs1-cbv-version")
    if cbv is not None and not cbv.strip().startswith("2.0"):
        raise NotAcceptable(
            f"GS1-CBV-Version {cbv!r} is not supported; this service uses {CBV_VERSION}"
        )
    accept = request.headers.get("accept")
    if accept:
        types = [part.split(";", 1)[0].strip().lower() for part in accept.split(",")]
        if not any(t in _ACCEPTABLE for t in types):
            raise NotAcceptable(
                f"cannot answer {accept!r}; this service answers {JSON_LD} or application/json"
            )


def _headers(settings: Any, *, limits: bool = False) -> dict[str, str]:
    out = {"GS1-EPCIS-Version": EPCIS_VERSION, "GS1-CBV-Version": CBV_VERSION}
    if limits:
        out["GS1-EPCIS-Capture-Limit"] = str(settings.epcis_capture_limit)
        out["GS1-Capture-File-Size-Limit"] = str(settings.epcis_capture_file_size_limit)
    return out


def _org(session: Any, principal: Principal) -> Organisation:
    if principal.org_id is None:
        raise Forbidden("EPCIS capture and query act for an organisation: use its API key")
    org = session.get(Organisation, principal.org_id)
    if org is None:
        raise Forbidden("the API key's organisation no longer exists")
    return org


def _iso(moment: datetime | None) -> str | None:
    return (
        moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        if moment
        else None
    )


def job_json(session: Any, job: EpcisCapture) -> dict[str, Any]:
    """The job as the EPCIS capture interface shows it, plus each stored event's hash id."""
    stored = session.execute(
        select(EpcisEvent.client_event_id, EpcisEvent.hash_id)
        .where(EpcisEvent.capture_id == job.id)
        .order_by(EpcisEvent.id)
    ).all()
    return {
        "captureID": job.capture_id,
        "createdAt": _iso(job.created_at),
        "finishedAt": _iso(job.finished_at),
        "running": job.running,
        "success": job.success,
        "captureErrorBehaviour": job.error_behaviour,
        "eventCount": job.event_count,
        "capturedCount": job.captured_count,
        "errors": json.loads(job.errors),
        "events": [{"eventID": client or hid, "hashID": hid} for client, hid in stored],
    }


@router.options("/capture", status_code=status.HTTP_204_NO_CONTENT)
def capture_options(settings: SettingsDep) -> Response:
    """The capture limits and the methods of the capture endpoint."""
    headers = _headers(settings, limits=True) | {"Allow": "GET, POST, OPTIONS"}
    return Response(status_code=status.HTTP_204_NO_CONTENT, headers=headers)


@router.get("/capture")
def list_captures(
    request: Request, principal: PrincipalDep, session: SessionDep, settings: SettingsDep
) -> JSONResponse:
    """The caller's most recent capture jobs (newest first)."""
    _negotiate(request)
    org = _org(session, principal)
    jobs = session.scalars(
        select(EpcisCapture)
        .where(EpcisCapture.org_id == org.id)
        .order_by(EpcisCapture.id.desc())
        .limit(settings.page_size_max)
    )
    return JSONResponse(
        [job_json(session, j) for j in jobs], headers=_headers(settings, limits=True)
    )


@router.post(
    "/capture",
    status_code=status.HTTP_202_ACCEPTED,
    openapi_extra=_DOCUMENT_BODY,
    responses={202: {"description": "The capture job, finished; `Location` names it."}},
)
async def post_capture(
    request: Request, principal: PrincipalDep, session: SessionDep, settings: SettingsDep
) -> JSONResponse:
    """Capture an EPCISDocument as a job; ``Location`` names the job."""
    _negotiate(request)
    principal.require_any(WRITER_SCOPES)
    org = _org(session, principal)
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media not in (JSON_LD, "application/json"):
        raise UnsupportedMediaType(f"send the EPCISDocument as {JSON_LD} or application/json")
    behaviour = request.headers.get("gs1-capture-error-behaviour", capture_service.ROLLBACK)
    behaviour = behaviour.strip().lower()
    if behaviour not in capture_service.ERROR_BEHAVIOURS:
        raise capture_service.CaptureRefused(
            f"GS1-Capture-Error-Behaviour must be 'rollback' or 'proceed', got {behaviour!r}",
            problems=[],
        )
    limits = capture_service.Limits(
        settings.epcis_capture_limit, settings.epcis_capture_file_size_limit
    )
    document = capture_service.parse_document(await request.body(), limits)
    job = capture_service.capture(
        session=session,
        org=org,
        document=document,
        behaviour=behaviour,
        domain=contracts.events_domain if (contracts := get_context(request).contracts) else None,
        chain=get_context(request).chain,
    )
    location = f"/epcis/capture/{job.capture_id}"
    return JSONResponse(
        job_json(session, job),
        status_code=status.HTTP_202_ACCEPTED,
        headers=_headers(settings, limits=True) | {"Location": location},
    )


@router.get("/capture/{capture_id}")
def get_capture(
    capture_id: str,
    request: Request,
    principal: PrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
) -> JSONResponse:
    """A capture job: running, success, and the errors of each refused event."""
    _negotiate(request)
    org = _org(session, principal)
    job = session.scalar(
        select(EpcisCapture).where(
            EpcisCapture.capture_id == capture_id, EpcisCapture.org_id == org.id
        )
    )
    if job is None:
        raise NotFound(f"no capture job {capture_id}")
    return JSONResponse(job_json(session, job), headers=_headers(settings, limits=True))


@router.get(
    "/events", responses={200: {"content": _LD_OBJECT, "description": "An EPCISQueryDocument."}}
)
def list_events(
    request: Request, principal: PrincipalDep, session: SessionDep, settings: SettingsDep
) -> JSONResponse:
    """The caller's captured events matching the query, as an EPCISQueryDocument page."""
    _negotiate(request)
    org = _org(session, principal)
    params: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        params.setdefault(key, []).append(value)
    page = query_events(
        session=session, org_id=org.id, params=params, per_page_max=settings.page_size_max
    )
    body = {
        "@context": [EPCIS_CONTEXT],
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": _iso(datetime.now(UTC)),
        "epcisBody": {
            "queryResults": {
                "queryName": "SimpleEventQuery",
                "resultsBody": {"eventList": page.events},
            }
        },
    }
    headers = _headers(settings)
    if page.next_token is not None:
        rest = [(k, v) for k, vs in params.items() if k != "nextPageToken" for v in vs]
        query = urlencode([*rest, ("nextPageToken", page.next_token)])
        headers["Link"] = f'<{request.url.path}?{query}>; rel="next"'
        headers["GS1-Next-Page-Token"] = page.next_token
    return JSONResponse(body, headers=headers, media_type=JSON_LD)


@router.get(
    "/events/{event_id:path}",
    responses={200: {"content": _LD_OBJECT, "description": "The event."}},
)
def get_one_event(
    event_id: str,
    request: Request,
    principal: PrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
) -> JSONResponse:
    """One captured event by its CBV event hash id or the eventID it was captured with."""
    _negotiate(request)
    org = _org(session, principal)
    if request.url.query and event_id.startswith("ni:"):
        # An unencoded "?ver=CBV2.0" arrives as the query string.
        event_id = f"{event_id}?{request.url.query}"
    row = get_event(session=session, org_id=org.id, event_id=event_id)
    body = {"@context": [EPCIS_CONTEXT], **json.loads(row.document)}
    return JSONResponse(body, headers=_headers(settings), media_type=JSON_LD)
