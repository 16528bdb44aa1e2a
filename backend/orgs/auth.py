"""The ``PrincipalDep`` dependency: bearer/X-API-Key authentication plus rate limiting."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import Depends, Request

from backend.deps import SessionDep, SettingsDep
from backend.errors import RateLimited, Unauthenticated
from backend.orgs import service
from backend.orgs.service import Principal


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
    principal = service.authenticate(
        session=session,
        token=_token(request),
        admin_token=settings.admin_token.get_secret_value(),
    )
    wait = request.app.state.rate_limiter.take(principal.rate_key)
    if wait > 0:
        raise RateLimited(
            f"rate limit of {settings.rate_limit_per_second:g}/s exceeded",
            retry_after=max(1, math.ceil(wait)),
        )
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]
