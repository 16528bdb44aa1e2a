"""EIP-712 structs signed by passport issuers and certifiers (``ProductPassportRegistry``)."""

from __future__ import annotations

from typing import Any

from backend.chain.eip712 import StructType

PASSPORT_CONTENT = StructType(
    "PassportContent",
    (
        ("bytes32", "documentHash"),
        ("string", "uri"),
        ("bytes2", "originCountry"),
        ("uint16", "recycledContentBps"),
        ("uint64", "carbonGramsCO2e"),
        ("uint64", "waterLitres"),
    ),
)

ISSUE_PASSPORT = StructType(
    "IssuePassport",
    (
        ("address", "issuer"),
        ("bytes32", "passportId"),
        ("PassportContent", "content"),
        ("uint256", "nonce"),
        ("uint256", "deadline"),
    ),
    deps=(PASSPORT_CONTENT,),
)

AMEND_PASSPORT = StructType(
    "AmendPassport",
    (
        ("address", "issuer"),
        ("bytes32", "passportId"),
        ("uint32", "baseVersion"),
        ("PassportContent", "content"),
        ("uint256", "nonce"),
        ("uint256", "deadline"),
    ),
    deps=(PASSPORT_CONTENT,),
)

ATTEST = StructType(
    "Attest",
    (
        ("address", "certifier"),
        ("bytes32", "passportId"),
        ("uint32", "version"),
        ("bytes32", "documentHash"),
        ("bytes32", "claim"),
        ("uint64", "validUntil"),
        ("uint256", "nonce"),
        ("uint256", "deadline"),
    ),
)


def _reasoned(name: str, actor: str, subject: str) -> StructType:
    return StructType(
        name,
        (
            ("address", actor),
            ("bytes32", subject),
            ("uint16", "reasonCode"),
            ("string", "reason"),
            ("uint256", "nonce"),
            ("uint256", "deadline"),
        ),
    )


RECALL_PASSPORT = _reasoned("RecallPassport", "issuer", "passportId")
REVOKE_PASSPORT = _reasoned("RevokePassport", "issuer", "passportId")
REVOKE_ATTESTATION = _reasoned("RevokeAttestation", "certifier", "attestationId")

# Contract constant name -> Python struct, for the TYPEHASH equality test.
TYPEHASH_CONSTANTS: dict[str, StructType] = {
    "PASSPORT_CONTENT_TYPEHASH": PASSPORT_CONTENT,
    "ISSUE_TYPEHASH": ISSUE_PASSPORT,
    "AMEND_TYPEHASH": AMEND_PASSPORT,
    "ATTEST_TYPEHASH": ATTEST,
    "RECALL_TYPEHASH": RECALL_PASSPORT,
    "REVOKE_TYPEHASH": REVOKE_PASSPORT,
    "REVOKE_ATTESTATION_TYPEHASH": REVOKE_ATTESTATION,
}


def content_message(
    *,
    document_hash: bytes,
    uri: str,
    origin_country: str,
    recycled_content_bps: int,
    carbon_grams_co2e: int,
    water_litres: int,
) -> dict[str, Any]:
    """The ``PassportContent`` member as signed."""
    return {
        "documentHash": document_hash,
        "uri": uri,
        "originCountry": origin_country.encode("ascii"),
        "recycledContentBps": recycled_content_bps,
        "carbonGramsCO2e": carbon_grams_co2e,
        "waterLitres": water_litres,
    }
