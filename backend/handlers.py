"""The one place that maps exceptions to HTTP responses ``{"error", "detail"}``."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from backend.chain import ChainUnavailable, ContractRevert, DeploymentMissing
from backend.errors import RateLimited, WaymarkError

log = logging.getLogger(__name__)


class ValidationIssue(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ErrorPublic(BaseModel):
    """Every error response: a stable machine-readable ``error`` and a readable ``detail``."""

    error: str = Field(description="Stable error code, e.g. not_found, invalid_input.")
    detail: Any = Field(description="What went wrong, for people.")
    errors: list[ValidationIssue] | None = Field(
        default=None, description="invalid_input only: every field that failed (at most 50)."
    )
    problems: list[dict[str, Any]] | None = Field(
        default=None,
        description="EPCIS capture only: each problem of the document, "
        "`{eventIndex, path, message}` with `path` a JSON pointer.",
    )
    arguments: dict[str, Any] | None = Field(
        default=None, description="Contract reverts only: the decoded custom error's arguments."
    )


# Documented on every operation (``FastAPI(responses=...)``), replacing FastAPI's
# default 422 body, so clients and schema-driven tests see the real error shape.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": ErrorPublic, "description": "Client error: `{error, detail}`."},
    503: {"model": ErrorPublic, "description": "The chain or the database is unavailable."},
}


def _body(error: str, detail: Any, **extra: Any) -> dict[str, Any]:
    return {"error": error, "detail": detail, **extra}


def _clean(errors: Any) -> list[dict[str, Any]]:
    # Pydantic error dicts can carry raw inputs and exception objects; keep
    # only JSON-safe parts so a hostile body cannot turn a 422 into a 500.
    out = []
    for e in errors:
        out.append(
            {
                "loc": [p if isinstance(p, (str, int)) else str(p) for p in e.get("loc", ())],
                "msg": str(e.get("msg", "")),
                "type": str(e.get("type", "")),
            }
        )
    return out


def install(app: FastAPI) -> None:
    @app.exception_handler(WaymarkError)
    async def waymark_error(_request: Request, exc: WaymarkError) -> JSONResponse:
        headers = {}
        if isinstance(exc, RateLimited):
            headers["Retry-After"] = str(int(exc.retry_after))
        # ``extra`` carries structured detail a service chose to show (e.g. the
        # EPCIS capture's per-path ``errors``); services put only JSON values there.
        return JSONResponse(
            _body(exc.error, exc.detail, **exc.extra), status_code=exc.status_code, headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _clean(exc.errors())
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        where = ".".join(str(p) for p in first["loc"])
        return JSONResponse(
            _body("invalid_input", f"{where}: {first['msg']}", errors=errors[:50]),
            status_code=422,
        )

    @app.exception_handler(ContractRevert)
    async def contract_revert(_request: Request, exc: ContractRevert) -> JSONResponse:
        info = exc.to_dict()
        return JSONResponse(
            _body(info["error"], str(exc), arguments=info["arguments"]), status_code=409
        )

    @app.exception_handler(ChainUnavailable)
    async def chain_down(_request: Request, exc: ChainUnavailable) -> JSONResponse:
        return JSONResponse(_body("chain_unavailable", str(exc)), status_code=503)

    @app.exception_handler(DeploymentMissing)
    async def no_deployment(_request: Request, exc: DeploymentMissing) -> JSONResponse:
        return JSONResponse(_body("deployment_missing", str(exc)), status_code=503)

    @app.exception_handler(OperationalError)
    async def db_down(_request: Request, exc: OperationalError) -> JSONResponse:
        log.warning("database error: %s", exc)
        return JSONResponse(_body("database_unavailable", "the database is unavailable"), 503)

    @app.exception_handler(PoolTimeout)
    async def pool_exhausted(_request: Request, exc: PoolTimeout) -> JSONResponse:
        log.warning("database pool exhausted: %s", exc)
        return JSONResponse(
            _body("service_busy", "no database connection became free in time; retry"),
            503,
            headers={"Retry-After": "1"},
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        names = {404: "not_found", 405: "method_not_allowed", 400: "bad_request"}
        return JSONResponse(
            _body(names.get(exc.status_code, "http_error"), exc.detail),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )
