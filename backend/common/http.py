"""Conditional GET: ``ETag`` / ``If-None-Match`` (RFC 9110) for every cacheable answer."""

from __future__ import annotations

import hashlib

from starlette.requests import Request
from starlette.responses import Response


def etag_of(body: bytes) -> str:
    """A strong entity tag: the body's SHA-256, shortened."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def not_modified(request: Request, etag: str) -> bool:
    """Whether the client's ``If-None-Match`` names ``etag`` (weak comparison)."""
    header = request.headers.get("if-none-match")
    if not header:
        return False
    if header.strip() == "*":
        return True
    return etag.removeprefix("W/") in {t.strip().removeprefix("W/") for t in header.split(",")}


def conditional(
    request: Request,
    body: bytes,
    media_type: str,
    headers: dict[str, str] | None = None,
    etag: str | None = None,
) -> Response:
    """``body`` with its ``ETag``, or an empty 304 when the client already holds it."""
    tag = etag or etag_of(body)
    out = {**(headers or {}), "ETag": tag}
    if not_modified(request, tag):
        return Response(status_code=304, headers=out)
    return Response(body, media_type=media_type, headers=out)
