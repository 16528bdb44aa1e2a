"""The ``PrincipalDep`` dependency: bearer/X-API-Key authentication plus rate limiting.

Limits are checked in the database, so every replica sees the same counts:
first the client address's allowance of failed token checks (429 before the
token is even looked at once it is spent), then, once authenticated, the key's
request rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from backend.deps import AppContext, SessionDep, SettingsDep, get_context
from backend.errors import RateLimited, Unauthenticated
from backend.orgs import service
from backend.orgs.ratelimit import RateLimiter
from backend.orgs.service import Principal


@dataclass(frozen=True)
class RateLimits:
    """The two shared limiters of the app."""

    per_key: RateLimiter
    auth_failures: RateLimiter

    @classmethod
    def of(cls, ctx: AppContext) -> RateLimits:
        """The limiters the context's settings describe (they keep no state of their own)."""
        cfg = ctx.settings
        return cls(
            per_key=RateLimiter(ctx.engine, cfg.rate_limit_per_second, cfg.rate_limit_burst),
            auth_failures=RateLimiter(
                ctx.engine,
                cfg.auth_failure_limit_per_second,
                cfg.auth_failure_burst,
                prefix="auth:",
            ),
        )


def client_address(request: Request) -> str:
    """The caller's address as the server sees it (behind a proxy: its forwarded header)."""
    return request.client.host if request.client else "unknown"


def refuse_guessing(request: Request) -> str:
    """429 when the caller's address spent its allowance of failed checks; the address."""
    limits = RateLimits.of(get_context(request))
    address = client_address(request)
    wait = limits.auth_failures.wait(address)
    if wait > 0:
        raise RateLimited(
            f"too many failed token checks or sign-ins from {address}; "
            f"limit {limits.auth_failures.rate:g}/s",
            retry_after=max(1, math.ceil(wait)),
        )
    return address


def record_failure(request: Request, address: str) -> None:
    limits = RateLimits.of(get_context(request))
    limits.auth_failures.take(address)


def _token(request: Request) -> str:
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthenticated("Authorization must be 'Bearer <API key>'")
        return value.strip()
    api_key = request.headers.get("x-api-key")
    if api_key:
        return api_key.strip()
    raise Unauthenticated("missing API key (Authorization: Bearer wm_… or X-API-Key)")


def get_principal(request: Request, session: SessionDep, settings: SettingsDep) -> Principal:
    token = _token(request)
    address = refuse_guessing(request)
    try:
        principal = service.authenticate(
            session=session,
            token=token,
            admin_token=settings.admin_token.get_secret_value(),
        )
    except Unauthenticated:
        record_failure(request, address)
        raise
    limits = RateLimits.of(get_context(request))
    wait = limits.per_key.take(principal.rate_key)
    if wait > 0:
        raise RateLimited(
            f"rate limit of {settings.rate_limit_per_second:g}/s exceeded",
            retry_after=max(1, math.ceil(wait)),
        )
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]
