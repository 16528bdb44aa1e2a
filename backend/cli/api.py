"""A small JSON client for the Waymark API (standard library only)."""

from __future__ import annotations

import io
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import click


class ApiError(Exception):
    """The API answered with an error body (``{"error", "detail"}``) or not at all."""

    def __init__(self, status: int, error: str, detail: Any, arguments: Any = None) -> None:
        self.status = status
        self.error = error
        self.detail = detail
        self.arguments = arguments
        super().__init__(self.one_line())

    def one_line(self) -> str:
        if self.arguments:
            args = ", ".join(f"{k}={v}" for k, v in self.arguments.items())
            return f"{self.error}({args})"
        detail = self.detail if isinstance(self.detail, str) else json.dumps(self.detail)
        return f"{self.error} ({self.status}): {detail}"


class Api:
    def __init__(self, base_url: str, api_key: str | None, *, timeout: float = 30.0) -> None:
        self.base = base_url.rstrip("/")
        self.key = api_key
        self.timeout = timeout

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        params: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        url = self.base + path
        if params:
            url += "?" + urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        if not url.startswith(("http://", "https://")):
            raise ApiError(0, "bad_url", f"--api must be an http(s) URL, got {self.base!r}")
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - scheme checked
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if self.key:
            req.add_header("Authorization", f"Bearer {self.key}")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310
                return dict(json.loads(resp.read() or b"{}"))
        except urllib.error.HTTPError as exc:
            try:
                payload = json.loads(exc.read() or b"{}")
            except ValueError:
                payload = {}
            raise ApiError(
                exc.code,
                str(payload.get("error", "http_error")),
                payload.get("detail", exc.reason),
                payload.get("arguments"),
            ) from exc
        except (urllib.error.URLError, OSError) as exc:
            raise ApiError(0, "api_unreachable", f"{self.base}: {exc}") from exc

    def wait_action(self, action_id: int, *, timeout: float, show: bool) -> dict[str, Any]:
        """Poll a relayed action until it is final (or failed), with a progress bar."""
        steps = max(1, int(timeout / 0.25))
        action: dict[str, Any] = {}
        with click.progressbar(
            length=steps,
            label="waiting for the relayer",
            file=sys.stderr if show else io.StringIO(),
        ) as bar:
            for _ in range(steps):
                action = self.request("GET", f"/v1/alliance/actions/{action_id}")
                if action["status"] in ("final", "failed"):
                    bar.update(steps)
                    break
                bar.update(1)
                time.sleep(0.25)
        if action.get("status") == "failed":
            raise ApiError(409, "action_failed", action.get("error") or "the call reverted")
        return action
