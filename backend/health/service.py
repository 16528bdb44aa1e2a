"""Gather health facts without failing when the chain is down."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from backend.anchoring.models import AnchorBatch, EventProof
from backend.chain import ChainClient, ChainError
from backend.chain.deployments import Deployment
from backend.events.models import Outbox, event_status
from backend.events.service import ANCHOR_TOPIC
from backend.health.schemas import AnchoringPublic, ContractPublic, HealthPublic
from backend.runtime import fast_paths
from backend.startup import StartupState


def anchoring_backlog(session: Session) -> AnchoringPublic:
    """Events not yet final, by status, and the age of the oldest pending one.

    An event's status is its batch's, so the counts come from the outbox (events waiting
    for a batch) and the batches still moving, never from a scan of every event.
    """
    pending, oldest = session.execute(
        select(func.count(func.distinct(Outbox.ref_id)), func.min(Outbox.created_at)).where(
            Outbox.topic == ANCHOR_TOPIC
        )
    ).one()
    counts: Counter[str] = Counter()
    for batch_status, n in session.execute(
        select(AnchorBatch.status, func.count())
        .join(EventProof, EventProof.batch_id == AnchorBatch.id)
        .where(
            AnchorBatch.status.in_(("built", "failed", "anchored")),
            EventProof.event_id.is_not(None),
        )
        .group_by(AnchorBatch.status)
    ):
        counts[event_status(batch_status)] += n
    age = None
    if oldest is not None:
        if oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=UTC)
        age = max(0.0, (datetime.now(UTC) - oldest).total_seconds())
    return AnchoringPublic(
        pending=pending,
        batched=counts["batched"],
        anchored=counts["anchored"],
        backlog=pending + sum(counts.values()),
        oldest_pending_seconds=age,
    )


def health(
    *,
    chain: ChainClient,
    deployment: Deployment | None,
    session: Session | None = None,
    startup: StartupState = StartupState.READY,
    error: str | None = None,
) -> HealthPublic:
    """Current health; ``status`` is ``degraded`` if the chain does not answer.

    While start-up work runs (the demo compiles and deploys behind a live
    server) ``status`` is ``starting``; if it failed, ``degraded`` with the reason.
    """
    try:
        chain_id: int | None = chain.chain_id
        head = chain.block("latest")
        latest: int | None = head["number"]
        block_time: int | None = head["timestamp"]
        reachable = True
    except ChainError:
        chain_id, latest, block_time, reachable = None, None, None, False
    # Positive: the chain's clock trails the wall clock (a node that mines on demand).
    skew = None if block_time is None else round(time.time() - block_time, 3)
    database = "unknown"
    anchoring = None
    if session is not None:
        try:
            anchoring = anchoring_backlog(session)
            database = "ok"
        except SQLAlchemyError:
            database = "unavailable"
    paths = fast_paths()
    contracts = {
        name: ContractPublic(
            address=rec.address, version=rec.version, deploy_block=rec.deploy_block
        )
        for name, rec in (deployment.contracts.items() if deployment else [])
    }
    status = "ok" if reachable and deployment and database != "unavailable" else "degraded"
    if startup is StartupState.STARTING:
        status = "starting"
    return HealthPublic(
        status=status,
        startup=startup.value,
        startup_error=error,
        chain_backend=chain.backend,
        chain_id=chain_id,
        latest_block=latest,
        latest_block_time=block_time,
        chain_clock_skew_seconds=skew,
        chain_reachable=reachable,
        relayer=chain.address,
        anchorer=deployment.anchorer if deployment else None,
        contracts=contracts,
        coincurve=paths["coincurve"],
        fast_keccak=paths["fast_keccak"],
        database=database,
        anchoring=anchoring,
    )
