"""Shipment writes: each signed call verified, then relayed with its typed effect.

Writes verify everything the contract will verify about the signer before
anything is queued: the EIP-712 signature against ``ShipmentRegistry``'s own
domain, that the signer is an active signer key of the calling organisation
with a fitting API-key scope (:func:`backend.orgs.signers.verify_signed_call`),
countersignatures by the parties they name
(:func:`backend.orgs.signers.verify_signature`), and (by simulating the call,
:func:`backend.relayer.signed.relay`) every contract rule; a revert is answered
409 with the decoded error name and arguments.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import select
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
)
from backend.common.types import to_hex
from backend.errors import Conflict, InvalidInput, NotFound
from backend.orgs.schemas import Scope
from backend.orgs.service import Principal
from backend.orgs.signers import (
    Signed,
    SignedCall,
    org_of,
    verify_signature,
    verify_signed_call,
)
from backend.orgs.subjects import require_may_write, require_speaks_for
from backend.relayer.effects import Effect
from backend.relayer.schemas import RelayAccepted
from backend.relayer.signed import ContractWrite, in_flight, relay, replayed
from backend.shipments.effects import (
    KINDS,
    MilestoneCorrected,
    MilestonesRecorded,
    OverdueFlagged,
    ShipmentCreated,
)
from backend.shipments.messages import (
    correction_message,
    delivery_message,
    line_passport_id,
    manifest_document,
    manifest_hash,
    milestone_message,
    terms_message,
)
from backend.shipments.models import ManifestLine, ShipmentManifest
from backend.shipments.schemas import (
    CorrectionCreate,
    DeliveryCreate,
    MilestoneBatchCreate,
    MilestoneCreate,
    MilestoneIn,
    ShipmentCreate,
)
from backend.shipments.subjects import MANIFEST_BASES

PURPOSE_CREATE = "shipment_create"
PURPOSE_MILESTONES = "shipment_milestones"
PURPOSE_CORRECTION = "shipment_correction"
PURPOSE_OVERDUE = "shipment_overdue"

SELLER_SCOPES = frozenset({Scope.SELLER})
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
            f"manifest hashes to {to_hex(expected)}, but the signed manifestHash is "
            f"{to_hex(data.terms.manifest_hash)}"
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
        chain=registry.chain,
    )
    sid = to_hex(data.terms.shipment_id)  # the stored form: rows, subjects, effects
    calldata = registry.chain.encode(
        registry.contract,
        "createShipmentWithSig",
        as_abi_tuple(SHIPMENT_TERMS, terms),
        data.nonce,
        data.deadline,
        data.signature,
    )
    org_id = org_of(principal)
    # The same signed shipment sent again (a phone resending what it kept) is the first write.
    prior = replayed(
        session=session,
        org_id=org_id,
        write=ContractWrite(
            to=registry.address, data=calldata, purpose=PURPOSE_CREATE, subject=sid
        ),
    )
    if prior is not None:
        return prior
    if session.get(ShipmentManifest, sid) is not None:
        raise Conflict(f"shipment {sid} was already submitted")
    sscc = data.manifest.sscc
    if sscc is not None and session.scalar(
        select(ShipmentManifest.shipment_id).where(ShipmentManifest.sscc == sscc)
    ):
        raise Conflict(f"sscc {sscc} already labels another shipment")
    lines = [(line, to_hex(line_passport_id(line))) for line in data.manifest.lines]
    # Carrying a passport makes the shipment's parties speak for it, so the
    # seller must speak for every passport it lists as issuer or delegate.
    for pid in sorted({pid for _, pid in lines}):
        require_speaks_for(
            session=session,
            org_id=org_id,
            subject=pid,
            bases=MANIFEST_BASES,
            org_slug=principal.org_slug,
        )
    session.add(
        ShipmentManifest(
            shipment_id=sid,
            org_id=org_id,
            manifest_hash=to_hex(data.terms.manifest_hash),
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
    signature: bytes,
    path_id: bytes | None = None,
) -> dict[str, Any]:
    """The milestone's message once its signer may write it (and, posted under a
    shipment's path, ``path_id``, it is about that shipment)."""
    if path_id is not None and item.shipment_id != path_id:
        raise InvalidInput("milestone.shipmentId differs from the shipment in the path")
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
        chain=registry.chain,
    )
    # A party of the shipment may write to it; to anyone else it does not exist.
    if not int(registry.roles_of(message["shipmentId"], signer)):
        raise NotFound(f"shipment {to_hex(item.shipment_id)} not found")
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
    shipment_id: bytes,
    data: MilestoneCreate,
) -> RelayAccepted:
    """Relay one signed milestone (with the receiver's countersignature for custody transfers)."""
    item = data.milestone
    message = _check_milestone(
        session=session,
        registry=registry,
        principal=principal,
        item=item,
        signature=data.signature,
        path_id=shipment_id,
    )
    sid = to_hex(shipment_id)
    _require_subject_rule(session, principal, [sid])
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
        verify_signature(
            Signed(
                registry.domain(),
                CUSTODY_ACCEPTANCE,
                acceptance_message(message, nonce=acc.nonce, deadline=acc.deadline),
                acc.signature,
                claimed=item.counterparty,
                field="acceptance counterparty",
            ),
            chain=chain,
        )
        calldata = chain.encode(
            contract,
            "recordCustodyTransfer",
            as_abi_tuple(MILESTONE, message),
            data.signature,
            (acc.nonce, acc.deadline, acc.signature),
        )
    else:
        calldata = chain.encode(
            contract, "recordMilestone", as_abi_tuple(MILESTONE, message), data.signature
        )
    return _enqueue_milestones(
        session=session,
        registry=registry,
        principal=principal,
        calldata=calldata,
        subject=sid,
        messages=[message],
    )


def record_delivery(
    *,
    session: Session,
    registry: ShipmentRegistryClient,
    principal: Principal,
    shipment_id: bytes,
    data: DeliveryCreate,
) -> RelayAccepted:
    """Relay DELIVERED with the consignee's proof of delivery (accepted, damaged or refused)."""
    item = data.milestone
    if item.milestone != MilestoneType.DELIVERED:
        raise InvalidInput("a proof of delivery goes with the DELIVERED milestone")
    message = _check_milestone(
        session=session,
        registry=registry,
        principal=principal,
        item=item,
        signature=data.signature,
        path_id=shipment_id,
    )
    consignee = registry.delivery_facts(message["shipmentId"]).consignee
    if consignee is None:
        raise Conflict(
            f"shipment {to_hex(shipment_id)} names no consignee: record DELIVERED as a milestone"
        )
    receipt = data.receipt
    condition = DeliveryCondition[receipt.condition.upper()]
    verify_signature(
        Signed(
            registry.domain(),
            PROOF_OF_DELIVERY,
            delivery_message(
                message, condition=condition, nonce=receipt.nonce, deadline=receipt.deadline
            ),
            receipt.signature,
            claimed=consignee,
            field="the shipment's consignee",
        ),
        chain=registry.chain,
    )
    calldata = registry.chain.encode(
        registry.contract,
        "recordDelivery",
        as_abi_tuple(MILESTONE, message),
        data.signature,
        (int(condition), receipt.nonce, receipt.deadline, receipt.signature),
    )
    return _enqueue_milestones(
        session=session,
        registry=registry,
        principal=principal,
        calldata=calldata,
        subject=to_hex(shipment_id),
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
    subjects = sorted({to_hex(it.milestone.shipment_id) for it in data.items})
    _require_subject_rule(session, principal, subjects)
    calldata = registry.calldata_record_milestones(
        [(m, it.signature) for m, it in zip(messages, data.items, strict=True)]
    )
    return _enqueue_milestones(
        session=session,
        registry=registry,
        principal=principal,
        calldata=calldata,
        subject=subjects[0] if len(subjects) == 1 else ",".join(subjects)[:66],
        messages=messages,
    )


def _enqueue_milestones(
    *,
    session: Session,
    registry: ShipmentRegistryClient,
    principal: Principal,
    calldata: str,
    subject: str,
    messages: Sequence[Mapping[str, Any]],
    also_signed: Sequence[tuple[str, int]] = (),
) -> RelayAccepted:
    """Relay milestones under ``subject`` (the stored form of their shipment ids);
    ``also_signed`` adds (signer, nonce) of countersignatures."""
    return _relay(
        session=session,
        registry=registry,
        principal=principal,
        calldata=calldata,
        purpose=PURPOSE_MILESTONES,
        effect=MilestonesRecorded(
            subject=to_hex(messages[0]["shipmentId"]),
            record_hashes=[to_hex(MILESTONE.hash_struct(m)) for m in messages],
        ),
        subjects=sorted({to_hex(m["shipmentId"]) for m in messages}),
        signer_nonces=_lowest_nonces(
            [*((m["signer"], m["nonce"]) for m in messages), *also_signed]
        ),
        subject=subject,
    )


def correct(
    *,
    session: Session,
    registry: ShipmentRegistryClient,
    principal: Principal,
    shipment_id: bytes,
    data: CorrectionCreate,
) -> RelayAccepted:
    """Relay a signed correction of an earlier history entry."""
    c = data.correction
    if c.shipment_id != shipment_id:
        raise InvalidInput("correction.shipmentId differs from the shipment in the path")
    message = correction_message(c)
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
        chain=registry.chain,
    )
    sid = to_hex(shipment_id)
    if not int(registry.roles_of(shipment_id, signer)):
        raise NotFound(f"shipment {sid} not found")
    _require_subject_rule(session, principal, [sid])
    calldata = registry.chain.encode(
        registry.contract,
        "correctMilestone",
        as_abi_tuple(CORRECTION, message),
        data.signature,
    )
    return _relay(
        session=session,
        registry=registry,
        principal=principal,
        calldata=calldata,
        purpose=PURPOSE_CORRECTION,
        effect=MilestoneCorrected(subject=sid, corrected_index=c.corrected_index, signer=c.signer),
        subjects=[sid],
    )


def _owned(session: Session, principal: Principal, shipment_id: str) -> ShipmentManifest:
    """The seller organisation's own shipment (404 for everyone else); ``shipment_id`` in
    its stored 0x-hex form."""
    manifest = session.get(ShipmentManifest, shipment_id)
    if manifest is None or manifest.org_id != org_of(principal):
        raise NotFound(f"shipment {shipment_id} not found")
    return manifest


def flag_overdue(
    *,
    session: Session,
    registry: ShipmentRegistryClient,
    principal: Principal,
    shipment_id: bytes,
    milestone: int,
) -> RelayAccepted:
    """Relay ``flagOverdue`` for the seller's own shipment (the contract checks the deadline)."""
    principal.require_any(SELLER_SCOPES)
    sid = to_hex(shipment_id)
    _owned(session, principal, sid)
    calldata = registry.chain.encode(registry.contract, "flagOverdue", shipment_id, milestone)
    return _relay(
        session=session,
        registry=registry,
        principal=principal,
        calldata=calldata,
        purpose=PURPOSE_OVERDUE,
        effect=OverdueFlagged(subject=sid, milestone=milestone),
        subjects=[sid],
    )
