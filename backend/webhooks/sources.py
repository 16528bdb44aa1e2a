"""Where notifications come from: indexed contract events and the colour watch.

Chain-driven event types are written by indexer handlers that run after the
domain's own handler for the same log, in the same transaction, so the
notification commits exactly with the read-model change (and a replayed log
finds its message already there). Recipients are the organisations behind the
addresses involved (signer keys, alliance member addresses) and, for shipments,
the organisation that submitted it.

=============================  =============================================
event type                     source
=============================  =============================================
shipment.custody_changed       ``MilestoneRecorded`` PICKED_UP / HANDOVER
shipment.customs_hold          ``MilestoneRecorded`` CUSTOMS_HOLD
shipment.customs_released      ``MilestoneRecorded`` CUSTOMS_RELEASED
shipment.milestone_late        ``MilestoneLate``
shipment.weight_discrepancy    ``WeightDiscrepancy``
shipment.overdue               ``MilestoneOverdue`` (flagged by the SLA sweep or a seller)
passport.recalled              ``PassportRecalled``
attestation.revoked            ``AttestationRevoked``
escrow.released                ``TransferReleased`` (escrow paid to the lender)
compensation.paid              ``TransferRefunded`` (escrow returned to the requester)
shipment.colour_changed        :func:`watch_colours`, the dashboard rule over time
=============================  =============================================
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.alliance.models import AllianceMember, TransferView
from backend.chain import DecodedEvent
from backend.chain.typed_data.shipments import CUSTODY_TRANSFERS, MilestoneType
from backend.common.types import to_hex
from backend.dashboard.rules import Colour, assess
from backend.dashboard.service import snapshot
from backend.db.base import utcnow
from backend.indexer.service import BlockRef, ContractHandlers
from backend.orgs.models import SignerKey
from backend.passports.models import Attestation, Passport
from backend.shipments.models import (
    ManifestLine,
    Milestone,
    OverdueFlag,
    Shipment,
    ShipmentManifest,
)
from backend.webhooks import service
from backend.webhooks.models import EventType, ShipmentColour

OPEN_COLOURS = (Colour.RED, Colour.YELLOW, Colour.GREEN)


def orgs_of(session: Session, addresses: Iterable[str | None]) -> set[int]:
    """Organisations whose signer keys or alliance member addresses are among ``addresses``."""
    wanted = {a for a in addresses if a}
    if not wanted:
        return set()
    signers = session.scalars(select(SignerKey.org_id).where(SignerKey.address.in_(wanted)))
    members = session.scalars(
        select(AllianceMember.org_id).where(AllianceMember.address.in_(wanted))
    )
    return set(signers) | set(members)


def shipment_orgs(session: Session, shipment_id: str) -> set[int]:
    """The submitting organisation and every party's organisation."""
    orgs: set[int] = set()
    manifest = session.get(ShipmentManifest, shipment_id)
    if manifest is not None:
        orgs.add(manifest.org_id)
    s = session.get(Shipment, shipment_id)
    if s is not None:
        orgs |= orgs_of(session, [s.seller, *s.carriers, s.warehouse, s.customs_broker])
    return orgs


def _cause(ev: DecodedEvent) -> str:
    return f"log:{ev.tx_hash}:{ev.log_index}"


def _chain(ev: DecodedEvent) -> dict[str, Any]:
    return {"tx_hash": ev.tx_hash, "block_number": ev.block_number, "log_index": ev.log_index}


def _emit_shipment(
    session: Session, ev: DecodedEvent, block: BlockRef, kind: EventType, data: dict[str, Any]
) -> None:
    sid = to_hex(ev.args["shipmentId"])
    service.emit(
        session,
        org_ids=shipment_orgs(session, sid),
        event_type=kind,
        data={"shipment_id": sid, **data, "chain": _chain(ev)},
        cause=_cause(ev),
        block_number=block.number,
    )


MILESTONE_EVENTS = {
    MilestoneType.CUSTOMS_HOLD: EventType.SHIPMENT_CUSTOMS_HOLD,
    MilestoneType.CUSTOMS_RELEASED: EventType.SHIPMENT_CUSTOMS_RELEASED,
}


def on_milestone(session: Session, ev: DecodedEvent, block: BlockRef) -> None:
    kind = MilestoneType(int(ev.args["milestone"]))
    row = session.scalar(
        select(Milestone).where(
            Milestone.tx_hash == ev.tx_hash, Milestone.log_index == ev.log_index
        )
    )
    common = {
        "milestone": kind.name,
        "index": int(ev.args["index"]),
        "occurred_at": int(ev.args["occurredAt"]),
        "location": row.location if row is not None else "",
        "status": row.status if row is not None else "",
    }
    if kind in CUSTODY_TRANSFERS:
        _emit_shipment(
            session,
            ev,
            block,
            EventType.SHIPMENT_CUSTODY_CHANGED,
            {**common, "from": ev.args["signer"], "to": row.custodian if row else None},
        )
    if kind in MILESTONE_EVENTS:
        _emit_shipment(session, ev, block, MILESTONE_EVENTS[kind], common)


def on_late(session: Session, ev: DecodedEvent, block: BlockRef) -> None:
    _emit_shipment(
        session,
        ev,
        block,
        EventType.SHIPMENT_MILESTONE_LATE,
        {
            "milestone": MilestoneType(int(ev.args["milestone"])).name,
            "planned_by": int(ev.args["plannedBy"]),
            "occurred_at": int(ev.args["occurredAt"]),
        },
    )


def on_weight(session: Session, ev: DecodedEvent, block: BlockRef) -> None:
    _emit_shipment(
        session,
        ev,
        block,
        EventType.SHIPMENT_WEIGHT_DISCREPANCY,
        {
            "reference_grams": int(ev.args["referenceGrams"]),
            "measured_grams": int(ev.args["measuredGrams"]),
            "signer": ev.args["signer"],
        },
    )


def on_overdue(session: Session, ev: DecodedEvent, block: BlockRef) -> None:
    _emit_shipment(
        session,
        ev,
        block,
        EventType.SHIPMENT_OVERDUE,
        {
            "milestone": MilestoneType(int(ev.args["milestone"])).name,
            "planned_by": int(ev.args["plannedBy"]),
            "flagged_at": int(ev.args["flaggedAt"]),
            "flagged_by": ev.args["flaggedBy"],
        },
    )


def passport_orgs(session: Session, passport_id: str) -> set[int]:
    """The issuer's organisation and the organisations shipping the passport's goods."""
    passport = session.get(Passport, passport_id)
    orgs = orgs_of(session, [passport.issuer if passport else None])
    shipments = select(ManifestLine.shipment_id).where(ManifestLine.passport_id == passport_id)
    orgs |= set(
        session.scalars(
            select(ShipmentManifest.org_id).where(ShipmentManifest.shipment_id.in_(shipments))
        )
    )
    return orgs


def on_recalled(session: Session, ev: DecodedEvent, block: BlockRef) -> None:
    pid = to_hex(ev.args["passportId"])
    service.emit(
        session,
        org_ids=passport_orgs(session, pid),
        event_type=EventType.PASSPORT_RECALLED,
        data={
            "passport_id": pid,
            "reason_code": int(ev.args["reasonCode"]),
            "reason": str(ev.args["reason"]),
            "by": ev.args["by"],
            "chain": _chain(ev),
        },
        cause=_cause(ev),
        block_number=block.number,
    )


def on_attestation_revoked(session: Session, ev: DecodedEvent, block: BlockRef) -> None:
    pid = to_hex(ev.args["passportId"])
    att = session.get(Attestation, to_hex(ev.args["attestationId"]))
    orgs = passport_orgs(session, pid) | orgs_of(session, [att.certifier if att else None])
    service.emit(
        session,
        org_ids=orgs,
        event_type=EventType.ATTESTATION_REVOKED,
        data={
            "attestation_id": to_hex(ev.args["attestationId"]),
            "passport_id": pid,
            "reason_code": int(ev.args["reasonCode"]),
            "reason": str(ev.args["reason"]),
            "chain": _chain(ev),
        },
        cause=_cause(ev),
        block_number=block.number,
    )


def _transfer(
    session: Session, ev: DecodedEvent, block: BlockRef, kind: EventType, amount_to: str
) -> None:
    request_id = int(ev.args["requestId"])
    t = session.get(TransferView, request_id)
    parties = [t.requester, t.lender] if t is not None else []
    service.emit(
        session,
        org_ids=orgs_of(session, [*parties, ev.args.get(amount_to)]),
        event_type=kind,
        data={
            "request_id": request_id,
            amount_to: ev.args[amount_to],
            "amount": str(int(ev.args["amount"])),
            "chain": _chain(ev),
        },
        cause=_cause(ev),
        block_number=block.number,
    )


def on_released(session: Session, ev: DecodedEvent, block: BlockRef) -> None:
    _transfer(session, ev, block, EventType.ESCROW_RELEASED, "lender")


def on_refunded(session: Session, ev: DecodedEvent, block: BlockRef) -> None:
    _transfer(session, ev, block, EventType.COMPENSATION_PAID, "requester")


def rollback(session: Session, fork: int) -> None:
    service.forget_orphaned(session, fork)


def notification_handlers() -> list[ContractHandlers]:
    """Indexer handlers; registered after the domains' so their rows are in the session."""
    return [
        ContractHandlers(
            "ShipmentRegistry",
            {
                "MilestoneRecorded": on_milestone,
                "MilestoneLate": on_late,
                "WeightDiscrepancy": on_weight,
                "MilestoneOverdue": on_overdue,
            },
            rollback,
        ),
        ContractHandlers(
            "ProductPassportRegistry",
            {"PassportRecalled": on_recalled, "AttestationRevoked": on_attestation_revoked},
            rollback,
        ),
        ContractHandlers(
            "EmergencyStockTransfer",
            {"TransferReleased": on_released, "TransferRefunded": on_refunded},
            rollback,
        ),
    ]


# -- colours ------------------------------------------------------------------------------


def watch_colours(session: Session, *, now: int | None = None) -> int:
    """Notify every open shipment whose dashboard colour changed; the number notified.

    The last notified colour is kept per shipment; a shipment first seen green is
    recorded silently, first seen red or yellow is notified (a change from green).
    """
    at = int(time.time()) if now is None else now
    notified = 0
    shipments = session.scalars(select(Shipment).order_by(Shipment.id)).all()
    milestones: dict[str, list[Milestone]] = defaultdict(list)
    for m in session.scalars(select(Milestone).order_by(Milestone.shipment_id, Milestone.index)):
        milestones[m.shipment_id].append(m)
    flags: dict[str, list[OverdueFlag]] = defaultdict(list)
    for f in session.scalars(select(OverdueFlag)):
        flags[f.shipment_id].append(f)
    for s in shipments:
        result = assess(snapshot(s, milestones[s.id], flags[s.id]), at)
        row = session.get(ShipmentColour, s.id)
        previous = row.colour if row is not None else Colour.GREEN
        if row is not None and row.colour == result.colour:
            continue
        if row is None:
            row = ShipmentColour(shipment_id=s.id, colour=result.colour, reasons=[])
            session.add(row)
        since = int(row.changed_at.timestamp()) if row.changed_at else 0
        row.colour = result.colour
        row.reasons = list(result.reasons)
        row.changed_at = utcnow()
        if previous != result.colour and result.colour in OPEN_COLOURS:
            service.emit(
                session,
                org_ids=shipment_orgs(session, s.id),
                event_type=EventType.SHIPMENT_COLOUR_CHANGED,
                data={
                    "shipment_id": s.id,
                    "from": str(previous),
                    "to": str(result.colour),
                    "reasons": list(result.reasons),
                    "status": s.status,
                },
                cause=f"colour:{s.id}:{since}:{result.colour}",
            )
            notified += 1
        try:
            session.commit()
        except IntegrityError:
            session.rollback()  # another worker notified this transition first
    return notified
