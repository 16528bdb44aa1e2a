"""The anchoring worker: batch pending events, anchor roots, follow them to finality.

Runs as a background thread inside the app (demo, tests) or as its own process
(``scripts/anchor_worker.py``); several may run against one database.
"""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from backend.anchoring import service
from backend.chain import ChainClient, ChainError
from backend.config import Settings
from backend.events.models import EpcisEvent, SupplyEvent
from backend.relayer.service import Relayer, RelayHandler, worker_id

log = logging.getLogger(__name__)


class AnchorWorker:
    """One worker; ``step()`` does one round, ``start()`` loops in a daemon thread."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        chain: ChainClient,
        registry: str,
        settings: Settings,
        extra_handlers: dict[str, RelayHandler] | None = None,
    ) -> None:
        self.sessions = sessions
        self.chain = chain
        self.registry = registry
        self.settings = settings
        self.owner = worker_id()
        handlers: dict[str, RelayHandler] = {
            service.ANCHOR_PURPOSE: service.AnchorHandler(chain, registry),
            **(extra_handlers or {}),
        }
        self.relayer = Relayer(
            sessions=sessions, chain=chain, settings=settings, handlers=handlers, owner=self.owner
        )
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.errors = 0

    def build(self) -> int:
        """Build batches until the outbox is empty; the number of batches built."""
        built = 0
        while True:
            with self.sessions() as session:
                batch = service.build_batch(
                    session,
                    chain=self.chain,
                    registry=self.registry,
                    limit=self.settings.anchor_batch_size,
                    owner=self.owner,
                    lease=self.settings.lease_seconds,
                )
            if batch is None:
                return built
            built += 1

    def step(self) -> int:
        """Build what is pending and drive every relay request once."""
        built = self.build()
        return built + self.relayer.drive()

    def run_until_idle(self, timeout: float = 30.0) -> None:
        """Step until no event is left un-final (tests and scripts)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.step()
            if self.backlog() == 0:
                return
            time.sleep(0.02)
        raise TimeoutError(f"events still not final after {timeout}s: {self.backlog()}")

    def backlog(self) -> int:
        with self.sessions() as session:
            return sum(
                int(
                    session.scalar(
                        select(func.count()).select_from(model).where(model.status != "final")
                    )
                    or 0
                )
                for model in (SupplyEvent, EpcisEvent)
            )

    def run_forever(self) -> None:
        while not self._stop.is_set():
            try:
                progressed = self.step()
            except ChainError as exc:
                self.errors += 1
                log.warning("anchor worker: chain error: %s", exc)
                progressed = 0
            except Exception:
                self.errors += 1
                log.exception("anchor worker: step failed")
                progressed = 0
            if not progressed:
                self._stop.wait(self.settings.anchor_interval_seconds)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run_forever, name="anchor-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
