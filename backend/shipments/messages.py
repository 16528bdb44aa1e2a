"""Shipment messages as their signers signed them, and the manifest's canonical hash.

Each function turns a validated request body into the EIP-712 message of
``backend.chain.typed_data.shipments`` (byte fields as bytes), the form both
signature recovery and the contract call take.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import rfc8785
from eth_hash.auto import keccak

from backend.chain.typed_data.shipments import DeliveryCondition, locode
from backend.errors import InvalidInput
from backend.gs1.errors import IdentifierInvalid
from backend.gs1.keys import passport_id as gs1_passport_id
from backend.shipments.schemas import (
    CorrectionIn,
    ManifestIn,
    ManifestLineIn,
    MilestoneIn,
    ShipmentTermsIn,
)


def terms_message(t: ShipmentTermsIn) -> dict[str, Any]:
    """The ``ShipmentTerms`` message exactly as the seller signed it."""
    return {
        "shipmentId": t.shipment_id,
        "seller": t.seller,
        "origin": locode(t.origin),
        "destination": locode(t.destination),
        "declaredWeightGrams": t.declared_weight_grams,
        "pieceCount": t.piece_count,
        "weightToleranceBps": t.weight_tolerance_bps,
        "manifestHash": t.manifest_hash,
        "carriers": list(t.carriers),
        "warehouse": t.warehouse,
        "customsBroker": t.customs_broker,
        "consignee": t.consignee,
        "sla": t.sla.model_dump(by_alias=True),
    }


def milestone_message(m: MilestoneIn) -> dict[str, Any]:
    """The ``Milestone`` message exactly as its signer signed it."""
    return {
        "shipmentId": m.shipment_id,
        "milestone": m.milestone,
        "reasonCode": m.reason_code,
        "occurredAt": m.occurred_at,
        "location": locode(m.location) if m.location else bytes(5),
        "measuredWeightGrams": m.measured_weight_grams,
        "evidenceHash": m.evidence_hash,
        "signer": m.signer,
        "counterparty": m.counterparty,
        "nonce": m.nonce,
        "deadline": m.deadline,
    }


def correction_message(c: CorrectionIn) -> dict[str, Any]:
    """The ``Correction`` message exactly as its signer signed it."""
    return {
        "shipmentId": c.shipment_id,
        "correctedIndex": c.corrected_index,
        "correctedRecordHash": c.corrected_record_hash,
        "reasonCode": c.reason_code,
        "evidenceHash": c.evidence_hash,
        "signer": c.signer,
        "nonce": c.nonce,
        "deadline": c.deadline,
    }


def delivery_message(
    milestone: Mapping[str, Any], *, condition: DeliveryCondition, nonce: int, deadline: int
) -> dict[str, Any]:
    """The consignee's ``ProofOfDelivery`` over the DELIVERED milestone message."""
    return {
        "milestone": milestone,
        "condition": int(condition),
        "nonce": nonce,
        "deadline": deadline,
    }


def manifest_document(manifest: ManifestIn) -> dict[str, Any]:
    """The manifest's published JSON form (what is hashed and stored)."""
    return manifest.model_dump(mode="json", by_alias=True, exclude_none=True)


def manifest_hash(manifest: ManifestIn | Mapping[str, Any]) -> bytes:
    """``keccak256`` of the RFC 8785 canonical JSON of the manifest."""
    doc = manifest_document(manifest) if isinstance(manifest, ManifestIn) else manifest
    return keccak(rfc8785.dumps(doc))


def line_passport_id(line: ManifestLineIn) -> bytes:
    """The passport a manifest line carries: as given, or derived from its GS1 keys."""
    if line.passport_id is not None:
        return line.passport_id
    try:
        return gs1_passport_id(line.gtin or "", line.lot, line.serial)
    except IdentifierInvalid as exc:
        raise InvalidInput(f"manifest line: {exc}") from exc
