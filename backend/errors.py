"""The service's exceptions. Services raise these; one place maps them to HTTP.

    WaymarkError                    400 unless a subclass says otherwise
    ├── InvalidInput                422 a value is well-formed JSON but wrong
    ├── Unauthenticated             401 no or unknown credentials
    ├── Forbidden                   403 authenticated, but not allowed
    ├── NotFound                    404 (also used instead of 403 to hide existence)
    ├── NotAcceptable               406 no offered media type fits the Accept header
    ├── Conflict                    409 clashes with existing state
    ├── PayloadTooLarge             413 body above the configured limit
    ├── UnsupportedMediaType        415 a file of a kind the route does not take
    ├── RateLimited                 429 token bucket empty (``retry_after`` seconds)
    └── ServiceUnavailable          503 a dependency (chain, database) is down

Chain errors (``backend.chain.errors``) are mapped in the same place:
``ContractRevert`` → 409 with the decoded error name and arguments,
``ChainUnavailable`` → 503.
"""

from __future__ import annotations

from typing import Any


class WaymarkError(Exception):
    """Base of every error a Waymark service raises on purpose."""

    status_code = 400
    error = "bad_request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class InvalidInput(WaymarkError):
    status_code = 422
    error = "invalid_input"


class Unauthenticated(WaymarkError):
    status_code = 401
    error = "unauthenticated"


class Forbidden(WaymarkError):
    status_code = 403
    error = "forbidden"


class NotFound(WaymarkError):
    status_code = 404
    error = "not_found"


class NotAcceptable(WaymarkError):
    status_code = 406
    error = "not_acceptable"


class Conflict(WaymarkError):
    status_code = 409
    error = "conflict"


class PayloadTooLarge(WaymarkError):
    status_code = 413
    error = "payload_too_large"


class UnsupportedMediaType(WaymarkError):
    status_code = 415
    error = "unsupported_media_type"


class RateLimited(WaymarkError):
    status_code = 429
    error = "rate_limited"

    def __init__(self, detail: str, *, retry_after: float) -> None:
        super().__init__(detail, retry_after=retry_after)
        self.retry_after = retry_after


class ServiceUnavailable(WaymarkError):
    status_code = 503
    error = "service_unavailable"
