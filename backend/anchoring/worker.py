"""Anchoring's step of the relay worker: batch pending events under roots to anchor.

Each round of the :class:`~backend.relayer.worker.RelayWorker` first builds
batches here (each a ``relay_requests`` row with the ``anchor`` call), then
sends them with every other domain's transactions; :class:`AnchorHandler`
follows them to finality.
"""

from __future__ import annotations

import time

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from backend.anchoring import service
from backend.chain import ChainClient
from backend.config import Settings
from backend.events.models import EpcisEvent, SupplyEvent
from backend.relayer.worker import RelayWorker


class AnchorWorker:
    """Adds anchoring to ``relay`` (its handler and batch step).

    Without ``relay`` it gets a relay worker of its own that sends anchors only
    (a second worker process, tests).
    """

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        chain: ChainClient,
        registry: str,
        settings: Settings,
        relay: RelayWorker | None = None,
    ) -> None:
        self.sessions = sessions
        self.chain = chain
        self.registry = registry
        self.settings = settings
        self.relay = relay or RelayWorker(sessions=sessions, chain=chain, settings=settings)
        self.owner = self.relay.owner
        self.relay.add(
            handlers={service.ANCHOR_PURPOSE: service.AnchorHandler(chain, registry)},
            step=self.build,
        )

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

    def run_until_idle(self, timeout: float = 30.0) -> None:
        """Step the relay worker until no event is left un-final (tests and scripts)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.relay.step()
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
