"""What shipments tell the subject rule: which shipments carry a passport, and their parties."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.db.lists import among
from backend.orgs.authority import org_ids_of
from backend.orgs.subjects import Basis, SubjectFacts, chunks
from backend.shipments.models import ManifestLine, Shipment, ShipmentManifest

#: A seller lists a passport in a manifest, and its shipments show on the passport's
#: pages, only while it speaks for the passport as its issuer or one of its delegates.
MANIFEST_BASES = frozenset({Basis.ISSUER, Basis.DELEGATE})


def shipment_subjects(session: Session, subjects: Collection[str]) -> SubjectFacts:
    """Shipments carrying each subject (as a passport), and the parties of those and of
    each subject that is itself a shipment: the seller's organisation, and the
    organisations of the carrier, warehouse and broker keys the shipment names."""
    facts = SubjectFacts()
    for chunk in chunks(subjects):
        for sid, pid in session.execute(
            select(ManifestLine.shipment_id, ManifestLine.passport_id).where(
                among(session, ManifestLine.passport_id, chunk)
            )
        ):
            facts.carried_by[pid].add(sid)
        # A subject that is a shipment: the passports it carries.
        for sid, pid in session.execute(
            select(ManifestLine.shipment_id, ManifestLine.passport_id).where(
                among(session, ManifestLine.shipment_id, chunk)
            )
        ):
            facts.carries[sid].add(pid)
    shipment_ids = {sid for group in facts.carried_by.values() for sid in group} | set(subjects)
    named: dict[str, set[str]] = {}
    for chunk in chunks(shipment_ids):
        for sid, org in session.execute(
            select(ShipmentManifest.shipment_id, ShipmentManifest.org_id).where(
                among(session, ShipmentManifest.shipment_id, chunk)
            )
        ):
            facts.sellers[sid] = org
            facts.parties[sid].add(org)
        for s in session.scalars(select(Shipment).where(among(session, Shipment.id, chunk))):
            named[s.id] = {a for a in (s.seller, *s.carriers, s.warehouse, s.customs_broker) if a}
    orgs = org_ids_of(session, {a for group in named.values() for a in group})
    for sid, addresses in named.items():
        facts.parties[sid].update(orgs[a.lower()] for a in addresses if a.lower() in orgs)
    return facts
