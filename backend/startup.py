"""Start-up work that runs after the server already answers (compile, deploy).

The demo serves ``/health`` within seconds and compiles and deploys the
contracts behind it; until that is done, :class:`StartupGate` says so and
``backend.middleware.StartupGateMiddleware`` answers 503 ``starting`` on every
route that needs the chain or the read models.
"""

from __future__ import annotations

import logging
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
