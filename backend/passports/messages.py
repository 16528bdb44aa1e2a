"""Passport messages as their signers signed them, and the document an issue commits to.

Each function turns a validated request body into the EIP-712 message of
``backend.chain.typed_data.passports`` (byte fields as bytes), the form both
signature recovery and the contract call take.
"""

from __future__ import annotations

from typing import Any

from backend.chain.passports import PassportContent
from backend.common.types import hex_bytes, to_hex
from backend.errors import InvalidInput
from backend.passports.api_schemas import (
    AttestationCreate,
    AttestationRevoke,
    PassportAmend,
    PassportContentIn,
    PassportCreate,
    PassportStatusChangeIn,
)
from backend.passports.canonical import document_hash
from backend.passports.errors import DocumentInvalid, PassportError
from backend.passports.schemas import PassportDocument, parse_document


def issue_message(data: PassportCreate, content: PassportContent) -> dict[str, Any]:
    """The ``IssuePassport`` message."""
    return {
        "issuer": data.issuer,
        "passportId": data.passport_id,
        "content": content.message(),
        "nonce": data.nonce,
        "deadline": data.deadline,
    }


def amend_message(
    passport_id: bytes, data: PassportAmend, content: PassportContent
) -> dict[str, Any]:
    """The ``AmendPassport`` message: a new version on top of ``baseVersion``."""
    return {
        "issuer": data.issuer,
        "passportId": passport_id,
        "baseVersion": data.base_version,
        "content": content.message(),
        "nonce": data.nonce,
        "deadline": data.deadline,
    }


def status_message(passport_id: bytes, data: PassportStatusChangeIn) -> dict[str, Any]:
    """The ``RecallPassport`` or ``RevokePassport`` message (the two share their members)."""
    return {
        "issuer": data.issuer,
        "passportId": passport_id,
        "reasonCode": data.reason_code,
        "reason": data.reason,
        "nonce": data.nonce,
        "deadline": data.deadline,
    }


def attest_message(passport_id: bytes, data: AttestationCreate) -> dict[str, Any]:
    """The ``Attest`` message."""
    return {
        "certifier": data.certifier,
        "passportId": passport_id,
        "version": data.version,
        "documentHash": data.document_hash,
        "claim": data.claim,
        "validUntil": data.valid_until,
        "nonce": data.nonce,
        "deadline": data.deadline,
    }


def revoke_attestation_message(attestation_id: bytes, data: AttestationRevoke) -> dict[str, Any]:
    """The ``RevokeAttestation`` message."""
    return {
        "certifier": data.certifier,
        "attestationId": attestation_id,
        "reasonCode": data.reason_code,
        "reason": data.reason,
        "nonce": data.nonce,
        "deadline": data.deadline,
    }


def content(c: PassportContentIn) -> PassportContent:
    """The signed passport content as the registry takes it."""
    return PassportContent(
        document_hash=hex_bytes(c.document_hash),
        uri=c.uri,
        origin_country=c.origin_country,
        recycled_content_bps=c.recycled_content_bps,
        carbon_grams_co2e=c.carbon_grams_co2e,
        water_litres=c.water_litres,
    )


def checked_document(
    raw: dict[str, Any], content: PassportContentIn, passport_id: bytes
) -> PassportDocument:
    """Validate the document; its canonical hash and GS1 key must match what was signed."""
    try:
        doc = parse_document(raw)
        digest = document_hash(doc)
    except DocumentInvalid as exc:
        raise InvalidInput("document: " + "; ".join(exc.problems[:10])) from exc
    except PassportError as exc:
        raise InvalidInput(f"document: {exc}") from exc
    if to_hex(digest) != content.document_hash:
        raise InvalidInput(
            f"document hashes to {to_hex(digest)} (RFC 8785 + keccak256), but the signed "
            f"documentHash is {content.document_hash}"
        )
    if doc.passport_id != passport_id:
        raise InvalidInput(
            f"document identity {doc.identity.key.path} is passport {to_hex(doc.passport_id)}, "
            f"not {to_hex(passport_id)}"
        )
    return doc
