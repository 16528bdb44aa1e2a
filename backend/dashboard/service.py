"""The seller war room: shipments with their colour, alliance positions, browser sessions.

Everything comes from the indexed read models: shipments, milestones (with their
late and weight-discrepancy flags) and overdue flags of the shipments the
organisation sells; stock transfers and pool bookings of its addresses. The
colour is :func:`backend.dashboard.rules.assess`, a pure function.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.alliance.models import AllianceMember, BookingView, TransferView
from backend.chain.typed_data.shipments import ExceptionReason, Status
from backend.chain.typed_data.shipments import MilestoneType as M
from backend.dashboard.rules import (
    Assessment,
    Colour,
    ShipmentSnapshot,
    WeightDeviation,
    assess,
)
from backend.orgs.models import SignerKey
from backend.shipments.models import Milestone, OverdueFlag, Shipment, ShipmentManifest

COLOUR_ORDER = {Colour.RED: 0, Colour.YELLOW: 1, Colour.GREEN: 2, Colour.CLOSED: 3}


# -- shipments ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ShipmentRow:
    snapshot: ShipmentSnapshot
    assessment: Assessment
    reference: str | None = None
    parties: tuple[str, ...] = ()  # carriers, warehouse, customs broker (addresses)


@dataclass(frozen=True)
class RowFilter:
    """The list's filters; every field empty means "all"."""

    colour: str = ""
    route: str = ""  # "VNSGN-USLAX"
    party: str = ""  # an address
    since: int | None = None  # last event at or after (Unix seconds)
    until: int | None = None  # last event before
    q: str = ""  # in the seller's reference or the shipment id

    def keeps(self, row: ShipmentRow) -> bool:
        s = row.snapshot
        if self.colour and row.assessment.colour.value != self.colour:
            return False
        if self.route and f"{s.origin}-{s.destination}" != self.route:
            return False
        if self.party and self.party.lower() not in {p.lower() for p in row.parties}:
            return False
        if self.since is not None and (s.last_event_at is None or s.last_event_at < self.since):
            return False
        if self.until is not None and (s.last_event_at is None or s.last_event_at >= self.until):
            return False
        if self.q:
            needle = self.q.lower()
            if needle not in (row.reference or "").lower() and needle not in s.shipment_id:
                return False
        return True


SLA_KEYS = {
    M.PICKED_UP: "pickedUpBy",
    M.EXPORT_CLEARED: "exportClearedBy",
    M.DEPARTED: "departedBy",
    M.ARRIVED: "arrivedBy",
    M.IMPORT_CLEARED: "importClearedBy",
    M.DELIVERED: "deliveredBy",
}


def org_addresses(*, session: Session, org_id: int) -> set[str]:
    """The organisation's signer keys and alliance member addresses (EIP-55)."""
    signers = set(session.scalars(select(SignerKey.address).where(SignerKey.org_id == org_id)))
    members = set(
        session.scalars(select(AllianceMember.address).where(AllianceMember.org_id == org_id))
    )
    return signers | members


def snapshot(
    shipment: Shipment, milestones: list[Milestone], flags: list[OverdueFlag]
) -> ShipmentSnapshot:
    """What the colour rule needs, from the read model of one shipment."""
    status = Status[shipment.status.upper()]
    current = [m for m in milestones if m.corrected_by_index is None]
    hold = [m.occurred_at for m in current if m.kind == M.CUSTOMS_HOLD]
    last = current[-1] if current else None
    return ShipmentSnapshot(
        shipment_id=shipment.id,
        status=status,
        origin=shipment.origin,
        destination=shipment.destination,
        deadlines={kind: int(shipment.sla.get(key, 0)) for kind, key in SLA_KEYS.items()},
        late=tuple(dict.fromkeys(M(m.kind) for m in current if m.late)),
        overdue_flagged=tuple(M(f.milestone) for f in flags),
        weight_discrepancies=tuple(
            WeightDeviation(int(m.weight_reference_grams), int(m.weight_measured_grams))
            for m in current
            if m.weight_reference_grams is not None and m.weight_measured_grams is not None
        ),
        customs_hold_since=hold[-1] if hold and status is Status.CUSTOMS_HOLD else None,
        exceptions=tuple(
            ExceptionReason(m.reason_code)
            for m in current
            if m.kind == M.EXCEPTION and m.reason_code in ExceptionReason._value2member_map_
        ),
        last_location=next((m.location for m in reversed(current) if m.location), ""),
        last_event_at=last.occurred_at if last else None,
    )


def shipment_rows(
    *, session: Session, org_id: int, sellers: set[str], now: int
) -> list[ShipmentRow]:
    """The organisation's shipments (its signers sold them, or it submitted them), worst first."""
    own = select(ShipmentManifest.shipment_id).where(ShipmentManifest.org_id == org_id)
    shipments = session.scalars(
        select(Shipment).where(Shipment.id.in_(own) | Shipment.seller.in_(sellers))
    ).all()
    ids = [s.id for s in shipments]
    milestones: dict[str, list[Milestone]] = defaultdict(list)
    flags: dict[str, list[OverdueFlag]] = defaultdict(list)
    if ids:
        for m in session.scalars(
            select(Milestone).where(Milestone.shipment_id.in_(ids)).order_by(Milestone.index)
        ):
            milestones[m.shipment_id].append(m)
        for f in session.scalars(select(OverdueFlag).where(OverdueFlag.shipment_id.in_(ids))):
            flags[f.shipment_id].append(f)
    references = dict(
        session.execute(
            select(ShipmentManifest.shipment_id, ShipmentManifest.reference).where(
                ShipmentManifest.shipment_id.in_(ids)
            )
        ).all()
        if ids
        else []
    )
    rows = []
    for shipment in shipments:
        snap = snapshot(shipment, milestones[shipment.id], flags[shipment.id])
        parties = tuple(
            a for a in (*shipment.carriers, shipment.warehouse, shipment.customs_broker) if a
        )
        rows.append(ShipmentRow(snap, assess(snap, now), references.get(shipment.id), parties))
    rows.sort(key=lambda r: (COLOUR_ORDER[r.assessment.colour], r.snapshot.shipment_id))
    return rows


# -- alliance -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AllianceSummary:
    transfers: list[dict[str, Any]]
    settlements: list[dict[str, Any]]
    reallocations: list[dict[str, Any]]


def alliance_summary(*, session: Session, addresses: set[str]) -> AllianceSummary:
    """Stock transfers, booking reallocations and settled bookings involving ``addresses``."""
    transfers = [
        {
            "request_id": t.request_id,
            "role": "requester" if t.requester in addresses else "lender",
            "requester": t.requester,
            "lender": t.lender,
            "gtin": f"{t.gtin:014d}",
            "quantity": t.quantity,
            "destination": t.destination,
            "needed_by": t.needed_by,
            "terms": t.terms,
            "status": t.status,
            "escrow": t.escrow,
            "released_amount": t.released_amount,
        }
        for t in session.scalars(
            select(TransferView)
            .where(TransferView.requester.in_(addresses) | TransferView.lender.in_(addresses))
            .order_by(TransferView.request_id)
        )
    ]
    settlements = []
    reallocations = []
    for b in session.scalars(
        select(BookingView)
        .where(BookingView.member.in_(addresses))
        .order_by(BookingView.pool_id, BookingView.period_id)
    ):
        if b.transfer_paid or b.transfer_received:
            reallocations.append(
                {
                    "pool_id": b.pool_id,
                    "period_id": b.period_id,
                    "member": b.member,
                    "units": b.units,
                    "paid": b.transfer_paid,
                    "received": b.transfer_received,
                }
            )
        if b.lease_charge is not None:
            settlements.append(
                {
                    "pool_id": b.pool_id,
                    "period_id": b.period_id,
                    "member": b.member,
                    "units": b.units,
                    "used_units": b.used_units,
                    "lease_charge": b.lease_charge,
                    "usage_charge": b.usage_charge,
                    "released": b.released,
                    "status": b.status,
                }
            )
    return AllianceSummary(transfers, settlements, reallocations)


def counts(rows: Iterable[ShipmentRow]) -> dict[str, int]:
    out = {c.value: 0 for c in Colour}
    for row in rows:
        out[row.assessment.colour.value] += 1
    return out
