"""One shipment for its seller: the page behind each row of the war room.

Everything is read from the indexed read models (milestones, corrections,
overdue flags, manifest lines, stock transfers); names come from
:func:`backend.names.display_names`. Times stay Unix seconds here; the page
renders them in the viewer's time zone with UTC on hover.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.alliance.models import TransferView
from backend.chain.typed_data.shipments import CorrectionReason, ExceptionReason
from backend.chain.typed_data.shipments import MilestoneType as M
from backend.common.types import to_hex
from backend.dashboard.rules import SLA_TARGETS, Assessment, assess
from backend.dashboard.service import snapshot
from backend.errors import NotFound
from backend.names import display_names
from backend.passports.carbon import LOCODES
from backend.shipments.models import (
    ManifestLine,
    Milestone,
    MilestoneCorrection,
    OverdueFlag,
    Shipment,
    ShipmentManifest,
)

MILESTONE_WORDS = {
    M.PICKED_UP: "Picked up by the carrier",
    M.EXPORT_CLEARED: "Export customs cleared",
    M.DEPARTED: "Departed",
    M.ARRIVED: "Arrived",
    M.CUSTOMS_HOLD: "Held by customs",
    M.CUSTOMS_RELEASED: "Released by customs",
    M.IMPORT_CLEARED: "Import customs cleared",
    M.WAREHOUSE_INBOUND: "Received at the warehouse",
    M.HANDOVER: "Handed over",
    M.OUT_FOR_DELIVERY: "Out for delivery",
    M.DELIVERED: "Delivered",
    M.RETURNED: "Returned to the seller",
    M.EXCEPTION: "Exception reported",
}
CUSTOMS_WORDS = {
    M.EXPORT_CLEARED: "cleared for export",
    M.CUSTOMS_HOLD: "held by customs",
    M.CUSTOMS_RELEASED: "released by customs",
    M.IMPORT_CLEARED: "cleared for import",
}


def place(code: str) -> str:
    """``USLAX`` → ``Los Angeles (USLAX)``; unknown codes as given."""
    known = LOCODES.get(code.replace(" ", "").upper()) if code else None
    return f"{known[0]} ({code})" if known else (code or "—")


def milestone_words(kind: int) -> str:
    return MILESTONE_WORDS.get(M(kind), M(kind).name.replace("_", " ").lower())


@dataclass(frozen=True)
class TimelineEntry:
    index: int
    at: int
    what: str
    location: str
    signed_by: str
    counterparty: str | None
    late: bool
    planned_by: int | None
    reason: str | None
    corrected_by: int | None
    tx_hash: str


@dataclass(frozen=True)
class CustodySpell:
    holder: str
    since: int
    how: str
    location: str


@dataclass(frozen=True)
class WeightReading:
    at: int
    what: str
    location: str
    measured_grams: int
    reference: str  # "declared weight" or "previous measurement (…)"
    reference_grams: int
    deviation_pct: float
    within_tolerance: bool


@dataclass(frozen=True)
class SlaLine:
    milestone: str
    planned: int
    actual: int | None
    state: str  # met, late, overdue, due


@dataclass(frozen=True)
class CorrectionLine:
    index: int
    corrects: int
    corrects_what: str
    reason: str
    signed_by: str


@dataclass(frozen=True)
class PassportLink:
    passport_id: str
    gtin: str | None
    lot: str | None
    serial: str | None
    quantity: int
    consumer_path: str | None


@dataclass(frozen=True)
class Agreement:
    request_id: int
    role: str  # outbound (lent stock) or return
    requester: str
    lender: str | None
    quantity: int
    status: str
    escrow: int
    released: int


@dataclass(frozen=True)
class ShipmentPage:
    id: str
    reference: str | None
    origin: str
    destination: str
    status: str
    transport_mode: str | None
    seller: str
    parties: list[tuple[str, str]]  # (role, display name)
    assessment: Assessment
    declared_weight_grams: int
    tolerance_bps: int
    timeline: list[TimelineEntry]
    custody: list[CustodySpell]
    weights: list[WeightReading]
    sla: list[SlaLine]
    customs: str
    exceptions: list[TimelineEntry]
    corrections: list[CorrectionLine]
    overdue: list[tuple[str, int, str]]  # milestone, planned by, flagged by
    passports: list[PassportLink]
    agreements: list[Agreement]


def visible_to(*, session: Session, shipment: Shipment, org_id: int, addresses: set[str]) -> bool:
    """The seller's organisation: it submitted the shipment, or one of its keys sold it."""
    manifest = session.get(ShipmentManifest, shipment.id)
    return (manifest is not None and manifest.org_id == org_id) or shipment.seller in addresses


def _weights(shipment: Shipment, current: list[Milestone]) -> list[WeightReading]:
    """Each measurement against the reference the contract compared it with.

    The contract checks the declared weight and the previous measurement (skipped
    when equal to the declared weight); a flagged discrepancy names the failing
    reference. Unflagged readings are shown against the previous measurement if
    there is one, else the declared weight.
    """
    out = []
    previous: Milestone | None = None
    declared = shipment.declared_weight_grams
    for m in current:
        if not m.measured_weight_grams:
            continue
        if m.weight_reference_grams is not None:
            ref_grams = int(m.weight_reference_grams)
            is_declared = ref_grams == declared
        elif previous is not None and previous.measured_weight_grams != declared:
            ref_grams, is_declared = previous.measured_weight_grams, False
        else:
            ref_grams, is_declared = declared, True
        if is_declared:
            label = "declared weight"
        else:
            assert previous is not None
            label = (
                f"previous measurement ({milestone_words(previous.kind).lower()}, "
                f"{place(previous.location)})"
            )
        deviation = 100.0 * (m.measured_weight_grams - ref_grams) / ref_grams if ref_grams else 0.0
        out.append(
            WeightReading(
                at=m.occurred_at,
                what=milestone_words(m.kind),
                location=place(m.location),
                measured_grams=m.measured_weight_grams,
                reference=label,
                reference_grams=ref_grams,
                deviation_pct=deviation,
                within_tolerance=m.weight_reference_grams is None,
            )
        )
        previous = m
    return out


def _sla(shipment: Shipment, current: list[Milestone], now: int) -> list[SlaLine]:
    keys = {
        "picked_up_by": "pickedUpBy",
        "export_cleared_by": "exportClearedBy",
        "departed_by": "departedBy",
        "arrived_by": "arrivedBy",
        "import_cleared_by": "importClearedBy",
        "delivered_by": "deliveredBy",
    }
    out = []
    for field_name, kind, _status in SLA_TARGETS:
        planned = int(shipment.sla.get(keys[field_name], 0))
        if not planned:
            continue
        reached = next((m.occurred_at for m in current if m.kind == kind), None)
        if reached is not None:
            state = "met" if reached <= planned else "late"
        else:
            state = "overdue" if now > planned else "due"
        out.append(SlaLine(milestone_words(kind), planned, reached, state))
    return out


def shipment_page(
    *, session: Session, org_id: int, addresses: set[str], shipment_id: bytes, now: int
) -> ShipmentPage:
    """The page of one of the organisation's shipments, or :class:`NotFound`."""
    sid = to_hex(shipment_id)
    shipment = session.get(Shipment, sid)
    if shipment is None or not visible_to(
        session=session, shipment=shipment, org_id=org_id, addresses=addresses
    ):
        raise NotFound(f"shipment {sid} not found among this organisation's shipments")
    milestones = list(
        session.scalars(
            select(Milestone).where(Milestone.shipment_id == sid).order_by(Milestone.index)
        )
    )
    corrections = list(
        session.scalars(
            select(MilestoneCorrection)
            .where(MilestoneCorrection.shipment_id == sid)
            .order_by(MilestoneCorrection.index)
        )
    )
    flags = list(
        session.scalars(
            select(OverdueFlag).where(OverdueFlag.shipment_id == sid).order_by(OverdueFlag.id)
        )
    )
    manifest = session.get(ShipmentManifest, sid)
    lines = list(
        session.scalars(
            select(ManifestLine).where(ManifestLine.shipment_id == sid).order_by(ManifestLine.id)
        )
    )
    transfers = list(
        session.scalars(
            select(TransferView).where(
                (TransferView.shipment_id == sid) | (TransferView.return_shipment_id == sid)
            )
        )
    )
    names = display_names(
        session=session,
        addresses=[
            shipment.seller,
            *shipment.carriers,
            shipment.warehouse,
            shipment.customs_broker,
            *(m.signer for m in milestones),
            *(m.counterparty for m in milestones),
            *(m.custodian for m in milestones),
            *(c.signer for c in corrections),
            *(f.flagged_by for f in flags),
            *(t.requester for t in transfers),
            *(t.lender for t in transfers),
        ],
    )

    def name(address: str | None) -> str:
        return names.get(address or "", "—") if address else "—"

    by_index = {m.index: m for m in milestones}
    current = [m for m in milestones if m.corrected_by_index is None]

    def reason(m: Milestone) -> str | None:
        if m.kind == M.EXCEPTION and m.reason_code in ExceptionReason._value2member_map_:
            return ExceptionReason(m.reason_code).name.lower()
        if m.kind == M.CUSTOMS_HOLD and m.reason_code:
            return f"hold code {m.reason_code}"
        return None

    timeline = [
        TimelineEntry(
            index=m.index,
            at=m.occurred_at,
            what=milestone_words(m.kind),
            location=place(m.location),
            signed_by=name(m.signer),
            counterparty=name(m.counterparty) if m.counterparty else None,
            late=m.late,
            planned_by=m.planned_by,
            reason=reason(m),
            corrected_by=m.corrected_by_index,
            tx_hash=m.tx_hash,
        )
        for m in milestones
    ]
    custody: list[CustodySpell] = []
    holder: str | None = shipment.seller
    for m in current:
        if m.custodian == holder:
            continue
        holder = m.custodian
        custody.append(
            CustodySpell(
                holder=name(holder) if holder else "the consignee (delivered)",
                since=m.occurred_at,
                how=milestone_words(m.kind),
                location=place(m.location),
            )
        )
    customs = "no customs milestone yet"
    for m in current:
        if M(m.kind) in CUSTOMS_WORDS:
            customs = f"{CUSTOMS_WORDS[M(m.kind)]} at {place(m.location)}"
    snap = snapshot(shipment, milestones, flags)
    parties = [("Seller", name(shipment.seller))]
    parties += [("Carrier", name(c)) for c in shipment.carriers]
    if shipment.warehouse:
        parties.append(("Warehouse", name(shipment.warehouse)))
    if shipment.customs_broker:
        parties.append(("Customs broker", name(shipment.customs_broker)))
    return ShipmentPage(
        id=shipment.id,
        reference=manifest.reference if manifest else None,
        origin=shipment.origin,
        destination=shipment.destination,
        status=shipment.status.replace("_", " "),
        transport_mode=manifest.transport_mode if manifest else None,
        seller=name(shipment.seller),
        parties=parties,
        assessment=assess(snap, now),
        declared_weight_grams=shipment.declared_weight_grams,
        tolerance_bps=shipment.weight_tolerance_bps,
        timeline=timeline,
        custody=custody,
        weights=_weights(shipment, current),
        sla=_sla(shipment, current, now),
        customs=customs,
        exceptions=[t for t in timeline if t.what == MILESTONE_WORDS[M.EXCEPTION]],
        corrections=[
            CorrectionLine(
                index=c.index,
                corrects=c.corrected_index,
                corrects_what=(
                    milestone_words(by_index[c.corrected_index].kind)
                    if c.corrected_index in by_index
                    else f"entry {c.corrected_index}"
                ),
                reason=(
                    CorrectionReason(c.reason_code).name.replace("_", " ").lower()
                    if c.reason_code in CorrectionReason._value2member_map_
                    else f"code {c.reason_code}"
                ),
                signed_by=name(c.signer),
            )
            for c in corrections
        ],
        overdue=[(milestone_words(f.milestone), f.planned_by, name(f.flagged_by)) for f in flags],
        passports=[
            PassportLink(
                passport_id=line.passport_id,
                gtin=line.gtin,
                lot=line.lot,
                serial=line.serial,
                quantity=line.quantity,
                consumer_path=_consumer_path(line),
            )
            for line in lines
        ],
        agreements=[
            Agreement(
                request_id=t.request_id,
                role="stock lent on this shipment"
                if t.shipment_id == sid
                else "return of lent stock",
                requester=name(t.requester),
                lender=name(t.lender) if t.lender else None,
                quantity=t.quantity,
                status=t.status,
                escrow=t.escrow,
                released=t.released_amount,
            )
            for t in transfers
        ],
    )


def _consumer_path(line: ManifestLine) -> str | None:
    """The GS1 Digital Link path of a manifest line keyed by GTIN (lot, serial)."""
    if not line.gtin:
        return None
    path = f"/01/{int(line.gtin):014d}"
    if line.lot:
        path += f"/10/{quote(line.lot, safe='')}"
    if line.serial:
        path += f"/21/{quote(line.serial, safe='')}"
    return path
