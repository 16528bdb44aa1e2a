"""EIP-712 types of ``ShipmentRegistry``, its enums, and offline signing helpers.

The struct definitions mirror the ``*_TYPEHASH`` constants of
``contracts/ShipmentRegistry.sol`` field for field; a test hashes each
``type_string`` and compares it with the deployed constant. Messages are plain
dicts keyed by field name so they serialise straight into an
``eth_signTypedData_v4`` payload; :func:`as_abi_tuple` turns one into the tuple
the contract call takes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from enum import IntEnum, IntFlag
from typing import Any

from eth_hash.auto import keccak

from backend.chain import eip712
from backend.chain.eip712 import Domain, StructType
from backend.common.types import hex_bytes

MAX_UINT40 = (1 << 40) - 1


class MilestoneType(IntEnum):
    """Milestone vocabulary (GS1 CBV bizStep / DCSA event code alignment in docs/shipments.md)."""

    PICKED_UP = 1
    EXPORT_CLEARED = 2
    DEPARTED = 3
    ARRIVED = 4
    CUSTOMS_HOLD = 5
    CUSTOMS_RELEASED = 6
    IMPORT_CLEARED = 7
    WAREHOUSE_INBOUND = 8
    HANDOVER = 9
    OUT_FOR_DELIVERY = 10
    DELIVERED = 11
    RETURNED = 12
    EXCEPTION = 13


class Status(IntEnum):
    """Shipment status; numeric order is progress order up to DELIVERED."""

    NONE = 0
    CREATED = 1
    PICKED_UP = 2
    EXPORT_CLEARED = 3
    IN_TRANSIT = 4
    ARRIVED = 5
    CUSTOMS_HOLD = 6
    IMPORT_CLEARED = 7
    IN_WAREHOUSE = 8
    OUT_FOR_DELIVERY = 9
    DELIVERED = 10
    RETURNED = 11
    LOST = 12


# The statuses from which each milestone may be recorded: ShipmentRegistry's state
# machine, mirrored so that clients offer only what can succeed (the contract decides).
# tests/contracts checks this table against the contract on every chain backend.
ALLOWED_FROM: dict[MilestoneType, frozenset[Status]] = {
    MilestoneType.PICKED_UP: frozenset({Status.CREATED}),
    MilestoneType.EXPORT_CLEARED: frozenset({Status.PICKED_UP}),
    MilestoneType.DEPARTED: frozenset({Status.EXPORT_CLEARED, Status.ARRIVED}),
    MilestoneType.ARRIVED: frozenset({Status.IN_TRANSIT}),
    MilestoneType.CUSTOMS_HOLD: frozenset({Status.ARRIVED}),
    MilestoneType.CUSTOMS_RELEASED: frozenset({Status.CUSTOMS_HOLD}),
    MilestoneType.IMPORT_CLEARED: frozenset({Status.ARRIVED}),
    MilestoneType.WAREHOUSE_INBOUND: frozenset({Status.IMPORT_CLEARED, Status.OUT_FOR_DELIVERY}),
    MilestoneType.HANDOVER: frozenset(
        {
            Status.PICKED_UP,
            Status.EXPORT_CLEARED,
            Status.ARRIVED,
            Status.IMPORT_CLEARED,
            Status.IN_WAREHOUSE,
        }
    ),
    MilestoneType.OUT_FOR_DELIVERY: frozenset({Status.IMPORT_CLEARED, Status.IN_WAREHOUSE}),
    MilestoneType.DELIVERED: frozenset({Status.OUT_FOR_DELIVERY}),
    MilestoneType.RETURNED: frozenset(
        {
            Status.PICKED_UP,
            Status.EXPORT_CLEARED,
            Status.ARRIVED,
            Status.CUSTOMS_HOLD,
            Status.IMPORT_CLEARED,
            Status.IN_WAREHOUSE,
            Status.OUT_FOR_DELIVERY,
        }
    ),
    MilestoneType.EXCEPTION: frozenset(Status(s) for s in range(Status.CREATED, Status.DELIVERED)),
}


class Role(IntFlag):
    """Role bits a party holds on one shipment (``rolesOf``)."""

    SELLER = 1
    CARRIER = 2
    WAREHOUSE = 4
    CUSTOMS_BROKER = 8


class ExceptionReason(IntEnum):
    """``reasonCode`` of an EXCEPTION milestone."""

    DELAYED = 1
    DAMAGED = 2
    LOST = 3
    OTHER = 4


class DeliveryCondition(IntEnum):
    """The consignee's statement in a proof of delivery (``IProofOfDelivery.DeliveryCondition``)."""

    NONE = 0
    ACCEPTED = 1
    DAMAGED = 2
    REFUSED = 3


class CorrectionReason(IntEnum):
    """``reasonCode`` of a correction (EPCIS errorDeclaration reasons)."""

    DID_NOT_OCCUR = 1
    INCORRECT_DATA = 2
    OTHER = 3


CUSTODY_TRANSFERS = frozenset({MilestoneType.PICKED_UP, MilestoneType.HANDOVER})

SERVICE_LEVEL = StructType(
    "ServiceLevel",
    (
        ("uint64", "pickedUpBy"),
        ("uint64", "exportClearedBy"),
        ("uint64", "departedBy"),
        ("uint64", "arrivedBy"),
        ("uint64", "importClearedBy"),
        ("uint64", "deliveredBy"),
    ),
)

SHIPMENT_TERMS = StructType(
    "ShipmentTerms",
    (
        ("bytes32", "shipmentId"),
        ("address", "seller"),
        ("bytes5", "origin"),
        ("bytes5", "destination"),
        ("uint64", "declaredWeightGrams"),
        ("uint32", "pieceCount"),
        ("uint16", "weightToleranceBps"),
        ("bytes32", "manifestHash"),
        ("address[]", "carriers"),
        ("address", "warehouse"),
        ("address", "customsBroker"),
        ("address", "consignee"),
        ("ServiceLevel", "sla"),
    ),
    deps=(SERVICE_LEVEL,),
)

CREATE_SHIPMENT = StructType(
    "CreateShipment",
    (("ShipmentTerms", "terms"), ("uint256", "nonce"), ("uint256", "deadline")),
    deps=(SHIPMENT_TERMS,),
)

MILESTONE = StructType(
    "Milestone",
    (
        ("bytes32", "shipmentId"),
        ("uint8", "milestone"),
        ("uint16", "reasonCode"),
        ("uint64", "occurredAt"),
        ("bytes5", "location"),
        ("uint64", "measuredWeightGrams"),
        ("bytes32", "evidenceHash"),
        ("address", "signer"),
        ("address", "counterparty"),
        ("uint256", "nonce"),
        ("uint256", "deadline"),
    ),
)

CUSTODY_ACCEPTANCE = StructType(
    "CustodyAcceptance",
    (("Milestone", "milestone"), ("uint256", "nonce"), ("uint256", "deadline")),
    deps=(MILESTONE,),
)

PROOF_OF_DELIVERY = StructType(
    "ProofOfDelivery",
    (
        ("Milestone", "milestone"),
        ("uint8", "condition"),
        ("uint256", "nonce"),
        ("uint256", "deadline"),
    ),
    deps=(MILESTONE,),
)

CORRECTION = StructType(
    "Correction",
    (
        ("bytes32", "shipmentId"),
        ("uint32", "correctedIndex"),
        ("bytes32", "correctedRecordHash"),
        ("uint16", "reasonCode"),
        ("bytes32", "evidenceHash"),
        ("address", "signer"),
        ("uint256", "nonce"),
        ("uint256", "deadline"),
    ),
)

# Contract constant name -> Python struct, for the typehash test and tooling.
TYPEHASH_CONSTANTS: dict[str, StructType] = {
    "MILESTONE_TYPEHASH": MILESTONE,
    "CUSTODY_ACCEPTANCE_TYPEHASH": CUSTODY_ACCEPTANCE,
    "PROOF_OF_DELIVERY_TYPEHASH": PROOF_OF_DELIVERY,
    "CORRECTION_TYPEHASH": CORRECTION,
    "SERVICE_LEVEL_TYPEHASH": SERVICE_LEVEL,
    "SHIPMENT_TERMS_TYPEHASH": SHIPMENT_TERMS,
    "CREATE_SHIPMENT_TYPEHASH": CREATE_SHIPMENT,
}

ZERO_ADDRESS = "0x" + "00" * 20
ZERO_HASH = bytes(32)
# At most this many evidence files (photos, scale tickets) behind one evidenceHash.
MAX_EVIDENCE_FILES = 8


def evidence_set_hash(file_hashes: Sequence[bytes]) -> bytes:
    """The ``evidenceHash`` a milestone signs over its evidence files, in their order.

    The rule: each file is hashed with SHA-256. One file: its hash is the evidenceHash
    (what a single photo has always signed). Two or more: the evidenceHash is the
    SHA-256 of their hashes concatenated in order, 32 bytes each, so the signature
    commits to every file and to their order and none can be added or dropped later.
    The CLI (``--evidence`` repeated) and the service's evidence store apply this rule.
    """
    if not 1 <= len(file_hashes) <= MAX_EVIDENCE_FILES:
        raise ValueError(f"evidence: give 1 to {MAX_EVIDENCE_FILES} files, not {len(file_hashes)}")
    if any(len(h) != 32 for h in file_hashes):
        raise ValueError("evidence: every file hash is 32 bytes (SHA-256)")
    if len(set(file_hashes)) != len(file_hashes):
        raise ValueError("evidence: the same file is given twice")
    if len(file_hashes) == 1:
        return bytes(file_hashes[0])
    return hashlib.sha256(b"".join(file_hashes)).digest()


def shipment_id(seller: str, reference: str | bytes) -> bytes:
    """A shipment id that commits to its seller: ``seller (20 bytes) ‖ reference (12 bytes)``.

    ``ShipmentRegistry`` refuses any other id (``ShipmentIdNotSellers``), so nobody can
    take a seller's id first. A ``str`` reference is hashed (``keccak256``, first 12
    bytes); ``bytes`` must be exactly 12 bytes.
    """
    if isinstance(reference, str):
        reference = keccak(reference.encode())[:12]
    if len(reference) != 12:
        raise ValueError("a shipment reference is 12 bytes")
    return hex_bytes(seller) + reference


def locode(code: str) -> bytes:
    """A UN/LOCODE ("CN SHA" or "CNSHA") as the 5 ASCII bytes the contract stores."""
    compact = code.replace(" ", "").upper()
    if len(compact) != 5 or not compact.isalnum() or not compact[:2].isalpha():
        raise ValueError(f"not a UN/LOCODE: {code!r}")
    return compact.encode("ascii")


def locode_text(raw: bytes) -> str:
    """Inverse of :func:`locode`; empty for ``bytes5(0)``."""
    return "" if raw == bytes(5) else raw.decode("ascii")


def service_level(
    *,
    picked_up_by: int = 0,
    export_cleared_by: int = 0,
    departed_by: int = 0,
    arrived_by: int = 0,
    import_cleared_by: int = 0,
    delivered_by: int = 0,
) -> dict[str, int]:
    """A ``ServiceLevel`` message; 0 means no deadline."""
    return {
        "pickedUpBy": picked_up_by,
        "exportClearedBy": export_cleared_by,
        "departedBy": departed_by,
        "arrivedBy": arrived_by,
        "importClearedBy": import_cleared_by,
        "deliveredBy": delivered_by,
    }


def shipment_terms(
    *,
    shipment_id: bytes,
    seller: str,
    origin: str,
    destination: str,
    declared_weight_grams: int,
    piece_count: int,
    weight_tolerance_bps: int,
    manifest_hash: bytes,
    carriers: Sequence[str],
    warehouse: str = ZERO_ADDRESS,
    customs_broker: str = ZERO_ADDRESS,
    consignee: str = ZERO_ADDRESS,
    sla: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """A ``ShipmentTerms`` message (a non-zero ``consignee`` makes DELIVERED need its proof)."""
    return {
        "shipmentId": shipment_id,
        "seller": seller,
        "origin": locode(origin),
        "destination": locode(destination),
        "declaredWeightGrams": declared_weight_grams,
        "pieceCount": piece_count,
        "weightToleranceBps": weight_tolerance_bps,
        "manifestHash": manifest_hash,
        "carriers": list(carriers),
        "warehouse": warehouse,
        "customsBroker": customs_broker,
        "consignee": consignee,
        "sla": dict(sla) if sla is not None else service_level(),
    }


def milestone(
    *,
    shipment_id: bytes,
    kind: MilestoneType | int,
    signer: str,
    nonce: int,
    deadline: int,
    occurred_at: int,
    location: str | bytes = b"\x00" * 5,
    measured_weight_grams: int = 0,
    evidence_hash: bytes = ZERO_HASH,
    reason_code: int = 0,
    counterparty: str = ZERO_ADDRESS,
) -> dict[str, Any]:
    """A ``Milestone`` message (``counterparty`` only for PICKED_UP / HANDOVER)."""
    return {
        "shipmentId": shipment_id,
        "milestone": int(kind),
        "reasonCode": reason_code,
        "occurredAt": occurred_at,
        "location": locode(location) if isinstance(location, str) else bytes(location),
        "measuredWeightGrams": measured_weight_grams,
        "evidenceHash": evidence_hash,
        "signer": signer,
        "counterparty": counterparty,
        "nonce": nonce,
        "deadline": deadline,
    }


def correction(
    *,
    shipment_id: bytes,
    corrected_index: int,
    corrected_record_hash: bytes,
    reason: CorrectionReason | int,
    signer: str,
    nonce: int,
    deadline: int,
    evidence_hash: bytes = ZERO_HASH,
) -> dict[str, Any]:
    """A ``Correction`` message."""
    return {
        "shipmentId": shipment_id,
        "correctedIndex": corrected_index,
        "correctedRecordHash": corrected_record_hash,
        "reasonCode": int(reason),
        "evidenceHash": evidence_hash,
        "signer": signer,
        "nonce": nonce,
        "deadline": deadline,
    }


def record_hash(message: Mapping[str, Any]) -> bytes:
    """The ``recordHash`` a milestone gets on chain (its EIP-712 struct hash)."""
    return MILESTONE.hash_struct(message)


def sign_create_shipment(
    key: str | bytes, domain: Domain, terms: Mapping[str, Any], *, nonce: int, deadline: int
) -> bytes:
    """The seller's signature authorising ``createShipmentWithSig``."""
    return eip712.sign(
        key, domain, CREATE_SHIPMENT, {"terms": terms, "nonce": nonce, "deadline": deadline}
    )


def sign_milestone(key: str | bytes, domain: Domain, message: Mapping[str, Any]) -> bytes:
    """The signer's 65-byte signature over a ``Milestone``."""
    return eip712.sign(key, domain, MILESTONE, message)


def acceptance_message(
    milestone_message: Mapping[str, Any], *, nonce: int, deadline: int
) -> dict[str, Any]:
    """A ``CustodyAcceptance`` message wrapping the milestone the receiver accepts."""
    return {"milestone": dict(milestone_message), "nonce": nonce, "deadline": deadline}


def sign_acceptance(
    key: str | bytes,
    domain: Domain,
    milestone_message: Mapping[str, Any],
    *,
    nonce: int,
    deadline: int,
) -> bytes:
    """The receiving party's countersignature of a PICKED_UP / HANDOVER milestone."""
    message = acceptance_message(milestone_message, nonce=nonce, deadline=deadline)
    return eip712.sign(key, domain, CUSTODY_ACCEPTANCE, message)


def sign_proof_of_delivery(
    key: str | bytes,
    domain: Domain,
    milestone_message: Mapping[str, Any],
    *,
    condition: DeliveryCondition | int,
    nonce: int,
    deadline: int,
) -> bytes:
    """The consignee's proof of delivery over the carrier's DELIVERED milestone."""
    message = {
        "milestone": dict(milestone_message),
        "condition": int(condition),
        "nonce": nonce,
        "deadline": deadline,
    }
    return eip712.sign(key, domain, PROOF_OF_DELIVERY, message)


def sign_correction(key: str | bytes, domain: Domain, message: Mapping[str, Any]) -> bytes:
    """The signer's signature over a ``Correction``."""
    return eip712.sign(key, domain, CORRECTION, message)


def as_abi_tuple(struct: StructType, message: Mapping[str, Any]) -> tuple[Any, ...]:
    """``message`` as the positional tuple a contract call takes for ``struct``."""
    deps = {d.name: d for d in struct.deps}
    out: list[Any] = []
    for typ, name in struct.fields:
        value = message[name]
        if typ in deps:
            out.append(as_abi_tuple(deps[typ], value))
        elif typ.endswith("[]"):
            out.append(list(value))
        else:
            out.append(value)
    return tuple(out)
