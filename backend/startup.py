"""Start-up work that runs after the server already answers (compile, deploy).

The demo serves ``/health`` within seconds and compiles and deploys the
contracts behind it; until that is done, :class:`StartupGate` says so and
``backend.middleware.StartupGateMiddleware`` answers 503 ``starting`` on every
route that needs the chain or the read models.
"""

from __future__ import annotations

import logging
import socket
import sys
import threading
from collections.abc import Callable
from enum import StrEnum

log = logging.getLogger(__name__)

# Routes that answer while starting: liveness, health (it reports "starting") and the API docs.
STARTING_PATHS = ("/health", "/livez", "/docs", "/redoc", "/openapi.json")


class StartupState(StrEnum):
    STARTING = "starting"
    READY = "ready"
    FAILED = "failed"


class StartupGate:
    """Ready at once, unless :meth:`run` hands it work to finish in the background."""

    def __init__(self, *, open_paths: tuple[str, ...] = STARTING_PATHS) -> None:
        self.open_paths = open_paths
        self.state = StartupState.READY
        self.error: str | None = None
        self._thread: threading.Thread | None = None

    def run(self, work: Callable[[], None]) -> None:
        self.state = StartupState.STARTING

        def target() -> None:
            try:
                work()
            except Exception as exc:
                log.exception("start-up failed")
                self.error = f"{type(exc).__name__}: {exc}"
                self.state = StartupState.FAILED
                return
            self.state = StartupState.READY

        self._thread = threading.Thread(target=target, name="startup", daemon=True)
        self._thread.start()

    def wait(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def admits(self, path: str) -> bool:
        return self.state is StartupState.READY or any(
            path == p or path.startswith(p + "/") for p in self.open_paths
        )


class EarlyListener:
    """Holds the server's socket and answers on it while the service is still loading.

    Importing the service and its chain libraries takes seconds of CPU before
    uvicorn can answer; the demo binds its port first and serves ``/health``
    (``starting``) and 503 ``starting`` for everything else from the standard
    library meanwhile. :meth:`handover` stops answering and returns the same
    listening socket for uvicorn, so connections made in between wait in the
    socket's backlog instead of being refused.
    """

    def __init__(self, host: str, port: int, *, chain_backend: str) -> None:
        import json
        from http.server import BaseHTTPRequestHandler, HTTPServer

        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.socket = socket.socket(family, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind((host, port))
        self.socket.listen(2048)
        health = json.dumps(
            {
                "status": "starting",
                "startup": "starting",
                "detail": "loading the service",
                "chain_backend": chain_backend,
            }
        ).encode()
        busy = json.dumps(
            {"error": "starting", "detail": "starting: loading the service; retry in a moment"}
        ).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                ready = self.path.split("?")[0] in ("/health", "/livez")
                body = health if ready else busy
                self.send_response(200 if ready else 503)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                if not ready:
                    self.send_header("Retry-After", "1")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        class Server(HTTPServer):
            def handle_error(self, request: object, client_address: object) -> None:
                # A client that gave up waiting (the process is busy importing) is not an error.
                if not isinstance(sys.exc_info()[1], ConnectionError):
                    super().handle_error(request, client_address)  # type: ignore[arg-type]

        self._server = Server((host, port), Handler, bind_and_activate=False)
        self._server.socket = self.socket
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def handover(self) -> socket.socket:
        """Stop answering; the still-listening socket, for ``uvicorn.Server.run(sockets=…)``."""
        self._server.shutdown()
        self._thread.join()
        return self.socket
