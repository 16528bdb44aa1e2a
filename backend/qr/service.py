"""Resolver logic: Digital Link → passport, page view, JSON, proof bundle, EPCIS.

Resolution order for a link: the item passport (GTIN + lot + serial as given),
then the batch passport (GTIN + lot), then the model passport (GTIN); the page
says which one answered. Passport data comes from the passports public reads, the
journey and transport legs from the shipments service, anchoring proofs of the
supply events about the passport from the anchoring tables.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.anchoring.models import AnchorBatch, EventProof
from backend.chain.deployments import Deployment
from backend.chain.eip712 import typed_data_payload
from backend.chain.organisations import Role
from backend.chain.passports import claim_type
from backend.chain.typed_data.events import SUBJECT_DELEGATION, SUPPLY_EVENT, events_domain
from backend.chain.typed_data.shipments import MilestoneType
from backend.epcis.document import MilestoneEvent, Quantity, epcis_document
from backend.epcis.identifiers import LocodeLocation
from backend.epcis.vocabulary import MilestoneCode
from backend.errors import InvalidInput, NotFound
from backend.events.models import SupplyEvent
from backend.gs1.digital_link import DigitalLink, KeyLevel, build_digital_link
from backend.gs1.keys import key as gs1_key
from backend.orgs.authority import org_ids_of
from backend.orgs.directory import parties
from backend.orgs.models import Delegation, Organisation, RegistryKey, SignerKey
from backend.orgs.service import Principal
from backend.orgs.subjects import EVERY_PASSPORT, Basis, speakers
from backend.passports import public as passports_public
from backend.passports.canonical import document_hash
from backend.passports.schemas import PassportDocument, parse_document
from backend.qr import page as assemble
from backend.qr import view
from backend.qr.bundle import BUNDLE_FORMAT, VERIFICATION_STEPS
from backend.qr.images import label_sheet_svgs
from backend.qr.linkset import linkset
from backend.qr.render import render_product_page
from backend.shipments import public as shipments_public
from backend.shipments import queries as shipments_queries

PAGE_ANCHORS = {
    "gs1:traceability": "#journey",
    "gs1:certificationInfo": "#certifications",
    "gs1:sustainabilityInfo": "#footprint",
}
LEVEL_TEXT = {"item": "item passport", "batch": "batch passport", "model": "model passport"}
RECALL_INSTRUCTIONS = "Stop using the product and contact the seller for a refund or replacement."


@dataclass(frozen=True, slots=True)
class Resolved:
    """The passport that answers a link, and at which level it was found."""

    link: DigitalLink
    passport_id: str
    level: KeyLevel
    passport: Any  # passports_public.public_passport(...)


def resolve(*, session: Session, link: DigitalLink) -> Resolved:
    """The most specific passport for ``link``; :class:`NotFound` if none is published."""
    for key in link.fallbacks():
        passport = passports_public.public_passport(session=session, passport_id=key.passport_id)
        if passport is not None and passport.document is not None:
            return Resolved(
                link.without_link_type(), "0x" + key.passport_id.hex(), key.level, passport
            )
    raise NotFound(f"no passport is published for {link.hri}")


def by_id(*, session: Session, passport_id: str) -> Resolved:
    pid = passport_id.lower()
    passport = passports_public.public_passport(session=session, passport_id=bytes.fromhex(pid[2:]))
    if passport is None or passport.document is None or passport.gtin is None:
        raise NotFound(f"no passport {pid}")
    link = build_digital_link(passport.gtin, lot=passport.lot, serial=passport.serial)
    return Resolved(link, pid, link.level, passport)


def link_header(path: str, *, base: str) -> str:
    """RFC 8288 ``Link`` header of a Digital Link path: its linkset and its page."""
    page = base.rstrip("/") + path
    return (
        f'<{page}?linkType=all>; rel="linkset"; type="application/linkset+json", '
        f'<{page}>; rel="https://gs1.org/voc/pip"; type="text/html"'
    )


RESTRICTED_READERS = {
    "legitimate_interest": "organisations with a legitimate interest (repair, recycling)",
    "authority": "authorities",
}


def linkset_for(resolved: Resolved, *, base: str) -> dict[str, Any]:
    return linkset(resolved.link, base=base, credential=credential_for(resolved, base=base))


def credential_for(resolved: Resolved, *, base: str) -> str:
    """The UNTP DPP credential of the resolved passport's latest version."""
    return f"{base.rstrip('/')}/v1/passports/{resolved.passport_id}/credential"


# -- events and proofs ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EventRecord:
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
        .outerjoin(
            EventProof,
            (EventProof.event_id == SupplyEvent.id) & (EventProof.batch_id == SupplyEvent.batch_id),
        )
        .outerjoin(AnchorBatch, AnchorBatch.id == SupplyEvent.batch_id)
        .where(SupplyEvent.subject == passport_id, SupplyEvent.org_id.in_(allowed))
        .order_by(SupplyEvent.occurred_at, SupplyEvent.id)
    ).all()
    return [
        EventRecord(ev, pr.leaf if pr else None, json.loads(pr.proof) if pr else None, batch)
        for ev, pr, batch in rows
    ]


def _typed_data(event: SupplyEvent, chain_id: int, registry: str) -> dict[str, Any]:
    message = {
        "eventId": event.event_id,
        "subject": event.subject,
        "kind": event.kind,
        "occurredAt": event.occurred_at,
        "location": "0x" + event.location.encode("ascii").ljust(8, b"\0").hex(),
        "payloadHash": event.payload_hash,
    }
    return typed_data_payload(events_domain(chain_id, registry), SUPPLY_EVENT, message)


# -- page ---------------------------------------------------------------------------------


def weight_text(measured_grams: int, reference_grams: int, declared_grams: int) -> str:
    """A discrepancy in words, naming what the weight was compared with.

    The contract compares a measurement with the declared weight and with the
    previous measurement; the recorded reference says which one failed.
    """
    against = "declared" if reference_grams == declared_grams else "measured earlier"
    return f"weighed {measured_grams / 1000:g} kg against {reference_grams / 1000:g} kg {against}"


def _journey_steps(journey: Any) -> list[assemble.JourneyStep]:
    """The live (uncorrected) milestones of one shipment carrying the product."""
    steps = []
    declared = journey.shipment.declared_weight_grams
    for m in journey.shipment.milestones:
        if m.corrected_by_index is not None:
            continue
        weight = None
        if m.weight_measured_grams is not None and m.weight_reference_grams is not None:
            weight = weight_text(m.weight_measured_grams, m.weight_reference_grams, declared)
        steps.append(
            assemble.JourneyStep(
                milestone=MilestoneType(m.milestone).name,
                occurred_at=datetime.fromtimestamp(m.occurred_at, UTC),
                location=m.location,
                signer=m.signer,
                reason_code=m.reason_code,
                late=m.late,
                weight_discrepancy=weight,
            )
        )
    return steps


def _shipment_journeys(
    journeys: Sequence[Any], names: Mapping[str, view.Signer]
) -> tuple[view.ShipmentJourney, ...]:
    """One group per shipment (route, milestones), oldest first; unmoved ones last."""
    groups = [
        view.ShipmentJourney(
            origin=assemble.locode_place(j.shipment.origin),
            destination=assemble.locode_place(j.shipment.destination),
            milestones=assemble.journey(_journey_steps(j), names),
        )
        for j in journeys
    ]
    far_future = datetime.max.replace(tzinfo=UTC)
    return tuple(sorted(groups, key=lambda g: g.started or far_future))


def _document(passport: Any) -> PassportDocument:
    return parse_document(passport.document)


def _tamper(passport: Any) -> view.Tamper | None:
    served = "0x" + document_hash(passport.document).hex()
    anchored = (passport.document_hash or "").lower()
    if served == anchored:
        return None
    return view.Tamper(document="passport document", anchored_hash=anchored, served_hash=served)


def _proof(
    passport: Any,
    events: Sequence[EventRecord],
    journeys: Sequence[Any],
    chain_id: int,
    deployment: Deployment,
    names: Mapping[str, view.Signer],
) -> view.ChainProof | None:
    if any(not e.anchored for e in events):
        return None  # signed, waiting for the next anchoring batch
    addresses = {e.event.signer for e in events}
    for journey in journeys:
        addresses.update(m.signer for m in journey.shipment.milestones)
    addresses.add(passport.issuer)
    named = sorted((names[a.lower()] for a in addresses), key=lambda s: (s.name.lower(), s.address))
    signers = tuple(named)
    latest = max(events, key=lambda e: (e.batch.block_number or 0) if e.batch else 0, default=None)
    if latest is not None and latest.batch is not None and latest.batch.tx_hash is not None:
        batch = latest.batch
        return view.ChainProof(
            chain_id=chain_id,
            chain_name=assemble.chain_name(chain_id),
            contract=deployment.address("AnchorRegistry"),
            transaction=batch.tx_hash or "",
            block_number=batch.block_number or 0,
            merkle_root=batch.root,
            signers=signers,
            anchored_at=batch.anchored_at or batch.created_at,
        )
    return view.ChainProof(
        chain_id=chain_id,
        chain_name=assemble.chain_name(chain_id),
        contract=deployment.address("ProductPassportRegistry"),
        transaction=passport.tx_hash,
        block_number=passport.block_number,
        merkle_root="",
        signers=signers,
        anchored_at=None,
    )


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


def _as_brand(signer: view.Signer) -> view.Signer:
    """The issuer key in its role for this product (it may also sign milestones as seller)."""
    return replace(signer, role="brand") if signer.verified else signer


def _attested(passport: Any, names: Mapping[str, view.Signer]) -> dict[str, assemble.Attested]:
    """Document certification id → the on-chain attestation backing it.

    An attestation backs a certification when its claim is ``keccak256(certification
    id)``, it is about the current version and a registered organisation holds the
    certifier key; anything else leaves the certification "declared by the brand".
    """
    claims = {}
    for a in passport.attestations:
        certifier = names.get(a.certifier.lower())
        if a.version != passport.version or certifier is None or not certifier.verified:
            continue
        claims[a.claim.lower()] = assemble.Attested(
            certifier=certifier,
            valid_until=datetime.fromtimestamp(a.valid_until, UTC).date(),
            revoked=a.status == "revoked",
        )
    doc = passport.document or {}
    out = {}
    for cert in doc.get("certifications", []):
        claim = "0x" + claim_type(str(cert.get("id", ""))).hex()
        if claim in claims:
            out[str(cert["id"])] = claims[claim]
    return out


def product_page(
    *, session: Session, chain_id: int, deployment: Deployment, resolved: Resolved, base: str
) -> view.ProductPage:
    """The page view of a resolved passport."""
    passport = resolved.passport
    pid_bytes = bytes.fromhex(resolved.passport_id[2:])
    doc = _document(passport)
    journeys = shipments_public.journey_for_passport(session=session, passport_id=pid_bytes)
    legs = shipments_public.transport_legs(session=session, passport_id=pid_bytes)
    carbon, water = assemble.carbon_stages(doc, legs)
    events = supply_events(session=session, passport_id=resolved.passport_id)
    names = signer_names(
        session=session,
        passport=passport,
        journeys=journeys,
        events=events,
        passport_id=resolved.passport_id,
    )
    brand = _as_brand(names[passport.issuer.lower()])
    recall = None
    if passport.status == "recalled":
        recall = view.Recall(
            reason=passport.reason or "Recalled by the issuer",
            issued_at=None,
            instructions=RECALL_INSTRUCTIONS,
        )
    link = resolved.link
    level = LEVEL_TEXT[resolved.level]
    if resolved.level == "batch" and link.lot is not None:
        level += f" (lot {link.lot})"
    if resolved.level != link.level:
        level += ": no passport for this exact item, showing the closest one"
    origin = doc.origin
    return view.ProductPage(
        product_name=doc.product.name,
        brand=brand.name,
        brand_signer=brand,
        gtin=link.gtin,
        lot=link.lot,
        serial=link.serial,
        digital_link=link.uri(base),
        proof_bundle_url=f"/proof-bundle/{resolved.passport_id}.json",
        credential_url=f"/v1/passports/{resolved.passport_id}/credential",
        description=doc.product.description,
        origin=view.Place(
            origin.country,
            region=origin.region,
            facility=assemble.facility_text(origin.facility_id),
        ),
        materials=tuple(
            view.Material(
                name=m.name,
                share_percent=assemble._dec(m.mass_share_pct),
                origin=view.Place(m.origin_country),
                recycled_percent=assemble._dec(m.recycled_share_pct)
                if m.recycled_share_pct
                else None,
            )
            for m in doc.materials
        ),
        carbon=carbon,
        water=water,
        certifications=assemble.certifications(doc, date.today(), _attested(passport, names)),
        restricted=tuple(
            (r.name.replace("_", " ").capitalize(), RESTRICTED_READERS[r.access])
            for r in doc.restricted_sections or ()
        ),
        journey=assemble.journey([s for j in journeys for s in _journey_steps(j)], names),
        shipments=_shipment_journeys(journeys, names),
        anchored_on=assemble.chain_kind(chain_id),
        recall=recall,
        proof=_proof(passport, events, journeys, chain_id, deployment, names),
        tamper=_tamper(passport),
        resolved_level=level,
        qr_image_src="/qr" + link.path + ".svg",
    )


# Stored pages are recomputed when their data changes (``backend.qr.pages``); browsers
# and shared caches revalidate with the ETag after 15 seconds, so a recall shows at
# most that late downstream and never at the origin.
PAGE_CACHE_CONTROL = "public, max-age=15"


def page_bytes(
    *, session: Session, chain_id: int, deployment: Deployment, resolved: Resolved, base: str
) -> bytes:
    """The rendered page of ``resolved`` (a link answered by a less specific passport)."""
    return render_product_page(
        product_page(
            session=session, chain_id=chain_id, deployment=deployment, resolved=resolved, base=base
        )
    ).encode()


def public_json(
    *,
    session: Session,
    chain_id: int,
    deployment: Deployment,
    resolved: Resolved,
    base: str,
    link_type: str,
) -> dict[str, Any]:
    """The public view (and its proof bundle) as JSON; a linkType narrows it to one section."""
    page = view.public_dict(
        product_page(
            session=session, chain_id=chain_id, deployment=deployment, resolved=resolved, base=base
        )
    )
    if link_type == "gs1:certificationInfo":
        return {
            "digital_link": page["digital_link"],
            "state": page["state"],
            "certifications": page["certifications"],
        }
    if link_type == "gs1:sustainabilityInfo":
        return {
            "digital_link": page["digital_link"],
            "state": page["state"],
            "carbon": page["carbon"],
            "water": page["water"],
        }
    return {
        "passport": page,
        "proof_bundle": proof_bundle(
            session=session,
            chain_id=chain_id,
            deployment=deployment,
            passport_id=resolved.passport_id,
            base=base,
        ),
    }


# -- proof bundle -----------------------------------------------------------------------


def proof_bundle(
    *, session: Session, chain_id: int, deployment: Deployment, passport_id: str, base: str
) -> dict[str, Any]:
    """A self-contained bundle that verifies against the chain with no Waymark API."""
    resolved = by_id(session=session, passport_id=passport_id)
    passport = resolved.passport
    registry = deployment.address("AnchorRegistry")
    records = supply_events(session=session, passport_id=resolved.passport_id)
    journeys = shipments_public.journey_for_passport(
        session=session, passport_id=bytes.fromhex(resolved.passport_id[2:])
    )
    names = signer_names(
        session=session,
        passport=passport,
        journeys=journeys,
        events=records,
        passport_id=resolved.passport_id,
    )
    windows = _key_windows(
        session,
        [(r.event.signer_key_id, r.event.signer) for r in records],
        deployment.address("OrganisationRegistry"),
    )
    evidence = _Evidence(session, resolved.passport_id, journeys, chain_id, registry)
    events = []
    for record in records:
        if not record.anchored:
            continue  # nothing proves a pending event yet; the page shows it as pending
        ev = record.event
        entry: dict[str, Any] = {
            "digest": ev.digest,
            "signer": ev.signer,
            "signed_by": _named(names, ev.signer),
            "received_at": _iso(ev.received_at),
            "signer_validity": windows.get((ev.signer_key_id, ev.signer)),
            "signature": ev.signature,
            "typed_data": _typed_data(ev, chain_id, registry),
            "leaf": record.leaf,
            "proof": record.proof,
            "root": record.batch.root if record.anchored and record.batch else None,
            "anchor": None,
            "authorisation": evidence.authorisation(ev.org_id, ev.signer),
        }
        if record.anchored and record.batch is not None:
            entry["anchor"] = {
                "tx_hash": record.batch.tx_hash,
                "block_number": record.batch.block_number,
                "block_hash": record.batch.block_hash,
                "status": record.batch.status,
            }
        events.append(entry)
    milestones = [
        {
            "shipment_id": j.shipment.id,
            "milestone": MilestoneType(m.milestone).name,
            "record_hash": m.record_hash,
            "signer": m.signer,
            "signed_by": _named(names, m.signer),
            "tx_hash": m.tx_hash,
            "block_number": m.block_number,
        }
        for j in journeys
        for m in j.shipment.milestones
    ]
    return {
        "format": BUNDLE_FORMAT,
        "chain_id": chain_id,
        "contracts": {
            name: deployment.address(name)
            for name in (
                "AnchorRegistry",
                "ProductPassportRegistry",
                "ShipmentRegistry",
                "OrganisationRegistry",
            )
            if name in deployment.contracts
        },
        "subject": {
            "gs1_path": gs1_key(passport.gtin, passport.lot, passport.serial).path,
            "digital_link": resolved.link.uri(base),
            "passport_id": resolved.passport_id,
            "level": resolved.level,
        },
        "passport": {
            "version": passport.version,
            "issuer": passport.issuer,
            "issued_by": _named(
                {passport.issuer.lower(): _as_brand(names[passport.issuer.lower()])},
                passport.issuer,
            ),
            "status": passport.status,
            "document": passport.document,
            "canonical_hash": "0x" + document_hash(passport.document).hex(),
            "on_chain_document_hash": passport.document_hash,
            "tx_hash": passport.tx_hash,
            "block_number": passport.block_number,
        },
        "delegations": evidence.delegations,
        "events": events,
        "milestones": milestones,
        "parties": [_named(names, a) for a in sorted({n.address for n in names.values()})],
        "verification": {
            "steps": list(VERIFICATION_STEPS),
            "leaf": "keccak256(keccak256(digest)) (OpenZeppelin StandardMerkleTree, bytes32 value)",
            "document_hash": "keccak256(RFC 8785 JSON canonicalisation of passport.document)",
        },
    }


class _Evidence:
    """Why each event's organisation may speak for the passport, in terms a verifier checks.

    The basis is the subject rule's (``backend.orgs.subjects``); a delegate's grant is
    carried as the issuer signed it, and a shipment party names the shipment whose
    on-chain parties include the signing key.
    """

    def __init__(
        self, session: Session, pid: str, journeys: Sequence[Any], chain_id: int, registry: str
    ) -> None:
        self.session = session
        self.pid = pid
        self.bases = speakers(session=session, subjects=[pid])[pid].orgs
        self.issuer_org = next((o for o, b in self.bases.items() if b is Basis.ISSUER), None)
        self.domain = events_domain(chain_id, registry)
        self.journeys = journeys
        sellers = [j.shipment.seller for j in journeys]
        self.seller_orgs = org_ids_of(session, sellers)
        self.delegations: list[dict[str, Any]] = []
        self._index: dict[int, int] = {}  # delegate organisation → its grant's index

    def _grant(self, delegate_org: int) -> int | None:
        if delegate_org in self._index:
            return self._index[delegate_org]
        row = self.session.execute(
            select(Delegation, Organisation.slug)
            .join(Organisation, Organisation.id == Delegation.delegate_org_id)
            .where(
                Delegation.issuer_org_id == self.issuer_org,
                Delegation.delegate_org_id == delegate_org,
                Delegation.revoked_at.is_(None),
                Delegation.subject.in_([self.pid, EVERY_PASSPORT]),
            )
            .order_by(Delegation.id)
        ).first()
        if row is None:
            return None
        grant, slug = row
        message = {
            "issuer": grant.signer,
            "subject": bytes.fromhex(grant.subject[2:]),
            "delegate": slug,
            "salt": bytes.fromhex(grant.salt[2:]),
        }
        self.delegations.append(
            {
                "typed_data": typed_data_payload(self.domain, SUBJECT_DELEGATION, message),
                "signature": grant.signature,
                "digest": grant.digest,
            }
        )
        self._index[delegate_org] = len(self.delegations) - 1
        return self._index[delegate_org]

    def authorisation(self, org_id: int | None, signer: str) -> dict[str, Any] | None:
        basis = self.bases.get(org_id) if org_id is not None else None
        if basis is Basis.ISSUER:
            return {"basis": "issuer"}
        if basis is Basis.DELEGATE and org_id is not None:
            return {"basis": "delegate", "delegation": self._grant(org_id)}
        if basis is Basis.SHIPMENT_PARTY:
            for j in self.journeys:
                sh = j.shipment
                keys = {
                    a.lower()
                    for a in (sh.seller, *sh.carriers, sh.warehouse, sh.customs_broker)
                    if a
                }
                if signer.lower() not in keys:
                    continue
                seller_org = self.seller_orgs.get(sh.seller.lower())
                out: dict[str, Any] = {"basis": "shipment_party", "shipment_id": sh.id}
                if seller_org is not None and seller_org != self.issuer_org:
                    grant = self._grant(seller_org)
                    if grant is None:
                        continue
                    out["delegation"] = grant
                return out
        return None


def _named(names: Mapping[str, view.Signer], address: str) -> dict[str, Any]:
    """A key as the bundle names it: organisation, role and whether it is registered."""
    signer = names.get(address.lower())
    return {
        "address": address,
        "organisation": signer.name if signer and signer.verified else None,
        "role": signer.role if signer else None,
        "verified": bool(signer and signer.verified),
    }


def _key_windows(
    session: Session, keys: Sequence[tuple[int | None, str]], registry: str
) -> dict[tuple[int | None, str], dict[str, Any]]:
    """(signer key id, address) → the key's validity: the service's receipt-time window
    where it registered the key, and the ``OrganisationRegistry`` window (added at
    block, revoked at block) from the indexed read model, which also covers keys an
    organisation added on chain directly. None for a key neither knows."""
    wanted = set(keys)
    ids = sorted({k for k, _ in wanted if k})
    service = (
        {k.id: k for k in session.scalars(select(SignerKey).where(SignerKey.id.in_(ids)))}
        if ids
        else {}
    )
    addresses = sorted({a for _, a in wanted})
    chain = {
        k.key: k
        for i in range(0, len(addresses), 500)
        for k in session.scalars(
            select(RegistryKey).where(RegistryKey.key.in_(addresses[i : i + 500]))
        )
    }
    out: dict[tuple[int | None, str], dict[str, Any]] = {}
    for key_id, address in wanted:
        own = service.get(key_id) if key_id else None
        held = chain.get(address)
        if own is None and held is None:
            continue
        out[(key_id, address)] = {
            "valid_from": _iso(own.valid_from) if own else None,
            "revoked_at": _iso(own.revoked_at) if own and own.revoked_at else None,
            "source": "service signer record" if own else "OrganisationRegistry",
            "registry": {
                "contract": registry,
                "organisation_id": held.org_id,
                "roles": Role(held.roles).names(),
                "valid_from_block": held.added_block,
                "revoked_at_block": held.revoked_block,
                "added_in": held.tx_hash,
            }
            if held
            else None,
        }
    return out


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


# -- EPCIS -------------------------------------------------------------------------------


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


def passport_epcis(*, session: Session, resolved: Resolved) -> dict[str, Any]:
    """The passport's journey as an EPCIS 2.0 document (validated against the GS1 schema)."""
    journeys = shipments_public.journey_for_passport(
        session=session, passport_id=bytes.fromhex(resolved.passport_id[2:])
    )
    events = [
        _epcis_event(m, resolved.link, j.quantity)
        for j in journeys
        for m in j.shipment.milestones
        if m.corrected_by_index is None
    ]
    return epcis_document(events)


def _line_link(session: Session, line: dict[str, Any]) -> DigitalLink | None:
    if line.get("gtin"):
        return build_digital_link(line["gtin"], lot=line.get("lot"), serial=line.get("serial"))
    passport = passports_public.public_passport(
        session=session, passport_id=bytes.fromhex(str(line["passportId"])[2:])
    )
    if passport is None or passport.gtin is None:
        return None
    return build_digital_link(passport.gtin, lot=passport.lot, serial=passport.serial)


def shipment_epcis(*, session: Session, principal: Principal, shipment_id: str) -> dict[str, Any]:
    """A shipment's milestones (all its manifest lines) as an EPCIS 2.0 document.

    Shipments are not public: the seller and the shipment's parties may export them.
    """
    sid = shipment_id.lower()
    detail = shipments_queries.get_shipment(session=session, principal=principal, shipment_id=sid)
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


# -- labels ------------------------------------------------------------------------------


def labels(
    *, gtin: str, lot: str | None, serials: Sequence[str], columns: int, fmt: str, base: str
) -> tuple[str, str]:
    """Label sheets for ``serials``: one SVG page, or an HTML document of all pages."""
    links = [build_digital_link(gtin, lot=lot, serial=s) for s in serials]
    pages = label_sheet_svgs(links, base=base, columns=columns)
    if fmt == "svg":
        if len(pages) > 1:
            raise InvalidInput(
                f"{len(links)} labels need {len(pages)} pages; ask for format=html to get them all"
            )
        return pages[0], "image/svg+xml"
    body = "".join(f'<section class="sheet">{p}</section>' for p in pages)
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Labels</title>'
        "<style>@page{size:A4;margin:0}.sheet{page-break-after:always}"
        ".sheet svg{width:210mm;height:297mm;display:block}</style></head>"
        f"<body>{body}</body></html>"
    )
    return html, "text/html; charset=utf-8"
