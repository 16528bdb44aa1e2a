"""The one client of the Waymark HTTP API: every CLI command and the demo use it.

One request path (``httpx``), one wait loop (:meth:`Api.wait`) and one failure:
:class:`ApiError`, a :class:`~backend.cli.common.CliFailure`, so a command that
meets an API error exits 2 with one line (and ``{"error": …}`` under ``--json``).
"""

from __future__ import annotations

import io
import sys
import time
from collections.abc import Collection
from typing import Any

import click
import httpx

from backend.chain.eip712 import Domain
from backend.cli.common import DEFAULT_API, DOMAIN_NAMES, CliFailure, fail, offline_domain


class ApiError(CliFailure):
    """The API answered with an error, or could not be reached (``status`` 0)."""

    def __init__(self, message: str, *, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


def error_line(response: httpx.Response) -> str:
    """A one-line reason from an API error body (decoded contract errors included)."""
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}: {response.text[:200]}"
    if not isinstance(body, dict):
        return f"HTTP {response.status_code}: {body}"
    error = body.get("error", "error")
    detail = body.get("detail")
    args = body.get("arguments") or body.get("args")
    if isinstance(detail, dict):
        args = args or detail.get("arguments")
        detail = detail.get("message") or detail.get("error")
    text = f"HTTP {response.status_code} {error}"
    if args:
        rendered = ", ".join(f"{k}={v}" for k, v in args.items())
        text += f"({rendered})"
    if detail and not (args and str(detail).startswith(str(error))):
        text += f": {detail}"
    return text


class Api:
    """A synchronous client of the Waymark API.

    ``http`` lets a caller hand in its own ``httpx.Client`` (a test's ASGI
    client, the demo's shared connection pool); ``api_key`` on a call overrides
    the client's key for that call (the demo acts for several organisations).
    """

    def __init__(
        self,
        base: str,
        api_key: str | None = None,
        *,
        timeout: float = 30.0,
        http: httpx.Client | None = None,
    ) -> None:
        self.base = base.rstrip("/")
        self.api_key = api_key
        if not self.base.startswith(("http://", "https://")) and http is None:
            raise ApiError(f"--api must be an http(s) URL, got {base!r}")
        self.http = http or httpx.Client(base_url=self.base, timeout=timeout)

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        api_key: str | None = None,
    ) -> Any:
        key = api_key or self.api_key
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        query = {k: v for k, v in (params or {}).items() if v is not None} or None
        try:
            response = self.http.request(method, path, json=json, params=query, headers=headers)
        except httpx.HTTPError as exc:
            raise ApiError(f"cannot reach {self.base}: {exc}") from exc
        if response.status_code >= 400:
            raise ApiError(error_line(response), status=response.status_code)
        return response.json() if response.content else None

    def get(
        self, path: str, *, params: dict[str, Any] | None = None, api_key: str | None = None
    ) -> Any:
        return self.request("GET", path, params=params, api_key=api_key)

    def post(self, path: str, body: Any, *, api_key: str | None = None) -> Any:
        return self.request("POST", path, json=body, api_key=api_key)

    def wait(
        self,
        path: str,
        *,
        done: Collection[str],
        failed: Collection[str] = ("failed",),
        until: Collection[str] = (),
        what: str,
        timeout: float = 60.0,
        interval: float = 0.2,
        api_key: str | None = None,
        progress: bool = False,
    ) -> dict[str, Any]:
        """Poll ``path`` until its ``status`` is in ``done`` (and, with ``until``, each of
        those fields is true); ``failed`` or a timeout raise."""
        deadline = time.monotonic() + timeout
        with click.progressbar(
            length=max(1, int(timeout / interval)),
            label="waiting for the relayer",
            file=sys.stderr if progress else io.StringIO(),
        ) as bar:
            while True:
                item = dict(self.get(path, api_key=api_key))
                status = item.get("status")
                pending = [name for name in until if not item.get(name)]
                if status in done and not pending:
                    return item
                if status in failed:
                    reason = item.get("last_error") or item.get("error") or "the call reverted"
                    raise ApiError(f"{what} failed: {reason}", status=409)
                if time.monotonic() > deadline:
                    state = (
                        f"{status}, not yet {' or '.join(pending)}" if status in done else status
                    )
                    raise ApiError(f"{what} still {state} after {timeout:g} s")
                bar.update(1)
                time.sleep(interval)

    def wait_relay(
        self,
        relay_id: int,
        *,
        timeout: float = 60.0,
        interval: float = 0.2,
        api_key: str | None = None,
    ) -> dict[str, Any]:
        """A relayed signed write, until mined or final and indexed: what it changed then
        shows in the service's reads."""
        return self.wait(
            f"/v1/relay/{relay_id}",
            done=("mined", "final"),
            until=("indexed",),
            what=f"relay {relay_id}",
            timeout=timeout,
            interval=interval,
            api_key=api_key,
        )

    def wait_action(self, action_id: int, *, timeout: float, show: bool) -> dict[str, Any]:
        """A relayed alliance action, until final (with a progress bar on a terminal)."""
        return self.wait(
            f"/v1/alliance/actions/{action_id}",
            done=("final",),
            what=f"action {action_id}",
            timeout=timeout,
            interval=0.25,
            progress=show,
        )

    def contract_domain(self, contract: str) -> Domain:
        """The EIP-712 domain of ``contract`` from the service's ``/health`` deployment info."""
        health = self.get("/health")
        info = (health.get("contracts") or {}).get(contract)
        if not info or health.get("chain_id") is None:
            raise ApiError(f"{self.base}/health does not list {contract} or a chain id")
        name, _ = DOMAIN_NAMES[contract]
        return Domain(name, str(info["version"]), int(health["chain_id"]), info["address"])


def resolve_domain(
    contract: str, *, chain_id: int | None, address: str | None, api: str | None
) -> Domain:
    """``--chain-id``/``--registry`` when both are given (offline), else ask the API."""
    if chain_id is not None and address is not None:
        return offline_domain(contract, chain_id, address)
    if chain_id is not None or address is not None:
        fail("give both --chain-id and --registry, or neither (to read them from --api)")
    return Api(api or DEFAULT_API, None).contract_domain(contract)
