"""Export of journeys as EPCIS 2.0 documents: a passport's (public) and a shipment's
(its seller and parties only), built from the shipments' indexed milestones."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from backend.chain.typed_data.shipments import MilestoneType
from backend.common.types import hex_bytes
from backend.epcis.document import MilestoneEvent, Quantity, epcis_document
from backend.epcis.identifiers import LocodeLocation
from backend.epcis.vocabulary import MilestoneCode
from backend.gs1.digital_link import DigitalLink, build_digital_link
from backend.orgs.service import Principal
from backend.passports import public as passports_public
from backend.shipments import public as shipments_public
from backend.shipments import queries as shipments_queries


def _epcis_event(m: Any, link: DigitalLink, quantity: int) -> MilestoneEvent:
    """A milestone for one passport: the item itself, or the batch / model quantity carried."""
    serialised = link.serial is not None
    return MilestoneEvent(
        milestone=MilestoneCode[MilestoneType(m.milestone).name],
        at=datetime.fromtimestamp(m.occurred_at, UTC),
        read_point=LocodeLocation(m.location) if m.location else None,
        items=(link,) if serialised else (),
        quantities=() if serialised else (Quantity(link, Decimal(quantity)),),
        reason_code=m.reason_code,
    )


def passport_epcis(*, session: Session, passport_id: str, link: DigitalLink) -> dict[str, Any]:
    """The journey of passport ``passport_id`` (answering ``link``) as an EPCIS 2.0 document
    (validated against the GS1 schema)."""
    journeys = shipments_public.journey_for_passport(
        session=session, passport_id=hex_bytes(passport_id)
    )
    events = [
        _epcis_event(m, link, j.quantity)
        for j in journeys
        for m in j.shipment.milestones
        if m.corrected_by_index is None
    ]
    return epcis_document(events)


def _line_link(session: Session, line: dict[str, Any]) -> DigitalLink | None:
    """The Digital Link a manifest line names (None: a passport not indexed yet)."""
    if line.get("gtin"):
        return build_digital_link(line["gtin"], lot=line.get("lot"), serial=line.get("serial"))
    passport = passports_public.public_passport(
        session=session, passport_id=hex_bytes(str(line["passportId"]))
    )
    if passport is None or passport.gtin is None:
        return None
    return build_digital_link(passport.gtin, lot=passport.lot, serial=passport.serial)


def shipment_epcis(*, session: Session, principal: Principal, shipment_id: bytes) -> dict[str, Any]:
    """A shipment's milestones (all its manifest lines) as an EPCIS 2.0 document.

    Shipments are not public: the seller and the shipment's parties may export them.
    """
    detail = shipments_queries.get_shipment(
        session=session, principal=principal, shipment_id=shipment_id
    )
    lines: list[Any] = list(detail.manifest.get("lines", [])) if detail.manifest else []  # type: ignore[call-overload]
    items: list[DigitalLink] = []
    quantities: list[Quantity] = []
    for line in lines:
        link = _line_link(session, line)
        if link is None:
            continue  # a passport id the indexer has not seen: nothing to name it by yet
        if link.serial:
            items.append(link)
        else:
            quantities.append(Quantity(link, Decimal(line.get("quantity", 1))))
    events = [
        MilestoneEvent(
            milestone=MilestoneCode[MilestoneType(m.milestone).name],
            at=datetime.fromtimestamp(m.occurred_at, UTC),
            read_point=LocodeLocation(m.location) if m.location else None,
            items=tuple(items),
            quantities=tuple(quantities),
            reason_code=m.reason_code,
        )
        for m in detail.milestones
        if m.corrected_by_index is None
    ]
    return epcis_document(events)
