"""What a passport's page and proof bundle show as evidence: the signed supply events
about it (with their anchoring proofs) and the keys that signed, named by organisation.

Only events posted by an organisation that speaks for the passport now (the
subject rule, :mod:`backend.orgs.subjects`) are shown.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.anchoring.models import AnchorBatch, EventProof
from backend.chain.eip712 import typed_data_payload
from backend.chain.typed_data.events import SUPPLY_EVENT, events_domain
from backend.events.models import SupplyEvent
from backend.orgs.directory import parties
from backend.orgs.subjects import Basis, speakers
from backend.qr import view


@dataclass(frozen=True, slots=True)
class EventRecord:
    """A supply event about a passport, with its Merkle leaf, proof and batch once anchored."""

    event: SupplyEvent
    leaf: str | None
    proof: list[str] | None
    batch: AnchorBatch | None

    @property
    def anchored(self) -> bool:
        return (
            self.batch is not None
            and self.batch.status in ("anchored", "final")
            and self.batch.tx_hash is not None
        )


def supply_events(*, session: Session, passport_id: str) -> list[EventRecord]:
    """Authorised signed events about the passport, with their Merkle proof when anchored.

    Only events posted by an organisation that speaks for the passport now (the
    subject rule) are shown: a stranger's events, or a revoked delegate's, are not.
    """
    allowed = list(speakers(session=session, subjects=[passport_id])[passport_id].orgs)
    rows = session.execute(
        select(SupplyEvent, EventProof, AnchorBatch)
        .outerjoin(EventProof, EventProof.event_id == SupplyEvent.id)
        .outerjoin(AnchorBatch, AnchorBatch.id == EventProof.batch_id)
        .where(SupplyEvent.subject == passport_id, SupplyEvent.org_id.in_(allowed))
        .order_by(SupplyEvent.occurred_at, SupplyEvent.id)
    ).all()
    return [
        EventRecord(ev, pr.leaf if pr else None, json.loads(pr.proof) if pr else None, batch)
        for ev, pr, batch in rows
    ]


def event_typed_data(event: SupplyEvent, chain_id: int, registry: str) -> dict[str, Any]:
    """The ``SupplyEvent`` EIP-712 payload the event's signer signed (as wallets show it)."""
    message = {
        "eventId": event.event_id,
        "subject": event.subject,
        "kind": event.kind,
        "occurredAt": event.occurred_at,
        "location": "0x" + event.location.encode("ascii").ljust(8, b"\0").hex(),
        "payloadHash": event.payload_hash,
    }
    return typed_data_payload(events_domain(chain_id, registry), SUPPLY_EVENT, message)


SHIPMENT_ROLES = (
    ("seller", "seller"),
    ("warehouse", "warehouse"),
    ("customs_broker", "customs broker"),
)
BASIS_ROLES = {
    Basis.ISSUER: "brand",
    Basis.DELEGATE: "delegate",
    Basis.SHIPMENT_PARTY: "shipment party",
}


def _roles(passport: Any, journeys: Sequence[Any], events: Sequence[EventRecord]) -> dict[str, str]:
    """lower-case address → the role it signs in for this product."""
    roles: dict[str, str] = {}
    for journey in journeys:
        s = journey.shipment
        for carrier in s.carriers:
            roles.setdefault(carrier.lower(), "carrier")
        for attr, role in SHIPMENT_ROLES:
            value = getattr(s, attr)
            if value:
                roles.setdefault(value.lower(), role)
    for a in passport.attestations:
        roles.setdefault(a.certifier.lower(), "certifier")
    roles.setdefault(passport.issuer.lower(), "brand")
    return roles


def signer_names(
    *,
    session: Session,
    passport: Any,
    journeys: Sequence[Any],
    events: Sequence[EventRecord],
    passport_id: str,
) -> dict[str, view.Signer]:
    """Every key the product page or bundle mentions, named by its verified organisation."""
    roles = _roles(passport, journeys, events)
    bases = speakers(session=session, subjects=[passport_id])[passport_id]
    for e in events:
        basis = bases.basis(e.event.org_id)
        if basis is not None:
            roles.setdefault(e.event.signer.lower(), BASIS_ROLES[basis])
    addresses = set(roles) | {e.event.signer for e in events}
    for journey in journeys:
        addresses.update(m.signer for m in journey.shipment.milestones)
    found = parties(session=session, addresses=addresses)
    return {
        key: view.Signer(p.display, p.address, roles.get(key) if p.verified else None, p.verified)
        for key, p in found.items()
    }


def as_brand(signer: view.Signer) -> view.Signer:
    """The issuer key in its role for this product (it may also sign milestones as seller)."""
    return replace(signer, role="brand") if signer.verified else signer
