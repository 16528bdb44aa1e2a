"""The resolver flow: what a scan of a resolved link answers, as a page or as JSON.

:func:`product_page` gathers the passport (public reads), the journeys and
transport legs of the shipments carrying it (:mod:`backend.shipments.public`),
the supply events and their proofs (:mod:`backend.qr.evidence`) and hands them to
the pure assembly in :mod:`backend.qr.page`; :func:`public_json` adds the proof
bundle (:mod:`backend.qr.bundle.build`). Stored pages are kept by
:mod:`backend.qr.cache`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session

from backend.chain.deployments import Deployment
from backend.chain.passports import claim_type
from backend.chain.typed_data.shipments import MilestoneType
from backend.common.types import hex_bytes, to_hex
from backend.orgs.subjects import remembered
from backend.passports.canonical import document_hash
from backend.passports.schemas import parse_document
from backend.qr import page as assemble
from backend.qr import view
from backend.qr.bundle.build import proof_bundle
from backend.qr.evidence import EventRecord, as_brand, signer_names, supply_events
from backend.qr.render import render_product_page
from backend.qr.resolver import Resolved
from backend.shipments import public as shipments_public

PAGE_ANCHORS = {
    "gs1:traceability": "#journey",
    "gs1:certificationInfo": "#certifications",
    "gs1:sustainabilityInfo": "#footprint",
}
LEVEL_TEXT = {"item": "item passport", "batch": "batch passport", "model": "model passport"}
RECALL_INSTRUCTIONS = "Stop using the product and contact the seller for a refund or replacement."


RESTRICTED_READERS = {
    "legitimate_interest": "organisations with a legitimate interest (repair, recycling)",
    "authority": "authorities",
}


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


def _tamper(passport: Any) -> view.Tamper | None:
    """The served document differs from the anchored hash: both hashes, for the page."""
    served = to_hex(document_hash(passport.document))
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
    """Where the page's facts are anchored (None while an event awaits its batch)."""
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
        claim = to_hex(claim_type(str(cert.get("id", ""))))
        if claim in claims:
            out[str(cert["id"])] = claims[claim]
    return out


def product_page(
    *, session: Session, chain_id: int, deployment: Deployment, resolved: Resolved, base: str
) -> view.ProductPage:
    """The page view of a resolved passport."""
    with remembered(session):
        return _product_page(
            session=session, chain_id=chain_id, deployment=deployment, resolved=resolved, base=base
        )


def _product_page(
    *, session: Session, chain_id: int, deployment: Deployment, resolved: Resolved, base: str
) -> view.ProductPage:
    passport = resolved.passport
    pid_bytes = hex_bytes(resolved.passport_id)
    doc = parse_document(passport.document)
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
    brand = as_brand(names[passport.issuer.lower()])
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
            session=session, chain_id=chain_id, deployment=deployment, resolved=resolved, base=base
        ),
    }
