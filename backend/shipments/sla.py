"""The service flags overdue milestones itself once their SLA deadline has passed.

``flagOverdue`` is permissionless on chain (the contract checks the deadline
against the block time and refuses a second flag), so the relayer sends it on
behalf of the shipment's seller organisation: the write is recorded like a
seller's own ``POST …/overdue/{milestone}`` and its effect is the indexed
``MilestoneOverdue``. A shipment is picked when the chain's latest block time is
past a planned deadline whose target status is not reached, no flag is indexed
and no flag write for it is queued or in flight. A deadline that had already
passed when the shipment was created is not swept: such a shipment is recorded
after the fact, and its milestones carry their own lateness (``MilestoneLate``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.chain import ChainError
from backend.chain.shipments import ShipmentRegistryClient
from backend.chain.typed_data.shipments import MilestoneType, Status
from backend.common.types import hex_bytes
from backend.relayer.models import RelayRequest, RelayStatus, RelayWrite
from backend.relayer.signed import ContractWrite, queue
from backend.shipments.effects import OverdueFlagged
from backend.shipments.models import OverdueFlag, Shipment, ShipmentManifest
from backend.shipments.writes import PURPOSE_OVERDUE

log = logging.getLogger(__name__)

# ServiceLevel field → (milestone whose deadline it is, the status that meets it).
SLA_TARGETS: tuple[tuple[str, MilestoneType, Status], ...] = (
    ("pickedUpBy", MilestoneType.PICKED_UP, Status.PICKED_UP),
    ("exportClearedBy", MilestoneType.EXPORT_CLEARED, Status.EXPORT_CLEARED),
    ("departedBy", MilestoneType.DEPARTED, Status.IN_TRANSIT),
    ("arrivedBy", MilestoneType.ARRIVED, Status.ARRIVED),
    ("importClearedBy", MilestoneType.IMPORT_CLEARED, Status.IMPORT_CLEARED),
    ("deliveredBy", MilestoneType.DELIVERED, Status.DELIVERED),
)
CLOSED = frozenset({Status.DELIVERED, Status.RETURNED, Status.LOST})
LIVE_RELAY = (RelayStatus.QUEUED, RelayStatus.SENT, RelayStatus.MINED, RelayStatus.FINAL)


def due(
    session: Session, *, now: int, created_at: Callable[[Shipment], int] | None = None
) -> list[tuple[str, MilestoneType]]:
    """``(shipment id, milestone)`` pairs past their deadline at ``now`` and not yet flagged.

    ``created_at`` gives a shipment's creation time; deadlines at or before it are skipped.
    """
    flagged = {
        (sid, int(m))
        for sid, m in session.execute(select(OverdueFlag.shipment_id, OverdueFlag.milestone))
    }
    queued = {
        (w.subject, int(w.effect["milestone"]))
        for w in session.scalars(
            select(RelayWrite)
            .join(RelayRequest, RelayRequest.id == RelayWrite.relay_id)
            .where(RelayWrite.kind == OverdueFlagged.kind, RelayRequest.status.in_(LIVE_RELAY))
        )
    }
    out: list[tuple[str, MilestoneType]] = []
    for s in session.scalars(select(Shipment).order_by(Shipment.id)):
        status = Status[s.status.upper()]
        if status in CLOSED:
            continue
        for key, kind, target in SLA_TARGETS:
            planned = int(s.sla.get(key, 0) or 0)
            # Status order is progress order (CUSTOMS_HOLD sits between ARRIVED and
            # IMPORT_CLEARED), which is the contract's "reached" test too.
            if not planned or now <= planned or status >= target:
                continue
            if (s.id, int(kind)) in flagged or (s.id, int(kind)) in queued:
                continue
            if created_at is not None and planned <= created_at(s):
                continue
            out.append((s.id, kind))
    return out


def flag_due(session: Session, *, registry: ShipmentRegistryClient, now: int) -> int:
    """Queue ``flagOverdue`` for every due pair; the number queued (commits)."""
    queued = 0
    block_times: dict[int, int] = {}

    def created_at(s: Shipment) -> int:
        if s.block_number not in block_times:
            block_times[s.block_number] = int(registry.chain.block(s.block_number)["timestamp"])
        return block_times[s.block_number]

    for shipment_id, kind in due(session, now=now, created_at=created_at):
        manifest = session.get(ShipmentManifest, shipment_id)
        if manifest is None:
            continue  # not submitted through this service: no organisation to act for
        calldata = registry.chain.encode(
            registry.contract, "flagOverdue", hex_bytes(shipment_id), int(kind)
        )
        write = ContractWrite(
            to=registry.address,
            data=calldata,
            purpose=PURPOSE_OVERDUE,
            subject=shipment_id,
            effect=OverdueFlagged(subject=shipment_id, milestone=int(kind)),
        )
        try:
            queue(session=session, chain=registry.chain, org_id=manifest.org_id, write=write)
        except ChainError as exc:
            # e.g. the next block's time is not past the deadline yet; try next round.
            log.info("overdue flag for %s %s not sendable yet: %s", shipment_id, kind.name, exc)
            session.rollback()
            continue
        session.commit()
        queued += 1
    return queued
