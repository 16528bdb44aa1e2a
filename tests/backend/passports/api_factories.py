"""Signed request bodies for the passports API."""

from __future__ import annotations

import copy
import json
from typing import Any

from eth_account.signers.local import LocalAccount

from backend.chain import eip712
from backend.chain.passports import PassportContent, PassportRegistryClient
from backend.chain.typed_data.passports import ATTEST, REVOKE_ATTESTATION
from backend.common.types import to_hex
from backend.passports.canonical import document_hash
from backend.passports.carbon import footprint
from backend.passports.schemas import parse_document
from backend.passports.summary import key_figures
from backend.paths import PROJECT_ROOT

SAMPLE = PROJECT_ROOT / "backend" / "passports" / "samples" / "bamboo_tableware.json"
HOUR = 3600


def sample_document(
    lot: str = "TH2611-07", *, gtin: str | None = None, **product: Any
) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(SAMPLE.read_text())
    doc["identity"]["lot"] = lot
    if gtin is not None:
        doc["identity"]["gtin"] = gtin
    doc["product"].update(product)
    return doc


def content_for(doc: dict[str, Any], uri: str = "https://langtre.example/p/1") -> PassportContent:
    parsed = parse_document(doc)
    figures = key_figures(parsed, footprint(parsed))
    return PassportContent(
        document_hash=document_hash(parsed),
        uri=uri,
        origin_country=figures.origin_country,
        recycled_content_bps=figures.recycled_content_bps,
        carbon_grams_co2e=figures.carbon_grams_co2e,
        water_litres=figures.water_litres,
    )


def content_json(c: PassportContent) -> dict[str, Any]:
    return {
        "documentHash": to_hex(c.document_hash),
        "uri": c.uri,
        "originCountry": c.origin_country,
        "recycledContentBps": c.recycled_content_bps,
        "carbonGramsCO2e": c.carbon_grams_co2e,
        "waterLitres": c.water_litres,
    }


def issue_body(
    reg: PassportRegistryClient,
    issuer: LocalAccount,
    doc: dict[str, Any],
    *,
    deadline: int,
    signer: LocalAccount | None = None,
    content: PassportContent | None = None,
) -> dict[str, Any]:
    parsed = parse_document(doc)
    c = content or content_for(doc)
    sig = reg.sign_issue((signer or issuer).key, parsed.passport_id, c, issuer.address, deadline)
    return {
        "passportId": to_hex(parsed.passport_id),
        "content": content_json(c),
        "issuer": issuer.address,
        "nonce": reg.nonce(issuer.address),
        "deadline": deadline,
        "signature": to_hex(sig),
        "document": copy.deepcopy(doc),
    }


def amend_body(
    reg: PassportRegistryClient,
    issuer: LocalAccount,
    doc: dict[str, Any],
    base_version: int,
    *,
    deadline: int,
) -> dict[str, Any]:
    parsed = parse_document(doc)
    c = content_for(doc, uri="https://langtre.example/p/2")
    sig = reg.sign_amend(issuer.key, parsed.passport_id, base_version, c, issuer.address, deadline)
    return {
        "baseVersion": base_version,
        "content": content_json(c),
        "issuer": issuer.address,
        "nonce": reg.nonce(issuer.address),
        "deadline": deadline,
        "signature": to_hex(sig),
        "document": copy.deepcopy(doc),
    }


def status_body(
    reg: PassportRegistryClient,
    issuer: LocalAccount,
    passport_id: bytes,
    *,
    revoke: bool,
    deadline: int,
    reason_code: int = 3,
    reason: str = "glaze batch failed migration test",
) -> dict[str, Any]:
    sign = reg.sign_revoke if revoke else reg.sign_recall
    sig = sign(issuer.key, passport_id, reason_code, reason, issuer.address, deadline)
    return {
        "reasonCode": reason_code,
        "reason": reason,
        "issuer": issuer.address,
        "nonce": reg.nonce(issuer.address),
        "deadline": deadline,
        "signature": to_hex(sig),
    }


def attest_body(
    reg: PassportRegistryClient,
    certifier: LocalAccount,
    passport_id: bytes,
    document_hash_: bytes,
    claim: bytes,
    *,
    valid_until: int,
    deadline: int,
    version: int = 1,
) -> dict[str, Any]:
    nonce = reg.nonce(certifier.address)
    message = {
        "certifier": certifier.address,
        "passportId": passport_id,
        "version": version,
        "documentHash": document_hash_,
        "claim": claim,
        "validUntil": valid_until,
        "nonce": nonce,
        "deadline": deadline,
    }
    sig = eip712.sign(certifier.key, reg.domain(), ATTEST, message)
    return {
        "version": version,
        "documentHash": to_hex(document_hash_),
        "claim": to_hex(claim),
        "validUntil": valid_until,
        "certifier": certifier.address,
        "nonce": nonce,
        "deadline": deadline,
        "signature": to_hex(sig),
    }


def revoke_attestation_body(
    reg: PassportRegistryClient,
    certifier: LocalAccount,
    attestation_id: bytes,
    *,
    deadline: int,
) -> dict[str, Any]:
    nonce = reg.nonce(certifier.address)
    message = {
        "certifier": certifier.address,
        "attestationId": attestation_id,
        "reasonCode": 6,
        "reason": "certificate withdrawn",
        "nonce": nonce,
        "deadline": deadline,
    }
    sig = eip712.sign(certifier.key, reg.domain(), REVOKE_ATTESTATION, message)
    return {
        "reasonCode": 6,
        "reason": "certificate withdrawn",
        "certifier": certifier.address,
        "nonce": nonce,
        "deadline": deadline,
        "signature": to_hex(sig),
    }
