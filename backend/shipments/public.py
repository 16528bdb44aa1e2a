"""Public reads of shipments for passport pages: journeys and transport legs.

Functions other domains call (stable signatures)::

    journey_for_passport(*, session, passport_id: bytes) -> list[ShipmentJourney]
    transport_legs(*, session, passport_id: bytes) -> list[TransportLeg]

Only shipments whose seller speaks for the passport (issuer or delegate) count,
and the seller's manifest (its other lines) is left out.
"""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.chain.typed_data.shipments import MilestoneType
from backend.common.types import to_hex
from backend.orgs.subjects import speakers
from backend.passports.carbon import TransportLeg
from backend.shipments.models import ManifestLine, Milestone, Shipment, ShipmentManifest
from backend.shipments.queries import shipment_detail
from backend.shipments.schemas import ShipmentDetail
from backend.shipments.subjects import MANIFEST_BASES

#: The customs status a passport page shows, by the last customs milestone.
CUSTOMS = {
    MilestoneType.EXPORT_CLEARED: "export_cleared",
    MilestoneType.CUSTOMS_HOLD: "hold",
    MilestoneType.CUSTOMS_RELEASED: "released",
    MilestoneType.IMPORT_CLEARED: "import_cleared",
}


class ShipmentJourney(BaseModel):
    """A shipment carrying a passport's product, as the consumer page shows it."""

    shipment: ShipmentDetail
    quantity: int
    customs_status: str
    late: bool
    exception: bool
    weight_discrepancy: bool


def _shipments_for(session: Session, passport_id: bytes) -> list[tuple[Shipment, int]]:
    """Shipments carrying the passport whose seller speaks for it (issuer or delegate)."""
    pid = to_hex(passport_id)
    who = speakers(session=session, subjects=[pid])[pid]
    sellers = [org for org, basis in who.orgs.items() if basis in MANIFEST_BASES]
    rows = session.execute(
        select(Shipment, ManifestLine.quantity)
        .join(ManifestLine, ManifestLine.shipment_id == Shipment.id)
        .join(ShipmentManifest, ShipmentManifest.shipment_id == Shipment.id)
        .where(ManifestLine.passport_id == pid, ShipmentManifest.org_id.in_(sellers))
        .order_by(Shipment.block_number, Shipment.id)
    ).all()
    merged: dict[str, tuple[Shipment, int]] = {}
    for shipment, qty in rows:
        prev = merged.get(shipment.id)
        merged[shipment.id] = (shipment, qty + (prev[1] if prev else 0))
    return list(merged.values())


def journey_for_passport(*, session: Session, passport_id: bytes) -> list[ShipmentJourney]:
    """Indexed shipments whose manifest lists ``passport_id``, oldest first, with badges.

    Public: the manifest (the seller's other lines) is left out.
    """
    out = []
    for shipment, qty in _shipments_for(session, passport_id):
        detail = shipment_detail(session, shipment).model_copy(update={"manifest": None})
        live = [m for m in detail.milestones if m.corrected_by_index is None]
        customs = "none"
        for m in live:
            customs = CUSTOMS.get(MilestoneType(m.milestone), customs)
        out.append(
            ShipmentJourney(
                shipment=detail,
                quantity=qty,
                customs_status=customs,
                late=any(m.late for m in live) or bool(detail.overdue_milestones),
                exception=any(m.milestone == MilestoneType.EXCEPTION for m in live),
                weight_discrepancy=any(m.weight_measured_grams is not None for m in live),
            )
        )
    return out


def transport_legs(*, session: Session, passport_id: bytes) -> list[TransportLeg]:
    """Legs from attested DEPARTED → ARRIVED pairs, mass per unit of the product.

    The consignment mass is the last weight measured at or before departure
    (the declared weight if none), divided by the manifest's total quantity:
    the mass one unit carries on that leg. The mode is the manifest's.
    """
    legs: list[TransportLeg] = []
    for shipment, _qty in _shipments_for(session, passport_id):
        manifest = session.get(ShipmentManifest, shipment.id)
        if manifest is None:
            continue
        total_units = sum(
            session.scalars(
                select(ManifestLine.quantity).where(ManifestLine.shipment_id == shipment.id)
            )
        )
        milestones = session.scalars(
            select(Milestone)
            .where(Milestone.shipment_id == shipment.id, Milestone.corrected_by_index.is_(None))
            .order_by(Milestone.index)
        ).all()
        weight = shipment.declared_weight_grams
        departed: Milestone | None = None
        for m in milestones:
            if m.measured_weight_grams and departed is None:
                weight = m.measured_weight_grams
            if m.kind == MilestoneType.DEPARTED:
                departed = m
            elif m.kind == MilestoneType.ARRIVED and departed is not None:
                legs.append(
                    TransportLeg(
                        mode=manifest.transport_mode,
                        mass=weight / max(1, total_units),
                        mass_unit="g",
                        origin=departed.location or shipment.origin,
                        destination=m.location or shipment.destination,
                        source=(
                            f"shipment {shipment.id}: DEPARTED #{departed.index} "
                            f"({departed.tx_hash}) → ARRIVED #{m.index} ({m.tx_hash})"
                        ),
                    )
                )
                departed = None
    return legs
