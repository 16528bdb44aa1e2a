"""The relay worker: the loop that sends every domain's transactions.

Each round runs the steps domains add (anchoring builds its batches of pending
events, :class:`backend.anchoring.worker.AnchorWorker`), then drives every relay
request once (:class:`backend.relayer.service.Relayer`). Runs as a background
thread inside the app (demo, tests) or as its own process
(``scripts/anchor_worker.py``); several may run against one database.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sqlalchemy.orm import Session, sessionmaker

from backend.chain import ChainClient
from backend.config import Settings
from backend.loop import Loop
from backend.relayer.service import Relayer, RelayHandler, worker_id


class RelayWorker(Loop):
    """One worker; ``step()`` does one round, ``start()`` loops in a daemon thread."""

    thread_name = "relay-worker"

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        chain: ChainClient,
        settings: Settings,
        handlers: Mapping[str, RelayHandler] | None = None,
    ) -> None:
        super().__init__()
        self.sessions = sessions
        self.chain = chain
        self.settings = settings
        self.owner = worker_id()
        self.relayer = Relayer(
            sessions=sessions,
            chain=chain,
            settings=settings,
            handlers=dict(handlers or {}),
            owner=self.owner,
        )
        self.steps: list[Callable[[], int]] = []

    def add(self, *, handlers: Mapping[str, RelayHandler], step: Callable[[], int]) -> None:
        """A domain's relay handlers and the step that queues its requests each round."""
        self.relayer.handlers.update(handlers)
        self.steps.append(step)

    def step(self) -> int:
        """Run every added step, then drive every relay request once; the work done."""
        return sum(step() for step in self.steps) + self.relayer.drive()

    def interval(self) -> float:
        return self.settings.anchor_interval_seconds
