"""Shipments: relayed signed writes, the seller's reads, and journeys for passport pages.

Public read functions other domains call (stable signatures)::

    journey_for_passport(*, session, passport_id: bytes) -> list[ShipmentJourney]
    transport_legs(*, session, passport_id: bytes) -> list[TransportLeg]

Writes verify everything the contract will verify about the signer before
anything is queued: the EIP-712 signature against ``ShipmentRegistry``'s own
domain, that the signer is an active signer key of the calling organisation
with a fitting API-key scope, and (by simulating the call) every contract rule;
a revert is answered 409 with the decoded error name and arguments.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import rfc8785
from eth_hash.auto import keccak
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.chain.organisations import Role
from backend.chain.shipments import ShipmentRegistryClient
from backend.chain.typed_data.shipments import (
    CORRECTION,
    CREATE_SHIPMENT,
    CUSTODY_ACCEPTANCE,
    CUSTODY_TRANSFERS,
    MILESTONE,
    PROOF_OF_DELIVERY,
    SHIPMENT_TERMS,
    DeliveryCondition,
    MilestoneType,
    acceptance_message,
    as_abi_tuple,
    locode,
)
from backend.common.types import hex_bytes
from backend.errors import Conflict, InvalidInput, NotFound
from backend.gs1.errors import IdentifierInvalid
from backend.gs1.keys import passport_id as gs1_passport_id
from backend.orgs.schemas import Scope
from backend.orgs.service import Principal
from backend.orgs.signers import (
    SignedCall,
    org_of,
    org_signers,
    recover_signer,
    require_signed_by,
    verify_signed_call,
)
from backend.orgs.subjects import Basis, require_may_write, require_speaks_for, speakers
from backend.passports.carbon import TransportLeg
from backend.relayer.effects import Effect
from backend.relayer.schemas import RelayAccepted
from backend.relayer.signed import ContractWrite, in_flight, relay
from backend.shipments.effects import (
    KINDS,
    MilestoneCorrected,
    MilestonesRecorded,
    OverdueFlagged,
    ShipmentCreated,
)
from backend.shipments.models import (
    ManifestLine,
    Milestone,
    MilestoneCorrection,
    OverdueFlag,
    Shipment,
    ShipmentManifest,
)
from backend.shipments.schemas import (
    CorrectionCreate,
    CorrectionPublic,
    CustodyPublic,
    DeliveryCreate,
    ManifestIn,
    MilestoneBatchCreate,
    MilestoneCreate,
    MilestoneIn,
    MilestonePublic,
    OverduePublic,
    ShipmentCreate,
    ShipmentDetail,
    ShipmentPublic,
    ShipmentsPublic,
    ShipmentTermsIn,
)

PURPOSE_CREATE = "shipment_create"
PURPOSE_MILESTONES = "shipment_milestones"
PURPOSE_CORRECTION = "shipment_correction"
PURPOSE_OVERDUE = "shipment_overdue"

SELLER_SCOPES = frozenset({Scope.SELLER})
MANIFEST_BASES = frozenset({Basis.ISSUER, Basis.DELEGATE})
PARTY_SCOPES = frozenset({Scope.CARRIER, Scope.SUPPLIER})
CORRECTION_SCOPES = frozenset({Scope.SELLER, Scope.CARRIER, Scope.SUPPLIER})
#: The trade a milestone's signer speaks in, as OrganisationRegistry roles (any one of
#: them): the contract checks the key's part in *this* shipment (``rolesOf``, the
#: custodian), the service checks first that its organisation is in that trade at all.
#: Mirrors ``ShipmentRegistry``: the seller releases and takes back the goods, the carrier
#: holding them reports their movement, the broker signs customs steps, the warehouse
#: receives, custody passes between carriers and warehouses, any party reports exceptions.
MILESTONE_ROLES: Mapping[MilestoneType, Role] = {
    MilestoneType.PICKED_UP: Role.SELLER,
    MilestoneType.EXPORT_CLEARED: Role.CUSTOMS_BROKER,
    MilestoneType.DEPARTED: Role.CARRIER,
    MilestoneType.ARRIVED: Role.CARRIER,
    MilestoneType.CUSTOMS_HOLD: Role.CUSTOMS_BROKER,
    MilestoneType.CUSTOMS_RELEASED: Role.CUSTOMS_BROKER,
    MilestoneType.IMPORT_CLEARED: Role.CUSTOMS_BROKER,
    MilestoneType.WAREHOUSE_INBOUND: Role.WAREHOUSE,
    MilestoneType.HANDOVER: Role.CARRIER | Role.WAREHOUSE,
    MilestoneType.OUT_FOR_DELIVERY: Role.CARRIER,
    MilestoneType.DELIVERED: Role.CARRIER,
    MilestoneType.RETURNED: Role.SELLER,
    MilestoneType.EXCEPTION: Role.SELLER | Role.CARRIER | Role.WAREHOUSE | Role.CUSTOMS_BROKER,
}
#: A correction may come from any party of the shipment, in its trade.
CORRECTION_ROLES = Role.SELLER | Role.CARRIER | Role.WAREHOUSE | Role.CUSTOMS_BROKER
CUSTOMS = {
    MilestoneType.EXPORT_CLEARED: "export_cleared",
    MilestoneType.CUSTOMS_HOLD: "hold",
    MilestoneType.CUSTOMS_RELEASED: "released",
    MilestoneType.IMPORT_CLEARED: "import_cleared",
}


# -- messages ---------------------------------------------------------------


def terms_message(t: ShipmentTermsIn) -> dict[str, Any]:
    """The ``ShipmentTerms`` message exactly as the seller signed it."""
    return {
        "shipmentId": hex_bytes(t.shipment_id),
        "seller": t.seller,
        "origin": locode(t.origin),
        "destination": locode(t.destination),
        "declaredWeightGrams": t.declared_weight_grams,
        "pieceCount": t.piece_count,
        "weightToleranceBps": t.weight_tolerance_bps,
        "manifestHash": hex_bytes(t.manifest_hash),
        "carriers": list(t.carriers),
        "warehouse": t.warehouse,
        "customsBroker": t.customs_broker,
        "consignee": t.consignee,
        "sla": t.sla.model_dump(by_alias=True),
    }


def milestone_message(m: MilestoneIn) -> dict[str, Any]:
    return {
        "shipmentId": hex_bytes(m.shipment_id),
        "milestone": m.milestone,
        "reasonCode": m.reason_code,
        "occurredAt": m.occurred_at,
        "location": locode(m.location) if m.location else bytes(5),
        "measuredWeightGrams": m.measured_weight_grams,
        "evidenceHash": hex_bytes(m.evidence_hash),
        "signer": m.signer,
        "counterparty": m.counterparty,
        "nonce": m.nonce,
        "deadline": m.deadline,
    }


def manifest_document(manifest: ManifestIn) -> dict[str, Any]:
    """The manifest's published JSON form (what is hashed and stored)."""
    return manifest.model_dump(mode="json", by_alias=True, exclude_none=True)


def manifest_hash(manifest: ManifestIn | Mapping[str, Any]) -> bytes:
    """``keccak256`` of the RFC 8785 canonical JSON of the manifest."""
    doc = manifest_document(manifest) if isinstance(manifest, ManifestIn) else manifest
    return keccak(rfc8785.dumps(doc))


def _line_passport_id(line: Any) -> str:
    if line.passport_id is not None:
        return str(line.passport_id)
    try:
        return "0x" + gs1_passport_id(line.gtin, line.lot, line.serial).hex()
    except IdentifierInvalid as exc:
        raise InvalidInput(f"manifest line: {exc}") from exc


# -- writes -----------------------------------------------------------------


def _lowest_nonces(pairs: Iterable[tuple[str, int]]) -> dict[str, int]:
    """Signer → the lowest message nonce it signed among ``pairs``."""
    out: dict[str, int] = {}
    for signer, nonce in pairs:
        out[signer] = min(int(nonce), out.get(signer, int(nonce)))
    return out


def _relay(
    *,
    session: Session,
    registry: ShipmentRegistryClient,
    principal: Principal,
    calldata: str,
    purpose: str,
    effect: Effect,
    subjects: list[str],
    signer_nonces: dict[str, int] | None = None,
    subject: str | None = None,
) -> RelayAccepted:
    """Relay a ShipmentRegistry call with its typed effect (how the relayer finds it).

    The call is simulated first; behind an earlier write to one of ``subjects``
    still in flight (the simulation sees the state before it) only a revert no
    queued write can cure is refused.
    """
    org_id = org_of(principal)
    write = ContractWrite(
        to=registry.address,
        data=calldata,
        purpose=purpose,
        subject=subject or effect.subject,
        effect=effect,
    )
    return relay(
        session=session,
        chain=registry.chain,
        org_id=org_id,
        write=write,
        behind=in_flight(session, subjects=subjects, kinds=KINDS),
        signer_nonces=signer_nonces,
        what=f"a write to shipment {effect.subject}",
    )


def create(
    *,
    session: Session,
    registry: ShipmentRegistryClient,
    principal: Principal,
    data: ShipmentCreate,
) -> RelayAccepted:
    """Relay a seller-signed ``createShipmentWithSig`` and store its manifest."""
    terms = terms_message(data.terms)
    expected = manifest_hash(data.manifest)
    if expected != terms["manifestHash"]:
        raise InvalidInput(
            f"manifest hashes to 0x{expected.hex()}, but the signed manifestHash is "
            f"{data.terms.manifest_hash}"
        )
    message = {"terms": terms, "nonce": data.nonce, "deadline": data.deadline}
    signer = verify_signed_call(
        SignedCall(
            registry.domain(),
            CREATE_SHIPMENT,
            message,
            data.signature,
            claimed=data.terms.seller,
            field="seller",
            role=Role.SELLER,
            scopes=SELLER_SCOPES,
        ),
        session=session,
        principal=principal,
    )
    sid = data.terms.shipment_id
    if session.get(ShipmentManifest, sid) is not None:
        raise Conflict(f"shipment {sid} was already submitted")
    sscc = data.manifest.sscc
    if sscc is not None and session.scalar(
        select(ShipmentManifest.shipment_id).where(ShipmentManifest.sscc == sscc)
    ):
        raise Conflict(f"sscc {sscc} already labels another shipment")
    lines = [(line, _line_passport_id(line)) for line in data.manifest.lines]
    # Carrying a passport makes the shipment's parties speak for it, so the
    # seller must speak for every passport it lists as issuer or delegate.
    for pid in sorted({pid for _, pid in lines}):
        require_speaks_for(
            session=session,
            org_id=org_of(principal),
            subject=pid,
            bases=MANIFEST_BASES,
            org_slug=principal.org_slug,
        )
    calldata = registry.chain.encode(
        registry.contract,
        "createShipmentWithSig",
        as_abi_tuple(SHIPMENT_TERMS, terms),
        data.nonce,
        data.deadline,
        hex_bytes(data.signature),
    )
    org_id = org_of(principal)
    session.add(
        ShipmentManifest(
            shipment_id=sid,
            org_id=org_id,
            manifest_hash=data.terms.manifest_hash,
            transport_mode=data.manifest.transport_mode,
            reference=data.reference,
            sscc=sscc,
            document=manifest_document(data.manifest),
        )
    )
    session.flush()
    for line, pid in lines:
        session.add(
            ManifestLine(
                shipment_id=sid,
                passport_id=pid,
                gtin=line.gtin,
                lot=line.lot,
                serial=line.serial,
                quantity=line.quantity,
            )
        )
    return _relay(
        session=session,
        registry=registry,
        principal=principal,
        calldata=calldata,
        purpose=PURPOSE_CREATE,
        effect=ShipmentCreated(subject=sid),
        subjects=[],
        signer_nonces={signer: data.nonce},
    )


def _check_milestone(
    *,
    session: Session,
    registry: ShipmentRegistryClient,
    principal: Principal,
    item: MilestoneIn,
    signature: str,
) -> dict[str, Any]:
    message = milestone_message(item)
    # The seller releases the goods at pickup; every later milestone is a carrier's,
    # warehouse's or broker's.
    scopes = (
        PARTY_SCOPES | SELLER_SCOPES if item.milestone == MilestoneType.PICKED_UP else PARTY_SCOPES
    )
    signer = verify_signed_call(
        SignedCall(
            registry.domain(),
            MILESTONE,
            message,
            signature,
            claimed=item.signer,
            field="signer",
            scopes=scopes,
            role=MILESTONE_ROLES[MilestoneType(item.milestone)],
            needed_by=MilestoneType(item.milestone).name,
        ),
        session=session,
        principal=principal,
    )
    # A party of the shipment may write to it; to anyone else it does not exist.
    if not int(registry.roles_of(message["shipmentId"], signer)):
        raise NotFound(f"shipment {item.shipment_id} not found")
    return message


def _require_subject_rule(
    session: Session, principal: Principal, shipment_ids: Sequence[str]
) -> None:
    """The subject rule for a milestone write (403 naming it).

    The signer's organisation is a party of each shipment: ``rolesOf`` said so
    on chain, whether or not the read model has indexed the shipment yet. What
    is left is the rest of the rule: a milestone about a shipment is about the
    passports it carries, so its parties must speak for each of them (which
    they do while the shipment's seller is the issuer or one of its delegates).
    """
    org_id = org_of(principal)
    require_may_write(
        session=session,
        org_id=org_id,
        subjects=shipment_ids,
        org_slug=principal.org_slug,
        parties={sid: {org_id} for sid in shipment_ids},
    )


def record_milestone(
    *,
    session: Session,
    registry: ShipmentRegistryClient,
    principal: Principal,
    shipment_id: str,
    data: MilestoneCreate,
) -> RelayAccepted:
    """Relay one signed milestone (with the receiver's countersignature for custody transfers)."""
    item = data.milestone
    if item.shipment_id != shipment_id:
        raise InvalidInput("milestone.shipmentId differs from the shipment in the path")
    message = _check_milestone(
        session=session,
        registry=registry,
        principal=principal,
        item=item,
        signature=data.signature,
    )
    _require_subject_rule(session, principal, [shipment_id])
    custody = item.milestone in CUSTODY_TRANSFERS
    if custody and data.acceptance is None:
        raise InvalidInput(
            f"{MilestoneType(item.milestone).name} needs the receiving party's acceptance"
        )
    if not custody and data.acceptance is not None:
        raise InvalidInput(
            f"{MilestoneType(item.milestone).name} takes no acceptance countersignature"
        )
    chain, contract = registry.chain, registry.contract
    if data.acceptance is not None:
        acc = data.acceptance
        accepted_by = recover_signer(
            domain=registry.domain(),
            struct=CUSTODY_ACCEPTANCE,
            message=acceptance_message(message, nonce=acc.nonce, deadline=acc.deadline),
            signature=acc.signature,
        )
        require_signed_by(
            recovered=accepted_by, claimed=item.counterparty, field="acceptance counterparty"
        )
        calldata = chain.encode(
            contract,
            "recordCustodyTransfer",
            as_abi_tuple(MILESTONE, message),
            hex_bytes(data.signature),
            (acc.nonce, acc.deadline, hex_bytes(acc.signature)),
        )
    else:
        calldata = chain.encode(
            contract, "recordMilestone", as_abi_tuple(MILESTONE, message), hex_bytes(data.signature)
        )
    return _enqueue_milestones(
        session=session,
        registry=registry,
        principal=principal,
        calldata=calldata,
        shipment_id=shipment_id,
        messages=[message],
    )


def record_delivery(
    *,
    session: Session,
    registry: ShipmentRegistryClient,
    principal: Principal,
    shipment_id: str,
    data: DeliveryCreate,
) -> RelayAccepted:
    """Relay DELIVERED with the consignee's proof of delivery (accepted, damaged or refused)."""
    item = data.milestone
    if item.shipment_id != shipment_id:
        raise InvalidInput("milestone.shipmentId differs from the shipment in the path")
    if item.milestone != MilestoneType.DELIVERED:
        raise InvalidInput("a proof of delivery goes with the DELIVERED milestone")
    message = _check_milestone(
        session=session,
        registry=registry,
        principal=principal,
        item=item,
        signature=data.signature,
    )
    consignee = registry.delivery_facts(message["shipmentId"]).consignee
    if consignee is None:
        raise Conflict(
            f"shipment {shipment_id} names no consignee: record DELIVERED as a milestone"
        )
    receipt = data.receipt
    condition = DeliveryCondition[receipt.condition.upper()]
    signed_by = recover_signer(
        domain=registry.domain(),
        struct=PROOF_OF_DELIVERY,
        message={
            "milestone": message,
            "condition": int(condition),
            "nonce": receipt.nonce,
            "deadline": receipt.deadline,
        },
        signature=receipt.signature,
    )
    require_signed_by(recovered=signed_by, claimed=consignee, field="the shipment's consignee")
    calldata = registry.chain.encode(
        registry.contract,
        "recordDelivery",
        as_abi_tuple(MILESTONE, message),
        hex_bytes(data.signature),
        (int(condition), receipt.nonce, receipt.deadline, hex_bytes(receipt.signature)),
    )
    return _enqueue_milestones(
        session=session,
        registry=registry,
        principal=principal,
        calldata=calldata,
        shipment_id=shipment_id,
        messages=[message],
        also_signed=[(consignee, receipt.nonce)],
    )


def record_batch(
    *,
    session: Session,
    registry: ShipmentRegistryClient,
    principal: Principal,
    data: MilestoneBatchCreate,
) -> RelayAccepted:
    """Relay many single-signature milestones in one transaction (all or none)."""
    messages = []
    for n, it in enumerate(data.items):
        if it.milestone.milestone in CUSTODY_TRANSFERS:
            raise InvalidInput(
                f"items[{n}]: {MilestoneType(it.milestone.milestone).name} needs a "
                "countersignature; post it to /v1/shipments/{id}/milestones"
            )
        try:
            messages.append(
                _check_milestone(
                    session=session,
                    registry=registry,
                    principal=principal,
                    item=it.milestone,
                    signature=it.signature,
                )
            )
        except InvalidInput as exc:
            raise InvalidInput(f"items[{n}]: {exc.detail}") from exc
    subjects = sorted({it.milestone.shipment_id for it in data.items})
    _require_subject_rule(session, principal, subjects)
    calldata = registry.calldata_record_milestones(
        [(m, hex_bytes(it.signature)) for m, it in zip(messages, data.items, strict=True)]
    )
    return _enqueue_milestones(
        session=session,
        registry=registry,
        principal=principal,
        calldata=calldata,
        shipment_id=subjects[0] if len(subjects) == 1 else ",".join(subjects)[:66],
        messages=messages,
    )


def _enqueue_milestones(
    *,
    session: Session,
    registry: ShipmentRegistryClient,
    principal: Principal,
    calldata: str,
    shipment_id: str,
    messages: Sequence[Mapping[str, Any]],
    also_signed: Sequence[tuple[str, int]] = (),
) -> RelayAccepted:
    """Relay milestones; ``also_signed`` adds (signer, nonce) of countersignatures."""
    return _relay(
        session=session,
        registry=registry,
        principal=principal,
        calldata=calldata,
        purpose=PURPOSE_MILESTONES,
        effect=MilestonesRecorded(
            subject="0x" + bytes(messages[0]["shipmentId"]).hex(),
            record_hashes=["0x" + MILESTONE.hash_struct(m).hex() for m in messages],
        ),
        subjects=sorted({"0x" + bytes(m["shipmentId"]).hex() for m in messages}),
        signer_nonces=_lowest_nonces(
            [*((m["signer"], m["nonce"]) for m in messages), *also_signed]
        ),
        subject=shipment_id,
    )


def correct(
    *,
    session: Session,
    registry: ShipmentRegistryClient,
    principal: Principal,
    shipment_id: str,
    data: CorrectionCreate,
) -> RelayAccepted:
    """Relay a signed correction of an earlier history entry."""
    c = data.correction
    if c.shipment_id != shipment_id:
        raise InvalidInput("correction.shipmentId differs from the shipment in the path")
    message = {
        "shipmentId": hex_bytes(c.shipment_id),
        "correctedIndex": c.corrected_index,
        "correctedRecordHash": hex_bytes(c.corrected_record_hash),
        "reasonCode": c.reason_code,
        "evidenceHash": hex_bytes(c.evidence_hash),
        "signer": c.signer,
        "nonce": c.nonce,
        "deadline": c.deadline,
    }
    signer = verify_signed_call(
        SignedCall(
            registry.domain(),
            CORRECTION,
            message,
            data.signature,
            claimed=c.signer,
            field="signer",
            scopes=CORRECTION_SCOPES,
            role=CORRECTION_ROLES,
            needed_by="a correction",
        ),
        session=session,
        principal=principal,
    )
    if not int(registry.roles_of(hex_bytes(shipment_id), signer)):
        raise NotFound(f"shipment {shipment_id} not found")
    _require_subject_rule(session, principal, [shipment_id])
    calldata = registry.chain.encode(
        registry.contract,
        "correctMilestone",
        as_abi_tuple(CORRECTION, message),
        hex_bytes(data.signature),
    )
    return _relay(
        session=session,
        registry=registry,
        principal=principal,
        calldata=calldata,
        purpose=PURPOSE_CORRECTION,
        effect=MilestoneCorrected(
            subject=shipment_id, corrected_index=c.corrected_index, signer=c.signer
        ),
        subjects=[shipment_id],
    )


def _owned(session: Session, principal: Principal, shipment_id: str) -> ShipmentManifest:
    """The seller organisation's own shipment (404 for everyone else)."""
    manifest = session.get(ShipmentManifest, shipment_id)
    if manifest is None or manifest.org_id != org_of(principal):
        raise NotFound(f"shipment {shipment_id} not found")
    return manifest


def flag_overdue(
    *,
    session: Session,
    registry: ShipmentRegistryClient,
    principal: Principal,
    shipment_id: str,
    milestone: int,
) -> RelayAccepted:
    """Relay ``flagOverdue`` for the seller's own shipment (the contract checks the deadline)."""
    principal.require_any(SELLER_SCOPES)
    _owned(session, principal, shipment_id)
    calldata = registry.chain.encode(
        registry.contract, "flagOverdue", hex_bytes(shipment_id), milestone
    )
    return _relay(
        session=session,
        registry=registry,
        principal=principal,
        calldata=calldata,
        purpose=PURPOSE_OVERDUE,
        effect=OverdueFlagged(subject=shipment_id, milestone=milestone),
        subjects=[shipment_id],
    )


# -- reads ------------------------------------------------------------------


def _overdue_names(flags: int) -> list[str]:
    return [m.name.lower() for m in MilestoneType if flags & (1 << m)]


def _public(s: Shipment, manifest: ManifestFacts | None) -> dict[str, Any]:
    return {
        "id": s.id,
        "reference": manifest.reference if manifest else None,
        "seller": s.seller,
        "origin": s.origin,
        "destination": s.destination,
        "declared_weight_grams": s.declared_weight_grams,
        "last_measured_weight_grams": s.last_measured_weight_grams,
        "piece_count": s.piece_count,
        "weight_tolerance_bps": s.weight_tolerance_bps,
        "manifest_hash": s.manifest_hash,
        "carriers": list(s.carriers),
        "warehouse": s.warehouse,
        "customs_broker": s.customs_broker,
        "sla": dict(s.sla),
        "status": s.status,
        "custodian": s.custodian,
        "overdue_milestones": _overdue_names(s.overdue_flags),
        "history_length": s.history_length,
        "delivered_at": s.delivered_at,
        "transport_mode": manifest.transport_mode if manifest else None,
        "tx_hash": s.tx_hash,
        "block_number": s.block_number,
    }


def _visible(session: Session, principal: Principal) -> Any:
    """Shipments the organisation sells: submitted by it, or created by one of its signers."""
    org_id = org_of(principal)
    own = select(ShipmentManifest.shipment_id).where(ShipmentManifest.org_id == org_id)
    signers = org_signers(session=session, principal=principal)
    return (Shipment.id.in_(own)) | (Shipment.seller.in_(signers))


def reference_matches(text: str) -> Any:
    """Case-insensitive substring match on the seller's reference (``%`` and ``_`` literal)."""
    return func.lower(ShipmentManifest.reference).contains(text.lower(), autoescape=True)


def list_shipments(
    *,
    session: Session,
    principal: Principal,
    after: str | None,
    limit: int,
    reference: str | None = None,
) -> ShipmentsPublic:
    """The calling seller's shipments ordered by id (keyset on ``after``).

    ``reference`` keeps those whose seller reference contains it (any case).
    """
    query = select(Shipment).where(_visible(session, principal)).order_by(Shipment.id)
    if reference:
        query = query.where(
            Shipment.id.in_(
                select(ShipmentManifest.shipment_id).where(reference_matches(reference))
            )
        )
    if after is not None:
        query = query.where(Shipment.id > after)
    rows = session.scalars(query.limit(limit + 1)).all()
    facts = manifest_facts(session, [s.id for s in rows[:limit]])
    items = [ShipmentPublic(**_public(s, facts.get(s.id))) for s in rows[:limit]]
    return ShipmentsPublic(items=items, next_after=items[-1].id if len(rows) > limit else None)


@dataclass(frozen=True)
class ManifestFacts:
    """What the seller said off chain about a shipment: transport mode and reference."""

    transport_mode: str
    reference: str | None


def manifest_facts(session: Session, ids: Sequence[str]) -> dict[str, ManifestFacts]:
    if not ids:
        return {}
    rows = session.execute(
        select(
            ShipmentManifest.shipment_id,
            ShipmentManifest.transport_mode,
            ShipmentManifest.reference,
        ).where(ShipmentManifest.shipment_id.in_(ids))
    ).all()
    return {sid: ManifestFacts(mode, ref) for sid, mode, ref in rows}


def _milestone_public(m: Milestone) -> MilestonePublic:
    return MilestonePublic(
        index=m.index,
        milestone=m.kind,
        milestone_name=MilestoneType(m.kind).name.lower(),
        signer=m.signer,
        counterparty=m.counterparty,
        status=m.status,
        custodian=m.custodian,
        occurred_at=m.occurred_at,
        location=m.location,
        measured_weight_grams=m.measured_weight_grams,
        evidence_hash=m.evidence_hash,
        reason_code=m.reason_code,
        record_hash=m.record_hash,
        late=m.late,
        planned_by=m.planned_by,
        weight_reference_grams=m.weight_reference_grams,
        weight_measured_grams=m.weight_measured_grams,
        corrected_by_index=m.corrected_by_index,
        tx_hash=m.tx_hash,
        block_number=m.block_number,
        credential=f"/v1/shipments/{m.shipment_id}/milestones/{m.index}/credential",
    )


def custody_history(milestones: Sequence[Milestone]) -> list[CustodyPublic]:
    """Each change of custodian in history order (corrected entries skipped)."""
    out: list[CustodyPublic] = []
    holder: str | None = None
    for m in milestones:
        if m.corrected_by_index is not None or m.custodian == holder:
            continue
        holder = m.custodian
        out.append(
            CustodyPublic(
                custodian=holder,
                since=m.occurred_at,
                milestone_name=MilestoneType(m.kind).name.lower(),
                location=m.location,
            )
        )
    return out


def _detail(session: Session, s: Shipment) -> ShipmentDetail:
    manifest = session.get(ShipmentManifest, s.id)
    milestones = session.scalars(
        select(Milestone).where(Milestone.shipment_id == s.id).order_by(Milestone.index)
    ).all()
    corrections = session.scalars(
        select(MilestoneCorrection)
        .where(MilestoneCorrection.shipment_id == s.id)
        .order_by(MilestoneCorrection.index)
    ).all()
    overdue = session.scalars(
        select(OverdueFlag).where(OverdueFlag.shipment_id == s.id).order_by(OverdueFlag.id)
    ).all()
    return ShipmentDetail(
        **_public(
            s, ManifestFacts(manifest.transport_mode, manifest.reference) if manifest else None
        ),
        manifest=dict(manifest.document) if manifest else None,
        milestones=[_milestone_public(m) for m in milestones],
        corrections=[
            CorrectionPublic(
                index=c.index,
                corrected_index=c.corrected_index,
                corrected_record_hash=c.corrected_record_hash,
                signer=c.signer,
                reason_code=c.reason_code,
                evidence_hash=c.evidence_hash,
                record_hash=c.record_hash,
                tx_hash=c.tx_hash,
                block_number=c.block_number,
            )
            for c in corrections
        ],
        overdue=[
            OverduePublic(
                milestone=o.milestone,
                milestone_name=MilestoneType(o.milestone).name.lower(),
                planned_by=o.planned_by,
                flagged_at=o.flagged_at,
                flagged_by=o.flagged_by,
            )
            for o in overdue
        ],
        custody=custody_history(milestones),
    )


def party_shipment(*, session: Session, principal: Principal, shipment_id: str) -> Shipment:
    """A shipment the calling organisation sells or is a party of (404 for anyone else)."""
    s = session.get(Shipment, shipment_id)
    if s is None:
        raise NotFound(f"shipment {shipment_id} not found")
    mine = org_signers(session=session, principal=principal)
    parties = {s.seller, *s.carriers, s.warehouse or "", s.customs_broker or ""}
    manifest = session.get(ShipmentManifest, shipment_id)
    owner = manifest is not None and manifest.org_id == principal.org_id
    if not owner and not (parties & mine):
        raise NotFound(f"shipment {shipment_id} not found")
    return s


def get_shipment(*, session: Session, principal: Principal, shipment_id: str) -> ShipmentDetail:
    """One shipment with its timeline, for its seller or any of its parties."""
    return _detail(
        session, party_shipment(session=session, principal=principal, shipment_id=shipment_id)
    )


# -- journeys for passport pages ---------------------------------------------


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
    pid = "0x" + passport_id.hex()
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
        detail = _detail(session, shipment).model_copy(update={"manifest": None})
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
