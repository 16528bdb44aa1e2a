"""What the field app shows a signed-in key: its organisation's shipments and the next steps,
and the milestone drafts it signs (validated field by field, then typed data to sign)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from eth_utils import to_checksum_address
from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.orm import Session

from backend.chain.shipments import ShipmentRegistryClient
from backend.chain.typed_data.shipments import (
    CREATE_SHIPMENT,
    CUSTODY_ACCEPTANCE,
    MAX_EVIDENCE_FILES,
    MILESTONE,
    ZERO_ADDRESS,
    MilestoneType,
    Status,
    shipment_id,
)
from backend.chain.typed_data.shipments import Role as PartyRole
from backend.common.types import hex_bytes, parse_address, to_hex
from backend.errors import NotFound
from backend.fieldapp.milestones import LABELS, REASONS, Offer, expected_next, offers
from backend.fieldapp.service import Identity
from backend.locations import unlocode
from backend.names import display_names
from backend.orgs.authority import signer_keys
from backend.shipments import evidence as photos
from backend.shipments.messages import manifest_hash
from backend.shipments.models import Milestone, Shipment, ShipmentManifest
from backend.shipments.queries import evidence_photos
from backend.shipments.schemas import ManifestIn

MAX_LISTED = 200
SIGNATURE_TTL = 3600
LOCODE = re.compile(r"^[A-Z]{2}[A-Z0-9]{3}$")
MAX_WEIGHT_KG = Decimal(10**9)


@dataclass(frozen=True, slots=True)
class Card:
    """One shipment as a party sees it on the phone."""

    id: str
    reference: str | None
    origin: str
    destination: str
    status: str
    roles: list[str]
    holds: bool
    expected: str
    offers: list[Offer]
    seller_name: str
    # Who may receive the goods in a pickup or handover: (address, display name).
    receivers: list[tuple[str, str]] = field(default_factory=list)

    @property
    def id_bytes(self) -> bytes:
        """The shipment id as bytes (``id`` is its stored 0x-hex form)."""
        return hex_bytes(self.id)


def org_keys(session: Session, identity: Identity) -> set[str]:
    """Every key the registry holds (or is adding) for the signed-in key's organisation."""
    return set(signer_keys(session=session, org_id=identity.org_id))


def _party_roles(s: Shipment, mine: set[str]) -> PartyRole:
    own = {a.lower() for a in mine}
    roles = PartyRole(0)
    if s.seller.lower() in own:
        roles |= PartyRole.SELLER
    if any(c.lower() in own for c in s.carriers):
        roles |= PartyRole.CARRIER
    if s.warehouse and s.warehouse.lower() in own:
        roles |= PartyRole.WAREHOUSE
    if s.customs_broker and s.customs_broker.lower() in own:
        roles |= PartyRole.CUSTOMS_BROKER
    return roles


def _receivers(s: Shipment, mine: set[str]) -> list[str]:
    own = {a.lower() for a in mine}
    parties = [*s.carriers, *([s.warehouse] if s.warehouse else [])]
    return [a for a in dict.fromkeys(parties) if a.lower() not in own]


def _card(s: Shipment, reference: str | None, mine: set[str], names: dict[str, str]) -> Card:
    status = Status[s.status.upper()]
    roles = _party_roles(s, mine)
    holds = s.custodian is not None and s.custodian.lower() in {a.lower() for a in mine}
    receivers = [(a, names.get(a) or a) for a in _receivers(s, mine)]
    return Card(
        id=s.id,
        reference=reference,
        origin=s.origin,
        destination=s.destination,
        status=status.name.replace("_", " ").lower(),
        roles=[r.name.replace("_", " ").lower() for r in PartyRole if r & roles and r.name],
        holds=holds,
        expected=expected_next(status),
        offers=offers(status=status, roles=roles, custodian=s.custodian, mine=mine),
        seller_name=names.get(s.seller) or s.seller,
        receivers=receivers,
    )


def my_shipments(*, session: Session, identity: Identity) -> list[Card]:
    """The shipments where the organisation is a party (seller, carrier, warehouse, broker,
    or holder of the goods), newest first."""
    mine = org_keys(session, identity)
    if not mine:
        return []
    carriers = func.lower(cast(Shipment.carriers, String))
    rows = session.execute(
        select(Shipment, ShipmentManifest.reference)
        .outerjoin(ShipmentManifest, ShipmentManifest.shipment_id == Shipment.id)
        .where(
            or_(
                Shipment.seller.in_(mine),
                Shipment.warehouse.in_(mine),
                Shipment.customs_broker.in_(mine),
                Shipment.custodian.in_(mine),
                *(carriers.contains(a.lower()) for a in mine),
            )
        )
        .order_by(Shipment.block_number.desc(), Shipment.id)
        .limit(MAX_LISTED)
    ).all()
    names = display_names(session=session, addresses=[s.seller for s, _ in rows])
    return [_card(s, ref, mine, names) for s, ref in rows]


def one_shipment(*, session: Session, identity: Identity, shipment_id: bytes) -> Card:
    """One shipment of which the organisation is a party (404 for anyone else)."""
    return _party_card(session, identity, to_hex(shipment_id))


def _party_card(session: Session, identity: Identity, sid: str) -> Card:
    """:func:`one_shipment` by the id's stored 0x-hex form."""
    mine = org_keys(session, identity)
    row = session.execute(
        select(Shipment, ShipmentManifest.reference)
        .outerjoin(ShipmentManifest, ShipmentManifest.shipment_id == Shipment.id)
        .where(Shipment.id == sid)
    ).first()
    if row is None or not (_party_roles(row[0], mine) or row[0].custodian in mine):
        raise NotFound(f"shipment {sid} not found")
    names = display_names(session=session, addresses=[row[0].seller, *_receivers(row[0], mine)])
    return _card(row[0], row[1], mine, names)


@dataclass(frozen=True, slots=True)
class Step:
    """One recorded milestone as the shipment's page lists it, with its evidence photos."""

    label: str
    location: str
    occurred_at: str
    signer_name: str
    photos: list[str]


def journey(*, session: Session, card: Card) -> list[Step]:
    """The shipment's recorded milestones, oldest first, each with the photos its signed
    evidenceHash covers (only those; a photo uploaded but not signed is not shown)."""
    rows = session.scalars(
        select(Milestone).where(Milestone.shipment_id == card.id).order_by(Milestone.index)
    ).all()
    shown = evidence_photos(session, card.id, [m.evidence_hash for m in rows])
    names = display_names(session=session, addresses=[m.signer for m in rows])
    return [
        Step(
            label=LABELS[MilestoneType(m.kind)],
            location=m.location,
            occurred_at=datetime.fromtimestamp(m.occurred_at, UTC).strftime("%d %b %Y %H:%M UTC"),
            signer_name=names.get(m.signer) or m.signer,
            photos=shown.get(m.evidence_hash, []),
        )
        for m in rows
    ]


def route_codes(card: Card) -> frozenset[str]:
    """The shipment's own origin and destination: signed by its seller, always accepted."""
    return frozenset({card.origin, card.destination} - {""})


def shipment_by_sscc(*, session: Session, identity: Identity, sscc: str) -> Card:
    """The shipment whose label carries ``sscc``, for a party of it (404 for anyone else)."""
    found = session.scalar(
        select(ShipmentManifest.shipment_id).where(ShipmentManifest.sscc == sscc)
    )
    if found is None:
        raise NotFound(f"no shipment is labelled with SSCC {sscc}")
    try:
        return _party_card(session, identity, found)
    except NotFound:
        raise NotFound(f"no shipment is labelled with SSCC {sscc}") from None


@dataclass
class Draft:
    """A milestone as typed on the phone: field errors, or the typed data to sign."""

    errors: dict[str, str] = field(default_factory=dict)
    typed_data: dict[str, Any] | None = None
    # The same milestone as the shipments API takes it (``MilestoneIn``).
    submission: dict[str, Any] | None = None
    summary: str = ""
    cosigned: bool = False
    receiver_name: str = ""


def draft_milestone(
    *,
    session: Session,
    card: Card,
    identity: Identity,
    registry: ShipmentRegistryClient,
    form: dict[str, Any],
    now: int,
) -> Draft:
    """Check every field of a milestone form; when all are good, the ``eth_signTypedData_v4``
    payload for the signed-in key (nonce from the chain, deadline an hour ahead)."""
    draft = Draft()
    kind_text = (form.get("milestone") or "").strip().upper()
    offered = {o.milestone.name: o for o in card.offers}
    offer = offered.get(kind_text)
    if not kind_text:
        draft.errors["milestone"] = "Choose what happened."
    elif offer is None:
        allowed = ", ".join(o.label for o in card.offers) or "nothing at this stage"
        draft.errors["milestone"] = f"Not allowed for you now; you may record: {allowed}."
    receiver = ""
    if offer is not None and offer.cosigned:
        wanted = (form.get("counterparty") or "").strip().lower()
        found = [(a, n) for a, n in card.receivers if a.lower() == wanted]
        if not found:
            draft.errors["counterparty"] = "Choose who receives the goods."
        else:
            receiver, draft.receiver_name = found[0]
    location = (form.get("location") or "").replace(" ", "").upper()
    if location and not LOCODE.fullmatch(location):
        draft.errors["location"] = (
            "Pick a UN/LOCODE from the list (2 letters and 3 letters or digits, e.g. VNSGN);"
            " type a code or the place's name to search."
        )
    elif location and not unlocode.known(location, also=route_codes(card)):
        draft.errors["location"] = (
            f"{location} is not a UN/LOCODE; search by the place's name and pick one."
        )
    weight_text = (form.get("weight_kg") or "").strip()
    grams = 0
    if weight_text:
        try:
            kg = Decimal(weight_text)
        except InvalidOperation:
            kg = Decimal(-1)
        if not kg.is_finite() or kg <= 0 or kg > MAX_WEIGHT_KG:
            draft.errors["weight_kg"] = "Enter the measured weight in kg, e.g. 520 or 520.5."
        elif (kg * 1000) != (kg * 1000).to_integral_value():
            draft.errors["weight_kg"] = "At most three decimals (whole grams)."
        else:
            grams = int(kg * 1000)
    reason_text = (form.get("reason") or "").strip()
    reason = 0
    if offer is not None and offer.milestone == MilestoneType.EXCEPTION:
        if reason_text not in {str(k) for k in REASONS}:
            draft.errors["reason"] = "Choose why: delayed, damaged, lost or other."
        else:
            reason = int(reason_text)
    elif reason_text:
        draft.errors["reason"] = "A reason is only given with an exception."
    attached = [str(h).strip().lower() for h in form.get("evidence") or []]
    if len(attached) > MAX_EVIDENCE_FILES:
        draft.errors["evidence"] = f"At most {MAX_EVIDENCE_FILES} photos; remove one."
    elif not all(re.fullmatch(r"0x[0-9a-f]{64}", h) for h in attached):
        draft.errors["evidence"] = "A photo's fingerprint is not a 32-byte hash; attach it again."
    elif len(set(attached)) != len(attached):
        draft.errors["evidence"] = "The same photo is attached twice; remove one."
    elif not all(
        photos.held(session=session, shipment_id=card.id_bytes, hash_=h) for h in attached
    ):
        draft.errors["evidence"] = (
            "A photo has not reached the service yet; attach it again while online."
        )
    if draft.errors or offer is None:
        return draft
    # One hash over every photo, in order: the signature covers each of them.
    evidence = (
        photos.signed_hash(
            session=session,
            shipment_id=card.id_bytes,
            photos=attached,
            org_id=identity.org_id,
            uploaded_by=identity.address,
        )
        if attached
        else ""
    )
    message = {
        "shipmentId": card.id,
        "milestone": int(offer.milestone),
        "reasonCode": reason,
        "occurredAt": now,
        "location": "0x" + (location.encode().hex() if location else "00" * 5),
        "measuredWeightGrams": grams,
        "evidenceHash": evidence or "0x" + "00" * 32,
        "signer": to_checksum_address(identity.address),
        "counterparty": receiver or "0x" + "00" * 20,
        "nonce": registry.nonce(identity.address),
        "deadline": now + SIGNATURE_TTL,
    }
    draft.submission = {**message, "location": location}
    draft.typed_data = {
        "domain": registry.domain().to_json(),
        "types": MILESTONE.eip712_types(),
        "primaryType": MILESTONE.name,
        "message": message,
    }
    weight = f"{weight_text} kg " if grams else ""
    where = f" at {location}" if location else ""
    to = f" to {draft.receiver_name}" if receiver else ""
    shown = f" with {len(attached)} photo{'s' if len(attached) > 1 else ''}" if attached else ""
    draft.summary = (
        f"You confirm: {weight}{LABELS[offer.milestone]}{to}{where}{shown}"
        f" for shipment {card.reference or card.id[:10]} of {card.seller_name},"
        f" signed by {identity.org_name}."
    )
    draft.cosigned = bool(receiver)
    return draft


@dataclass(frozen=True, slots=True)
class HandoverReview:
    """What the receiving party is asked to accept, the releaser's evidence photos it sees
    (those the signed ``evidenceHash`` covers, in order) and the acceptance it signs."""

    summary: str
    typed_data: dict[str, Any]
    photos: list[str]


def review_handover(
    *,
    session: Session,
    card: Card,
    identity: Identity,
    registry: ShipmentRegistryClient,
    milestone: dict[str, Any],
    releaser_name: str,
    now: int,
) -> HandoverReview:
    """The ``CustodyAcceptance`` the signed-in receiver signs over the releaser's milestone."""
    kind = MilestoneType(milestone["milestone"])
    weight = milestone["measuredWeightGrams"]
    location = milestone["location"]
    signed = str(milestone["evidenceHash"]).lower()  # 0x-hex, as the request model prints it
    # Read from the store by the signed hash itself (a list of several is kept under it),
    # never from anything else the link carries: exactly the photos the signature covers.
    shown = evidence_photos(session, card.id, [signed]).get(signed, [])
    with_photos = f" with {len(shown)} photo{'s' if len(shown) > 1 else ''}" if shown else ""
    summary = (f"You accept: {weight / 1000:g} kg " if weight else "You accept: ") + (
        f"{LABELS[kind]} to {identity.org_name} by {releaser_name}"
        f"{f' at {location}' if location else ''}{with_photos}"
        f" for shipment {card.reference or card.id[:10]} of {card.seller_name}."
    )
    if int(signed, 16) and not shown:
        summary += (
            f" The releaser signed evidence ({signed[:10]}…) that the service does not hold;"
            " ask them for it before you accept."
        )
    acceptance = {
        "milestone": milestone_typed(milestone),
        "nonce": registry.nonce(identity.address),
        "deadline": now + SIGNATURE_TTL,
    }
    return HandoverReview(
        summary=summary,
        typed_data={
            "domain": registry.domain().to_json(),
            "types": CUSTODY_ACCEPTANCE.eip712_types(),
            "primaryType": CUSTODY_ACCEPTANCE.name,
            "message": acceptance,
        },
        photos=shown,
    )


def milestone_typed(milestone: dict[str, Any]) -> dict[str, Any]:
    """An API ``MilestoneIn`` (camelCase, LOCODE text) as typed-data JSON (``bytes5`` hex)."""
    location = milestone["location"] or ""
    return {
        **milestone,
        "location": "0x" + (location.encode().hex() if location else "00" * 5),
    }


ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
PASSPORT = re.compile(r"^0x[0-9a-fA-F]{64}$")
GTIN = re.compile(r"^[0-9]{8,14}$")
MODES = ("sea", "air", "road", "rail")
MAX_LINES = 200


def _address(form: dict[str, str], name: str, errors: dict[str, str], label: str) -> str:
    text = (form.get(name) or "").strip()
    if not text:
        return ZERO_ADDRESS
    if not ADDRESS.fullmatch(text):
        errors[name] = f"The {label} is a 0x address of 40 hex digits."
        return ZERO_ADDRESS
    try:
        return parse_address(text, label)
    except ValueError:  # mixed case whose EIP-55 checksum does not match: a mistyped letter
        errors[name] = (
            f"The {label}'s address has a mistyped letter (wrong checksum); copy it again."
        )
        return ZERO_ADDRESS


def _manifest_lines(text: str, errors: dict[str, str]) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    rows = [r.strip() for r in text.splitlines() if r.strip()]
    if not rows:
        errors["lines"] = "List at least one line: a passport id or GTIN, then the quantity."
    if len(rows) > MAX_LINES:
        errors["lines"] = f"At most {MAX_LINES} lines."
        return []
    for n, row in enumerate(rows, 1):
        key, _, qty = (part.strip() for part in row.replace(";", ",").partition(","))
        if not qty.isdigit() or not 1 <= int(qty) <= 2**53:
            errors["lines"] = f"Line {n}: the quantity after the comma is a whole number ≥ 1."
            break
        if PASSPORT.fullmatch(key):
            lines.append({"passportId": key.lower(), "quantity": int(qty)})
        elif GTIN.fullmatch(key):
            lines.append({"gtin": key, "quantity": int(qty)})
        else:
            errors["lines"] = f"Line {n}: {key!r} is neither a passport id (0x…) nor a GTIN."
            break
    return lines


def _deadline(form: dict[str, str], name: str, errors: dict[str, str], now: int) -> int:
    text = (form.get(name) or "").strip()
    if not text:
        return 0
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        errors[name] = "Give a date and time, e.g. 2026-12-24T17:00."
        return 0
    ts = int((when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp())
    if ts <= now:
        errors[name] = "This deadline has already passed."
    return ts


@dataclass
class ShipmentDraft:
    """A shipment as typed by the seller: field errors, or the typed data to sign."""

    errors: dict[str, str] = field(default_factory=dict)
    typed_data: dict[str, Any] | None = None
    submission: dict[str, Any] | None = None
    summary: str = ""


def draft_shipment(
    *,
    identity: Identity,
    registry: ShipmentRegistryClient,
    form: dict[str, str],
    now: int,
) -> ShipmentDraft:
    """Check every field of a new shipment; the ``CreateShipment`` typed data once all are good.

    The shipment id commits to the seller (its key, then 12 random bytes) and the
    manifest is hashed here exactly as the API hashes it (keccak-256 of RFC 8785 JSON).
    """
    draft = ShipmentDraft()
    errors = draft.errors
    if "seller" not in identity.roles:
        errors["form"] = "Role not allowed: your key does not hold the seller role in the registry."
    reference = (form.get("reference") or "").strip()
    if not reference or len(reference) > 64 or not reference.isprintable():
        errors["reference"] = "Give your own reference (PO or booking number), 1-64 characters."
    route = {}
    for name in ("origin", "destination"):
        code = (form.get(name) or "").replace(" ", "").upper()
        if not LOCODE.fullmatch(code):
            errors[name] = "A UN/LOCODE is 2 letters and 3 letters or digits, e.g. VNSGN."
        route[name] = code
    carrier = _address(form, "carrier", errors, "carrier")
    if carrier == ZERO_ADDRESS and "carrier" not in errors:
        errors["carrier"] = "Name the carrier's key (0x…) that picks the goods up."
    warehouse = _address(form, "warehouse", errors, "warehouse")
    broker = _address(form, "customs_broker", errors, "customs broker")
    consignee = _address(form, "consignee", errors, "consignee")
    weight_text = (form.get("weight_kg") or "").strip()
    grams = 0
    try:
        kg = Decimal(weight_text)
        if not kg.is_finite() or kg <= 0 or kg > MAX_WEIGHT_KG or (kg * 1000) % 1:
            raise InvalidOperation
        grams = int(kg * 1000)
    except InvalidOperation:
        errors["weight_kg"] = "Enter the declared weight in kg (whole grams), e.g. 520."
    pieces_text = (form.get("pieces") or "").strip()
    if not pieces_text.isdigit() or not 1 <= int(pieces_text) <= 2**32 - 1:
        errors["pieces"] = "Enter the number of pieces, a whole number ≥ 1."
    mode = (form.get("mode") or "").strip()
    if mode not in MODES:
        errors["mode"] = "Choose sea, air, road or rail."
    lines = _manifest_lines(form.get("lines") or "", errors)
    picked_up_by = _deadline(form, "picked_up_by", errors, now)
    delivered_by = _deadline(form, "delivered_by", errors, now)
    if picked_up_by and delivered_by and delivered_by <= picked_up_by:
        errors["delivered_by"] = "Delivery must be due after pickup."
    if errors:
        return draft
    manifest = {"transportMode": mode, "lines": lines}
    manifest_doc = ManifestIn.model_validate(manifest)
    sid = to_hex(shipment_id(identity.address, secrets.token_bytes(12)))
    sla = {
        "pickedUpBy": picked_up_by,
        "exportClearedBy": 0,
        "departedBy": 0,
        "arrivedBy": 0,
        "importClearedBy": 0,
        "deliveredBy": delivered_by,
    }
    terms = {
        "shipmentId": sid,
        "seller": to_checksum_address(identity.address),
        "origin": route["origin"],
        "destination": route["destination"],
        "declaredWeightGrams": grams,
        "pieceCount": int(pieces_text),
        "weightToleranceBps": 200,
        "manifestHash": to_hex(manifest_hash(manifest_doc)),
        "carriers": [carrier],
        "warehouse": warehouse,
        "customsBroker": broker,
        "consignee": consignee,
        "sla": sla,
    }
    nonce, deadline = registry.nonce(identity.address), now + SIGNATURE_TTL
    typed_terms = {
        **terms,
        "origin": to_hex(route["origin"].encode()),
        "destination": to_hex(route["destination"].encode()),
    }
    draft.typed_data = {
        "domain": registry.domain().to_json(),
        "types": CREATE_SHIPMENT.eip712_types(),
        "primaryType": CREATE_SHIPMENT.name,
        "message": {"terms": typed_terms, "nonce": nonce, "deadline": deadline},
    }
    draft.submission = {
        "terms": terms,
        "nonce": nonce,
        "deadline": deadline,
        "manifest": manifest,
        "reference": reference,
    }
    draft.summary = (
        f"You create shipment {reference}: {weight_text} kg in {pieces_text} pieces "
        f"by {mode} from {route['origin']} to {route['destination']}, "
        f"{len(lines)} manifest line(s), signed by {identity.org_name}."
    )
    return draft
