"""The public tracking view of a labelled shipment: what a logistic label's QR code opens.

Anyone holding the label may see where the unit is: its status, route, milestones
with time and place, who holds it, customs status and lateness. Nothing
commercial is shown: no manifest lines, products, quantities, weights or prices,
and parties appear by organisation name only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.chain.typed_data.shipments import MilestoneType
from backend.errors import NotFound
from backend.gs1.sscc import sscc_hri, sscc_path
from backend.orgs.models import Organisation, SignerKey
from backend.qr.images import qr_svg
from backend.shipments.models import Milestone, OverdueFlag, Shipment, ShipmentManifest

TEMPLATES = Path(__file__).resolve().parent / "templates"

STATUS_WORDS = {
    "created": "Registered, waiting for pick-up",
    "picked_up": "Picked up by the carrier",
    "export_cleared": "Cleared for export",
    "in_transit": "In transit",
    "arrived": "Arrived at the destination port",
    "customs_hold": "Held by customs",
    "import_cleared": "Cleared for import",
    "in_warehouse": "In the warehouse",
    "out_for_delivery": "Out for delivery",
    "delivered": "Delivered",
    "returned": "Returned",
    "lost": "Reported lost",
}
CUSTOMS_WORDS = {
    MilestoneType.EXPORT_CLEARED: "cleared for export",
    MilestoneType.CUSTOMS_HOLD: "held by customs",
    MilestoneType.CUSTOMS_RELEASED: "released by customs",
    MilestoneType.IMPORT_CLEARED: "cleared for import",
}


def milestone_words(kind: int) -> str:
    return MilestoneType(kind).name.replace("_", " ").capitalize()


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


@dataclass
class TrackingView:
    sscc: str
    hri: str
    link: str
    status: str
    status_words: str
    origin: str | None
    destination: str | None
    customs: str | None = None
    late: bool = False
    overdue: list[str] = field(default_factory=list)
    holder: str | None = None
    milestones: list[dict[str, Any]] = field(default_factory=list)
    custody: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "sscc": self.sscc,
            "digital_link": self.link,
            "status": self.status,
            "status_text": self.status_words,
            "origin": self.origin,
            "destination": self.destination,
            "customs": self.customs,
            "late": self.late,
            "overdue_milestones": self.overdue,
            "current_holder": self.holder,
            "milestones": self.milestones,
            "custody": self.custody,
        }


def _names(session: Session, addresses: set[str]) -> dict[str, str]:
    rows = session.execute(
        select(SignerKey.address, Organisation.name)
        .join(Organisation, Organisation.id == SignerKey.org_id)
        .where(SignerKey.address.in_(addresses))
    ).all()
    return {address: name for address, name in rows}


def tracking_view(*, session: Session, sscc: str, base: str) -> TrackingView:
    """The public view of the shipment labelled ``sscc`` (404 when none is)."""
    manifest = session.scalar(select(ShipmentManifest).where(ShipmentManifest.sscc == sscc))
    if manifest is None:
        raise NotFound(f"no shipment is labelled with SSCC {sscc}")
    link = base.rstrip("/") + sscc_path(sscc)
    shipment = session.get(Shipment, manifest.shipment_id)
    if shipment is None:  # submitted, not on chain yet
        return TrackingView(
            sscc=sscc,
            hri=sscc_hri(sscc),
            link=link,
            status="pending",
            status_words="Registered, being recorded",
            origin=None,
            destination=None,
        )
    milestones = [
        m
        for m in session.scalars(
            select(Milestone).where(Milestone.shipment_id == shipment.id).order_by(Milestone.index)
        )
        if m.corrected_by_index is None
    ]
    flags = session.scalars(
        select(OverdueFlag.milestone).where(OverdueFlag.shipment_id == shipment.id)
    ).all()
    parties = {m.custodian for m in milestones if m.custodian} | {m.signer for m in milestones}
    names = _names(session, {p for p in parties if p})

    def who(address: str | None) -> str | None:
        if address is None:
            return None
        return names.get(address, f"unregistered party {address[:6]}…{address[-4:]}")

    customs = None
    custody = []
    for m in milestones:
        if m.kind in CUSTOMS_WORDS:
            customs = CUSTOMS_WORDS[MilestoneType(m.kind)]
        if m.kind in (MilestoneType.PICKED_UP, MilestoneType.HANDOVER) and m.custodian:
            custody.append({"holder": who(m.custodian), "since": _iso(m.occurred_at)})
    return TrackingView(
        sscc=sscc,
        hri=sscc_hri(sscc),
        link=link,
        status=shipment.status,
        status_words=STATUS_WORDS.get(shipment.status, shipment.status),
        origin=shipment.origin,
        destination=shipment.destination,
        customs=customs,
        late=any(m.late for m in milestones) or bool(flags),
        overdue=[milestone_words(f) for f in flags],
        holder=who(shipment.custodian),
        milestones=[
            {
                "milestone": milestone_words(m.kind),
                "at": _iso(m.occurred_at),
                "location": m.location or None,
                "late": m.late,
            }
            for m in milestones
        ],
        custody=custody,
    )


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_tracking(view: TrackingView) -> str:
    return _env().get_template("tracking.html").render(view=view, static_base="/static")


def render_label(view: TrackingView, *, carrier: str | None) -> str:
    """A printable A6 logistic label: SSCC in text and as a QR code of its Digital Link."""
    svg = qr_svg(view.link, module_mm=0.6, title=f"SSCC {view.sscc}")
    qr = svg[svg.index("<svg") :]  # inline: without the XML declaration
    return _env().get_template("label.html").render(view=view, qr=qr, carrier=carrier)


def carrier_name(*, session: Session, sscc: str) -> str | None:
    """The first carrier's organisation name, for the label's carrier box."""
    manifest = session.scalar(select(ShipmentManifest).where(ShipmentManifest.sscc == sscc))
    shipment = session.get(Shipment, manifest.shipment_id) if manifest else None
    if shipment is None or not shipment.carriers:
        return None
    return _names(session, {shipment.carriers[0]}).get(shipment.carriers[0])
