"""Indexer handlers for ``ShipmentRegistry``: shipments, milestones, corrections, overdue flags.

``WeightDiscrepancy`` and ``MilestoneLate`` are emitted just before the
``MilestoneRecorded`` they belong to (same transaction, lower log index), so
they are held in the indexing session until that milestone arrives and then
stored on its row. Every handler is idempotent on ``(tx_hash, log_index)``;
the rollback deletes rows at or above the fork block, recomputes each
surviving shipment's state from its remaining milestones and queues again
the relayed writes whose transactions the reorg removed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from backend.chain import DecodedEvent
from backend.chain.typed_data.shipments import (
    CUSTODY_TRANSFERS,
    SERVICE_LEVEL,
    SHIPMENT_TERMS,
    MilestoneType,
    Status,
    locode_text,
)
from backend.common.types import to_hex
from backend.indexer.service import BlockRef, ContractHandlers
from backend.relayer.signed import relay_ids, requeue_orphaned
from backend.shipments.effects import KINDS
from backend.shipments.models import (
    Milestone,
    MilestoneCorrection,
    OverdueFlag,
    Shipment,
)

ZERO_ADDRESS = "0x" + "00" * 20
_PENDING = "shipments.pending_flags"


def _opt_address(value: str) -> str | None:
    return None if value == ZERO_ADDRESS else value


def _named(value: Any, fields: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return dict(value)
    return {name: v for (_typ, name), v in zip(fields, value, strict=True)}


def status_name(value: int) -> str:
    return Status(value).name.lower()


def _pending(session: Session) -> dict[tuple[str, str], dict[str, Any]]:
    pending: dict[tuple[str, str], dict[str, Any]] = session.info.setdefault(_PENDING, {})
    return pending


def on_created(session: Session, ev: DecodedEvent, block: BlockRef) -> None:
    sid = to_hex(ev.args["shipmentId"])
    if session.get(Shipment, sid) is not None:
        return
    terms = _named(ev.args["terms"], SHIPMENT_TERMS.fields)
    sla = _named(terms["sla"], SERVICE_LEVEL.fields)
    session.add(
        Shipment(
            id=sid,
            seller=ev.args["seller"],
            origin=locode_text(bytes(terms["origin"])),
            destination=locode_text(bytes(terms["destination"])),
            declared_weight_grams=int(terms["declaredWeightGrams"]),
            piece_count=int(terms["pieceCount"]),
            weight_tolerance_bps=int(terms["weightToleranceBps"]),
            manifest_hash=to_hex(terms["manifestHash"]),
            carriers=list(terms["carriers"]),
            warehouse=_opt_address(terms["warehouse"]),
            customs_broker=_opt_address(terms["customsBroker"]),
            sla={k: int(v) for k, v in sla.items()},
            status=status_name(Status.CREATED),
            custodian=None,
            last_measured_weight_grams=0,
            overdue_flags=0,
            history_length=0,
            block_number=block.number,
            tx_hash=ev.tx_hash,
            log_index=ev.log_index,
        )
    )
    session.flush()


def on_weight_discrepancy(session: Session, ev: DecodedEvent, block: BlockRef) -> None:
    flags = _pending(session).setdefault((ev.tx_hash, to_hex(ev.args["shipmentId"])), {})
    flags["weight_reference_grams"] = int(ev.args["referenceGrams"])
    flags["weight_measured_grams"] = int(ev.args["measuredGrams"])


def on_late(session: Session, ev: DecodedEvent, block: BlockRef) -> None:
    flags = _pending(session).setdefault((ev.tx_hash, to_hex(ev.args["shipmentId"])), {})
    flags["late"] = True
    flags["planned_by"] = int(ev.args["plannedBy"])


def _exists(session: Session, model: type[Any], ev: DecodedEvent) -> bool:
    return (
        session.scalar(
            select(model.id).where(model.tx_hash == ev.tx_hash, model.log_index == ev.log_index)
        )
        is not None
    )


def on_milestone(session: Session, ev: DecodedEvent, block: BlockRef) -> None:
    a = ev.args
    sid = to_hex(a["shipmentId"])
    flags = _pending(session).pop((ev.tx_hash, sid), {})
    if _exists(session, Milestone, ev):
        return
    kind = int(a["milestone"])
    custodian = _opt_address(a["custodian"])
    row = Milestone(
        shipment_id=sid,
        index=int(a["index"]),
        kind=kind,
        signer=a["signer"],
        counterparty=custodian if kind in CUSTODY_TRANSFERS else None,
        status=status_name(a["status"]),
        custodian=custodian,
        occurred_at=int(a["occurredAt"]),
        location=locode_text(bytes(a["location"])),
        measured_weight_grams=int(a["measuredWeightGrams"]),
        evidence_hash=to_hex(a["evidenceHash"]),
        reason_code=int(a["reasonCode"]),
        record_hash=to_hex(a["recordHash"]),
        late=bool(flags.get("late", False)),
        planned_by=flags.get("planned_by"),
        weight_reference_grams=flags.get("weight_reference_grams"),
        weight_measured_grams=flags.get("weight_measured_grams"),
        block_number=block.number,
        tx_hash=ev.tx_hash,
        log_index=ev.log_index,
    )
    session.add(row)
    shipment = session.get(Shipment, sid)
    if shipment is not None:
        _apply(shipment, row)
    session.flush()


def _apply(shipment: Shipment, m: Milestone) -> None:
    shipment.status = m.status
    shipment.custodian = m.custodian
    shipment.history_length = max(shipment.history_length, m.index + 1)
    if m.measured_weight_grams:
        shipment.last_measured_weight_grams = m.measured_weight_grams
    if m.kind == MilestoneType.DELIVERED:
        shipment.delivered_at = m.occurred_at


def on_corrected(session: Session, ev: DecodedEvent, block: BlockRef) -> None:
    if _exists(session, MilestoneCorrection, ev):
        return
    a = ev.args
    sid = to_hex(a["shipmentId"])
    index = int(a["index"])
    corrected = int(a["correctedIndex"])
    session.add(
        MilestoneCorrection(
            shipment_id=sid,
            index=index,
            corrected_index=corrected,
            corrected_record_hash=to_hex(a["correctedRecordHash"]),
            signer=a["signer"],
            reason_code=int(a["reasonCode"]),
            evidence_hash=to_hex(a["evidenceHash"]),
            record_hash=to_hex(a["recordHash"]),
            block_number=block.number,
            tx_hash=ev.tx_hash,
            log_index=ev.log_index,
        )
    )
    target = session.scalar(
        select(Milestone).where(Milestone.shipment_id == sid, Milestone.index == corrected)
    )
    if target is not None and target.corrected_by_index is None:
        target.corrected_by_index = index
    shipment = session.get(Shipment, sid)
    if shipment is not None:
        shipment.history_length = max(shipment.history_length, index + 1)
    session.flush()


def on_overdue(session: Session, ev: DecodedEvent, block: BlockRef) -> None:
    if _exists(session, OverdueFlag, ev):
        return
    a = ev.args
    sid = to_hex(a["shipmentId"])
    milestone = int(a["milestone"])
    session.add(
        OverdueFlag(
            shipment_id=sid,
            milestone=milestone,
            planned_by=int(a["plannedBy"]),
            flagged_at=int(a["flaggedAt"]),
            flagged_by=a["flaggedBy"],
            block_number=block.number,
            tx_hash=ev.tx_hash,
            log_index=ev.log_index,
        )
    )
    shipment = session.get(Shipment, sid)
    if shipment is not None:
        shipment.overdue_flags |= 1 << milestone
    session.flush()


def rollback(session: Session, fork: int) -> None:
    """Forget everything indexed at or above ``fork`` and recompute the survivors' state."""
    touched = set(
        session.scalars(select(Milestone.shipment_id).where(Milestone.block_number >= fork))
    )
    touched |= set(
        session.scalars(
            select(MilestoneCorrection.shipment_id).where(MilestoneCorrection.block_number >= fork)
        )
    )
    touched |= set(
        session.scalars(select(OverdueFlag.shipment_id).where(OverdueFlag.block_number >= fork))
    )
    for model in (Milestone, MilestoneCorrection, OverdueFlag, Shipment):
        session.execute(
            delete(model)
            .where(model.block_number >= fork)
            .execution_options(synchronize_session=False)
        )
    session.info.pop(_PENDING, None)
    requeue_orphaned(session, relay_ids(KINDS), fork)
    session.expire_all()
    for sid in touched:
        shipment = session.get(Shipment, sid)
        if shipment is not None:
            recompute(session, shipment)
    session.flush()


def recompute(session: Session, shipment: Shipment) -> None:
    """Rebuild a shipment's derived state from its stored history."""
    shipment.status = status_name(Status.CREATED)
    shipment.custodian = None
    shipment.last_measured_weight_grams = 0
    shipment.delivered_at = None
    shipment.history_length = 0
    for m in session.scalars(
        select(Milestone).where(Milestone.shipment_id == shipment.id).order_by(Milestone.index)
    ):
        _apply(shipment, m)
    corrections = session.scalars(
        select(MilestoneCorrection).where(MilestoneCorrection.shipment_id == shipment.id)
    ).all()
    for c in corrections:
        shipment.history_length = max(shipment.history_length, c.index + 1)
    corrected = {c.corrected_index: c.index for c in corrections}
    for m in session.scalars(select(Milestone).where(Milestone.shipment_id == shipment.id)):
        m.corrected_by_index = corrected.get(m.index)
    flags = 0
    for milestone in session.scalars(
        select(OverdueFlag.milestone).where(OverdueFlag.shipment_id == shipment.id)
    ):
        flags |= 1 << milestone
    shipment.overdue_flags = flags


def shipment_handlers() -> ContractHandlers:
    return ContractHandlers(
        "ShipmentRegistry",
        {
            "ShipmentCreated": on_created,
            "WeightDiscrepancy": on_weight_discrepancy,
            "MilestoneLate": on_late,
            "MilestoneRecorded": on_milestone,
            "MilestoneCorrected": on_corrected,
            "MilestoneOverdue": on_overdue,
        },
        rollback,
    )
