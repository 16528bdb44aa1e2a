"""GS1 Digital Link resolver, QR symbols, label sheets, proof bundles and EPCIS export.

Thin: parse and negotiate here; which passport answers in :mod:`backend.qr.resolver`,
what it answers in :mod:`backend.qr.flows`, stored pages in :mod:`backend.qr.cache`,
the EPCIS export in :mod:`backend.epcis.export`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from backend.common.http import conditional, not_modified
from backend.common.types import Bytes32, Bytes32Hex
from backend.deps import Ctx, SessionDep, SettingsDep, get_context
from backend.epcis import export as epcis_export
from backend.errors import NotFound
from backend.gs1.digital_link import UNTP_DPP, DigitalLink, SsccLink, parse_link, parse_path
from backend.gs1.errors import DigitalLinkError
from backend.orgs.auth import PrincipalDep
from backend.pages import store
from backend.qr import cache, flows, resolver
from backend.qr.bundle.build import proof_bundle as build_proof_bundle
from backend.qr.images import SCREEN_MODULE_PX, labels, qr_png, qr_png_for_print, qr_svg
from backend.qr.linkset import Representation, negotiate
from backend.qr.render import render_error_page, render_invalid_link_page

router = APIRouter(tags=["consumer"])
# The scan route alone, included ahead of every other router (``backend.main``): route
# matching walks the routers in order, and a scan is the most frequent request.
scan_router = APIRouter(tags=["consumer"])
Id32 = Annotated[Bytes32Hex, Path(description="bytes32 id, 0x-prefixed")]
ShipmentId = Annotated[Bytes32, Path(description="bytes32 shipment id, 0x-prefixed")]

HTML = "text/html; charset=utf-8"
LD_JSON = "application/ld+json"
LINKSET_JSON = "application/linkset+json"
QR_MEDIA = {".png": "image/png", ".svg": "image/svg+xml"}


def _raw_path(request: Request) -> str:
    raw = request.scope.get("raw_path")
    return raw.decode("ascii", "replace") if raw else request.url.path


def _error(
    representation: Representation | None, status: int, title: str, error: str, detail: str
) -> Response:
    if representation in ("json", "linkset"):
        return JSONResponse({"error": error, "detail": detail}, status_code=status)
    return HTMLResponse(render_error_page(status, title, detail), status_code=status)


def _invalid(representation: Representation | None, exc: DigitalLinkError) -> Response:
    """400 for a link that does not parse: a page for people, ``{error, detail, field}`` else."""
    if representation in ("json", "linkset"):
        return JSONResponse(
            {"error": "invalid_digital_link", "detail": exc.message, "field": exc.field},
            status_code=400,
        )
    return HTMLResponse(render_invalid_link_page(exc), status_code=400)


SCAN_PREFIX = "/01/"


def stored_scan(request: Request) -> Response | None:
    """A phone opening a printed code, the common case: the page stored for this exact
    link, one indexed read answered on the event loop (cheaper than a thread hop with
    one worker per core); ``None`` when there is none to send as it is.

    Also run before routing (``backend.middleware.HotReadsMiddleware``)."""
    if request.scope.get("query_string") or negotiate(request.headers.get("accept")) != "html":
        return None
    raw = _raw_path(request)
    stored = get_context(request).page_reader.get(raw)
    return None if stored is None else _page(request, raw, stored)


@scan_router.get(SCAN_PREFIX + "{rest:path}", include_in_schema=False)
async def resolve(request: Request) -> Response:
    """Resolve a GS1 Digital Link to the passport page, its JSON, a linkset or EPCIS."""
    stored = stored_scan(request)
    if stored is not None:
        return stored
    return await run_in_threadpool(_resolve, request)


def _page(request: Request, path: str, stored: store.StoredPage) -> Response:
    headers = {
        "Link": resolver.link_header(path, base=get_context(request).settings.public_base_url),
        "Vary": "Accept, Accept-Encoding",
        "Cache-Control": cache.PAGE_CACHE_CONTROL,
        "ETag": stored.etag,
    }
    if not_modified(request, stored.etag):
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return Response(stored.gzipped, media_type=HTML, headers=headers)
    return Response(stored.html(), media_type=HTML, headers=headers)


def _resolve(request: Request) -> Response:
    representation = negotiate(request.headers.get("accept"))
    raw = _raw_path(request)
    try:
        link = parse_link(raw, request.url.query)
    except DigitalLinkError as exc:
        return _invalid(representation or "html", exc)
    if isinstance(link, SsccLink) or raw != link.path:
        # Short GTINs, a trailing slash, a path prefix or a non-canonical escape: one
        # canonical URI per item (an SSCC further right is a logistic unit's link).
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(link.path + query, status_code=301)
    if representation is None:
        return _error(
            None,
            406,
            "Not acceptable",
            "not_acceptable",
            "This link serves text/html, application/json, application/ld+json "
            "and application/linkset+json.",
        )
    base = get_context(request).settings.public_base_url
    with get_context(request).sessions() as session:
        try:
            return _answer(request, session, base, link, representation)
        except NotFound as exc:
            return _error(
                representation, 404, "No product passport for this code", exc.error, exc.detail
            )


def _answer(
    request: Request,
    session: Any,
    base: str,
    link: DigitalLink,
    representation: Representation,
) -> Response:
    ctx = get_context(request)
    deployment = ctx.loaded().deployment
    resolved = resolver.resolve(session=session, link=link)
    link_type = link.link_type or "gs1:pip"
    headers = {"Link": resolver.link_header(link.path, base=base), "Vary": "Accept"}
    if link_type == "all" or representation == "linkset":
        return JSONResponse(
            resolver.linkset_for(resolved, base=base), media_type=LINKSET_JSON, headers=headers
        )
    if link_type == UNTP_DPP:
        return RedirectResponse(
            resolver.credential_for(resolved, base=base), status_code=303, headers=headers
        )
    if link_type == "gs1:epcis" or (link_type == "gs1:traceability" and representation == "json"):
        doc = epcis_export.passport_epcis(
            session=session, passport_id=resolved.passport_id, link=resolved.link
        )
        return JSONResponse(doc, media_type=LD_JSON, headers=headers)
    # What every view of the passport is built from.
    source: dict[str, Any] = {
        "session": session,
        "chain_id": ctx.chain.chain_id,
        "deployment": deployment,
        "resolved": resolved,
        "base": base,
    }
    if representation == "json":
        body = flows.public_json(**source, link_type=link_type)
        return JSONResponse(body, headers=headers)
    if link_type in flows.PAGE_ANCHORS:
        target = link.without_link_type().path + flows.PAGE_ANCHORS[link_type]
        return RedirectResponse(target, status_code=303, headers=headers)
    if resolved.level == link.level:
        # The passport's own link, whose stored page was marked: compute and store it.
        page_source = cache.PageSource(ctx.chain.chain_id, deployment, base)
        stored = cache.compute(session, page_source, resolved.passport_id)
        if stored is not None:
            return _page(request, link.path, stored)
    # A serial under a batch or model passport: rendered for this link, not stored.
    html = flows.page_bytes(**source)
    return conditional(
        request,
        html,
        HTML,
        {**headers, "Cache-Control": cache.PAGE_CACHE_CONTROL},
    )


@router.get("/proof-bundle/{passport_id}.json", tags=["consumer"])
def proof_bundle(passport_id: Id32, request: Request, session: SessionDep, ctx: Ctx) -> Response:
    """Everything needed to verify a passport and its events against the chain, without Waymark."""
    settings = ctx.settings
    bundle = build_proof_bundle(
        session=session,
        chain_id=ctx.chain.chain_id,
        deployment=ctx.loaded().deployment,
        resolved=resolver.by_id(session=session, passport_id=passport_id),
        base=settings.public_base_url,
    )
    filename = f"waymark-proof-{passport_id[2:14]}.json"
    return conditional(
        request,
        _json_bytes(bundle),
        "application/json",
        {
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": cache.PAGE_CACHE_CONTROL,
        },
    )


def _json_bytes(content: Any) -> bytes:
    """What ``JSONResponse`` would send, so the ``ETag`` names those bytes."""
    return bytes(JSONResponse(content).body)


@router.get("/qr/labels", tags=["consumer"])
def label_sheet(
    settings: SettingsDep,
    gtin: Annotated[str, Query(max_length=14)],
    serial: Annotated[list[str], Query(max_length=500)],
    lot: Annotated[str | None, Query(max_length=20)] = None,
    columns: Annotated[int, Query(ge=1, le=6)] = 3,
    format: Annotated[str, Query(pattern="^(svg|html)$")] = "svg",
) -> Response:
    """Printable A4 label sheets (QR + HRI) for a list of serials of one GTIN (and lot)."""
    try:
        body, media = labels(
            gtin=gtin,
            lot=lot,
            serials=serial,
            columns=columns,
            fmt=format,
            base=settings.public_base_url,
        )
    except DigitalLinkError as exc:
        return _invalid("json", exc)
    return Response(body, media_type=media)


@router.get("/qr/01/{rest:path}", tags=["consumer"])
def qr_image(
    request: Request,
    settings: SettingsDep,
    use: Annotated[
        Literal["screen", "print"],
        Query(description="screen: 8 px modules; print: 0.5 mm modules (PNG at 600 dpi)."),
    ] = "screen",
) -> Response:
    """The QR symbol (level Q) of any Digital Link, as ``.png`` or ``.svg``, for screen or print."""
    raw = _raw_path(request).removeprefix("/qr")
    suffix = raw[raw.rfind(".") :] if "." in raw else ""
    media = QR_MEDIA.get(suffix)
    if media is None:
        return JSONResponse(
            {"error": "not_found", "detail": "QR images are served as .png or .svg"},
            status_code=404,
        )
    try:
        link = parse_path(raw.removesuffix(suffix), request.url.query)
    except DigitalLinkError as exc:
        return _invalid("json", exc)
    uri = link.uri(settings.public_base_url)
    body: bytes | str
    if suffix == ".png":
        body = qr_png_for_print(uri) if use == "print" else qr_png(uri)
    elif use == "print":
        body = qr_svg(uri, title=link.hri)
    else:
        body = qr_svg(uri, module_px=SCREEN_MODULE_PX, title=link.hri)
    return Response(body, media_type=media, headers={"Cache-Control": "public, max-age=86400"})


@router.get("/v1/epcis/passports/{passport_id}", tags=["consumer"])
def passport_events(passport_id: Id32, session: SessionDep) -> JSONResponse:
    """A passport's events as an EPCIS 2.0 JSON-LD document (schema-validated)."""
    resolved = resolver.by_id(session=session, passport_id=passport_id)
    return JSONResponse(
        epcis_export.passport_epcis(
            session=session, passport_id=resolved.passport_id, link=resolved.link
        ),
        media_type=LD_JSON,
    )


@router.get("/v1/epcis/shipments/{shipment_id}", tags=["consumer"])
def shipment_events(
    shipment_id: ShipmentId, session: SessionDep, principal: PrincipalDep
) -> JSONResponse:
    """A shipment's milestones as an EPCIS 2.0 JSON-LD document (seller and parties only)."""
    doc = epcis_export.shipment_epcis(session=session, principal=principal, shipment_id=shipment_id)
    return JSONResponse(doc, media_type=LD_JSON)


# Registered last, so that no route above (``/qr/01/…``) is taken for a prefix.
@router.get("/{prefix:path}/01/{rest:path}", include_in_schema=False)
async def resolve_prefixed(request: Request) -> Response:
    """A Digital Link under a custom path prefix: answered as its canonical path (301)."""
    return await resolve(request)
