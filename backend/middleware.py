"""Request body limits (413, 422) before any parsing; the start-up gate (503 starting);
cross-origin reads of the public verification routes; the hottest reads answered
before routing."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.startup import StartupGate, StartupState

_PAIR = re.compile(rb"\[\]|\{\}")
_NOT_BRACKET_OR_QUOTE = bytes(b for b in range(256) if b not in b'[]{}"')


def json_depth(body: bytes, limit: int | None = None) -> int:
    """Maximum nesting of ``[``/``{`` outside string literals (no full parse); with
    ``limit``, counted only as far as ``limit + 1``.

    Every step is a pass in C, cheaper than parsing the body: escapes are dropped (an
    escaped backslash, then an escaped quote, left to right as a parser reads them), so
    the quotes left delimit the strings, and every other piece between them is outside
    one. Of the brackets there, each pass deletes every innermost pair, so a balanced
    body empties in as many passes as it is deep."""
    if b"\\" in body:
        body = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    brackets = b"".join(body.translate(None, _NOT_BRACKET_OR_QUOTE).split(b'"')[::2])
    depth = 0
    while brackets and (limit is None or depth <= limit):
        inner = _PAIR.sub(b"", brackets)
        if len(inner) == len(brackets):  # unbalanced: not JSON, counted one by one
            return depth + _open_depth(brackets)
        brackets, depth = inner, depth + 1
    return depth


def _open_depth(brackets: bytes) -> int:
    depth = deepest = 0
    for b in brackets:
        depth += 1 if b in b"[{" else -1
        deepest = max(deepest, depth)
    return deepest


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_bytes: int, max_depth: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > self.max_bytes
            except ValueError:
                await _reject(scope, receive, send, 400, "bad_request", "invalid Content-Length")
                return
            if too_big:
                await self._too_large(scope, receive, send)
                return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._too_large(scope, receive, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        json_body = b"json" in headers.get(b"content-type", b"") and body
        if json_body and json_depth(body, self.max_depth) > self.max_depth:
            await _reject(
                scope,
                receive,
                send,
                422,
                "invalid_input",
                f"JSON nesting depth exceeds the limit of {self.max_depth}",
            )
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        await _reject(
            scope,
            receive,
            send,
            413,
            "payload_too_large",
            f"request body exceeds {self.max_bytes} bytes",
        )


async def _reject(
    scope: Scope, receive: Receive, send: Send, status: int, error: str, detail: str
) -> None:
    body: dict[str, Any] = {"error": error, "detail": detail}
    await JSONResponse(body, status_code=status)(scope, receive, send)


class StartupGateMiddleware:
    """503 ``starting`` (with Retry-After) until the start-up work is done."""

    def __init__(self, app: ASGIApp, *, gate: StartupGate) -> None:
        self.app = app
        self.gate = gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.gate.admits(scope["path"]):
            await self.app(scope, receive, send)
            return
        failed = self.gate.state is StartupState.FAILED
        detail = (
            f"start-up failed: {self.gate.error}"
            if failed
            else "starting: compiling and deploying the contracts; retry in a moment"
        )
        response = JSONResponse(
            {"error": "service_unavailable" if failed else "starting", "detail": detail},
            status_code=503,
            headers={} if failed else {"Retry-After": "1"},
        )
        await response(scope, receive, send)


# What anyone may read to verify a product without Waymark: a verifier page served from
# another site (or a copy saved to disk) may fetch these; nothing else is shared.
PUBLIC_VERIFICATION_PATHS = ("/proof-bundle/", "/v1/proofs/", "/.well-known/waymark/", "/rpc")


class PublicCorsMiddleware:
    """``Access-Control-Allow-Origin: *`` (never with credentials) on public verification reads.

    Scoped by path so that the API's authenticated routes and the dashboard keep the
    browser's same-origin rule.
    """

    def __init__(self, app: ASGIApp, *, prefixes: tuple[str, ...] = PUBLIC_VERIFICATION_PATHS):
        self.app = app
        self.prefixes = prefixes
        self.cors = CORSMiddleware(
            app,
            allow_origins=["*"],
            allow_methods=["GET", "HEAD", "POST"],
            allow_headers=["content-type"],
            allow_credentials=False,
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self.prefixes):
            await self.cors(scope, receive, send)
            return
        await self.app(scope, receive, send)


# A hot read: the answer to a GET from what is already stored, or ``None`` to leave the
# request to the routed endpoint (which handles every other case and every error).
HotRead = Callable[[Request], Response | None]


class HotReadsMiddleware:
    """Answer the hottest GETs (a scan's stored page, an event's proof) before routing.

    Each is one indexed read; FastAPI's routing, dependency solving and endpoint call
    cost more than the read and the send together. A hot read that finds nothing, or
    fails, passes the request on to the router unchanged, so the endpoint stays the
    one place that answers misses and errors. Installed innermost: the start-up gate,
    body limits and CORS wrap it as they wrap the routes.
    """

    def __init__(self, app: ASGIApp, *, routes: Sequence[tuple[str, HotRead]]) -> None:
        self.app = app
        self.routes = tuple(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            path: str = scope["path"]
            for prefix, read in self.routes:
                if path.startswith(prefix):
                    try:
                        response = read(Request(scope))
                    except Exception:  # the routed endpoint answers (and reports) it
                        response = None
                    if response is not None:
                        await response(scope, receive, send)
                        return
                    break
        await self.app(scope, receive, send)
