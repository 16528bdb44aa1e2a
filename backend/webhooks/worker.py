"""The notification worker: SLA sweep, colour watch and webhook delivery in one loop.

Runs as a daemon thread in the app (``webhook_worker_enabled``) or from a script;
every part is safe to run in several processes (leases, unique causes).
"""

from __future__ import annotations

import logging
import time

from sqlalchemy.orm import Session, sessionmaker

from backend.agreements.service import settle_due
from backend.chain import ChainClient, ChainError
from backend.chain.deployments import Deployment
from backend.chain.shipments import ShipmentRegistryClient
from backend.config import Settings
from backend.loop import Loop
from backend.orgs.service import Principal
from backend.relayer.service import worker_id
from backend.shipments import sla
from backend.webhooks.delivery import Sender
from backend.webhooks.sources import watch_colours

log = logging.getLogger(__name__)


class NotificationWorker(Loop):
    thread_name = "notification-worker"

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        chain: ChainClient,
        shipment_registry: str,
        settings: Settings,
        sender: Sender | None = None,
        deployment: Deployment | None = None,
    ) -> None:
        super().__init__()
        self.sessions = sessions
        self.chain = chain
        self.settings = settings
        self.registry = ShipmentRegistryClient(chain, shipment_registry)
        self.deployment = deployment
        self.sender = sender or Sender(sessions=sessions, settings=settings, owner=worker_id())
        self._last_watch = 0.0

    def sweep_sla(self) -> int:
        """Queue ``flagOverdue`` for deadlines the chain's clock has passed."""
        if not self.settings.sla_sweep_enabled:
            return 0
        now = int(self.chain.block("latest")["timestamp"])
        with self.sessions() as session:
            return sla.flag_due(session, registry=self.registry, now=now)

    def settle_agreements(self) -> int:
        """Queue ``settle`` for every purchase agreement that is due (the keeper)."""
        d = self.deployment
        if not self.settings.agreement_keeper_enabled or d is None:
            return 0
        if "DeliveryAgreement" not in d.contracts:
            return 0
        operator = Principal(
            org_id=None, org_slug=None, scopes=frozenset(), key_id=None, operator=True
        )
        with self.sessions() as session:
            return settle_due(session, chain=self.chain, deployment=d, operator=operator)

    def watch(self, now: int | None = None) -> int:
        """Notify colour changes as of ``now`` (default: the wall clock, like the dashboard)."""
        with self.sessions() as session:
            return watch_colours(session, now=now)

    def step(self) -> int:
        """One round of everything; how much happened."""
        done = 0
        if time.monotonic() - self._last_watch >= self.settings.webhook_watch_interval_seconds:
            self._last_watch = time.monotonic()
            try:
                done += self.sweep_sla()
            except ChainError as exc:
                log.warning("SLA sweep: chain error: %s", exc)
            try:
                done += self.settle_agreements()
            except ChainError as exc:
                log.warning("agreement keeper: chain error: %s", exc)
            done += self.watch()
        return done + self.sender.deliver_due()

    def interval(self) -> float:
        return self.settings.webhook_interval_seconds

    def stop(self, timeout: float = 10.0) -> None:
        super().stop(timeout)
        self.sender.close()
