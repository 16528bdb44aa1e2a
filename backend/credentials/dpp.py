"""A passport version as a UNTP Digital Product Passport credential (VC Data Model 2.0).

Pure mapping from the signed passport document (``waymark.passport/1``) and the
on-chain facts of its version to the credential JSON-LD; nothing here touches
the database or the chain. Field names follow the published UNTP 0.6.1 schemas
(vendored in ``schemas/``; the subject is a ``ProductPassport`` holding the
``Product``, with ``Material``, ``Claim``, ``EmissionsPerformance`` and
``CircularityPerformance``). What UNTP has no term for (emissions per lifecycle
stage with the working, water per stage, restricted sections) is carried in extra
properties of objects whose schema allows them, which the VC 2.0 base context maps
to ``https://www.w3.org/ns/credentials/issuer-dependent#``. Every identifier the
schema types as a URI is absolute: a value the document holds as a plain name (a
certification body, a facility code) gets an id that is a fragment of the credential.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from eth_hash.auto import keccak
from rfc3986_validator import validate_rfc3986

from backend.common.types import to_hex
from backend.credentials import untp
from backend.passports.canonical import section_digest
from backend.passports.carbon import footprint
from backend.passports.schemas import Certification, PassportDocument

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
UNTP_DPP_CONTEXT = untp.context("dpp")
GTIN_SCHEME = {
    "type": ["IdentifierScheme"],
    "id": "https://id.gs1.org/01/",
    "name": "Global Trade Item Number (GTIN)",
}
_STAGE_NAMES = {
    "raw_materials": "Raw material acquisition",
    "manufacturing": "Manufacturing",
    "packaging": "Packaging",
    "distribution": "Distribution",
    "use": "Use",
    "end_of_life": "End of life",
}


@dataclass(frozen=True)
class Issuer:
    did: str
    name: str
    signer: str
    chain_id: int


@dataclass(frozen=True)
class VersionFacts:
    """What the chain recorded for the version, and where the credential lives."""

    credential_id: str
    digital_link: str
    passport_id: str
    version: int
    document_hash: str
    tx_hash: str
    block_number: int
    valid_from: str  # the block's time, RFC 3339
    registry: str
    passport_url: str


def _round(value: float, places: int = 6) -> float:
    return round(value, places)


UNTP_DCC_CONTEXT = untp.context("dcc")


def uri_or_fragment(value: str, *, base: str, kind: str) -> str:
    """``value`` if it is an absolute URI, else ``<base>#<kind>-<value>`` (percent-encoded)."""
    if validate_rfc3986(value, rule="URI"):
        return value
    return f"{base}#{kind}-{quote(value, safe='')}"


def credential_issuer(issuer: Issuer, *, role: str) -> dict[str, Any]:
    """A UNTP ``CredentialIssuer``: the did:web, and the on-chain signer key it speaks for."""
    return {
        "type": ["CredentialIssuer"],
        "id": issuer.did,
        "name": issuer.name,
        "issuerAlsoKnownAs": [
            {
                "id": f"eip155:{issuer.chain_id}:{issuer.signer}",
                "name": f"{role} signer key in OrganisationRegistry (CAIP-10)",
                "registeredId": issuer.signer,
            }
        ],
    }


def conformity_topic(scheme: str) -> str:
    """The UNTP conformity topic of a certification scheme (forest schemes: deforestation)."""
    lowered = scheme.lower()
    return (
        "environment.deforestation"
        if "fsc" in lowered or "pefc" in lowered
        else "governance.compliance"
    )


def standard(cert: Certification, *, base: str) -> dict[str, Any]:
    """The certification scheme as a UNTP ``Standard`` issued by the certification body."""
    return {
        "type": ["Standard"],
        "name": cert.scheme,
        "issuingParty": {
            "id": uri_or_fragment(cert.issuer, base=base, kind="party"),
            "name": cert.issuer,
        },
    }


def _claims(doc: PassportDocument, *, base: str) -> list[dict[str, Any]]:
    claims = []
    for cert in doc.certifications:
        claim: dict[str, Any] = {
            "type": ["Claim", "Declaration"],
            "id": f"{base}#certification-{quote(cert.id, safe='')}",
            "conformance": True,
            "conformityTopic": conformity_topic(cert.scheme),
            "assessmentDate": cert.valid_from.isoformat(),
            "referenceStandard": standard(cert, base=base),
            "validUntil": cert.valid_until.isoformat(),
            "declaredBy": "issuer",
        }
        if cert.certificate_number:
            claim["certificateNumber"] = cert.certificate_number
        claims.append(claim)
    return claims


def _emissions(doc: PassportDocument) -> dict[str, Any]:
    fp = footprint(doc)
    stages = []
    for stage in fp.stages:
        stages.append(
            {
                "lifecycleStage": stage.stage,
                "name": _STAGE_NAMES[stage.stage],
                "carbonFootprint": _round(stage.total_g_co2e / 1000.0),
                "waterLitres": _round(stage.water_litres),
                "working": [
                    {
                        "description": step.description,
                        "activity": {"value": step.activity, "unit": step.activity_unit},
                        "emissionFactor": {"value": step.factor, "unit": step.factor_unit},
                        "result": {"value": _round(step.result_g_co2e / 1000.0), "unit": "KGM"},
                        "formula": step.formula,
                        "source": step.source,
                    }
                    for step in stage.steps
                ],
            }
        )
    has_later_stages = any(getattr(doc.carbon, s) for s in ("use", "end_of_life")) or any(
        getattr(doc.water, s) for s in ("use", "end_of_life")
    )
    return {
        "type": ["EmissionsPerformance"],
        "carbonFootprint": _round(fp.total_kg_co2e),
        "declaredUnit": "H87",  # UN/ECE Rec 20: piece (one passport subject)
        "operationalScope": "CradleToGrave" if has_later_stages else "CradleToGate",
        # Waymark does not know which factors are supplier-specific; it claims none.
        "primarySourcedRatio": 0,
        "carbonFootprintUnit": "KGM CO2e",
        "lifecycleStages": stages,
        "waterFootprint": {"value": _round(fp.total_water_litres), "unit": "LTR"},
    }


def credential(doc: PassportDocument, *, issuer: Issuer, facts: VersionFacts) -> dict[str, Any]:
    """The unsecured credential (the payload of its ``vc+jwt`` envelope)."""
    ident = doc.identity
    base = facts.credential_id
    product: dict[str, Any] = {
        "type": ["Product"],
        "id": facts.digital_link,
        "name": doc.product.name,
        "registeredId": ident.gtin,
        "idScheme": GTIN_SCHEME,
        "productCategory": [
            {
                "type": ["Classification"],
                "id": f"{base}#category",
                "name": doc.product.category,
            }
        ],
        "producedByParty": {"id": issuer.did, "name": issuer.name},
        "countryOfProduction": doc.origin.country,
        "furtherInformation": [
            {
                "type": ["Link"],
                "linkURL": facts.digital_link,
                "linkName": "Product passport page",
                "linkType": "https://gs1.org/voc/pip",
            }
        ],
    }
    if doc.product.description:
        product["description"] = doc.product.description
    if ident.lot:
        product["batchNumber"] = ident.lot
    if ident.serial:
        product["serialNumber"] = ident.serial
    if doc.origin.facility_id:
        product["producedAtFacility"] = {
            "id": uri_or_fragment(doc.origin.facility_id, base=base, kind="facility"),
            "name": doc.origin.region or doc.origin.facility_id,
            "registeredId": doc.origin.facility_id,
        }
    circularity: dict[str, Any] = {
        "type": ["CircularityPerformance"],
        "recycledContent": _round(doc.recycled_content_pct() / 100.0),
    }
    if doc.instructions.repair:
        circularity["repairInformation"] = {
            "type": ["Link"],
            "linkURL": facts.digital_link,
            "linkName": "; ".join(doc.instructions.repair),
        }
    if doc.instructions.recycling:
        circularity["recyclingInformation"] = {
            "type": ["Link"],
            "linkURL": facts.digital_link,
            "linkName": "; ".join(doc.instructions.recycling),
        }
    subject: dict[str, Any] = {
        "type": ["ProductPassport"],
        "id": f"{facts.passport_url}#version-{facts.version}",
        "product": product,
        "granularityLevel": "item" if ident.serial else "batch" if ident.lot else "model",
        "materialsProvenance": [
            {
                "type": ["Material"],
                "name": m.name,
                "originCountry": m.origin_country,
                "massFraction": _round(m.mass_share_pct / 100.0),
                "recycledMassFraction": _round(m.recycled_share_pct / 100.0),
            }
            for m in doc.materials
        ],
        "conformityClaim": _claims(doc, base=base),
        "circularityScorecard": circularity,
        "emissionsScorecard": _emissions(doc),
    }
    if doc.restricted_sections:
        # ESPR-style access levels: sections above the reader's level show only their digest.
        subject["restrictedSections"] = [
            {
                "name": r.name,
                "accessLevel": r.access,
                "digest": r.digest or section_digest({"content": r.content, "salt": r.salt}),
                **({"content": r.content} if r.content is not None else {}),
            }
            for r in doc.restricted_sections
        ]
    return {
        "@context": [VC_CONTEXT, UNTP_DPP_CONTEXT],
        "type": ["VerifiableCredential", "DigitalProductPassport"],
        "id": facts.credential_id,
        "issuer": credential_issuer(issuer, role="Issuer"),
        "validFrom": facts.valid_from,
        "credentialSubject": subject,
    }


@dataclass(frozen=True)
class AttestationFacts:
    """An on-chain certifier attestation and where its credential lives."""

    credential_id: str
    attestation_id: str
    claim: str
    version: int
    document_hash: str
    valid_from: str
    valid_until: str
    tx_hash: str
    block_number: int
    registry: str
    passport_credential: str
    digital_link: str


def conformity_credential(
    doc: PassportDocument,
    *,
    certifier: Issuer,
    brand: Issuer,
    facts: AttestationFacts,
) -> dict[str, Any]:
    """A certifier attestation as a UNTP Digital Conformity Credential (unsecured)."""
    # The claim id is keccak256 of a certification id the attested document lists.
    cert = next((c for c in doc.certifications if _claim_id(c.id) == facts.claim.lower()), None)
    base = facts.credential_id
    product: dict[str, Any] = {
        "id": facts.digital_link,
        "name": doc.product.name,
        "registeredId": doc.identity.gtin,
    }
    if doc.identity.lot:
        product["batchNumber"] = doc.identity.lot
    if doc.identity.serial:
        product["serialNumber"] = doc.identity.serial
    assessment: dict[str, Any] = {
        "type": ["ConformityAssessment", "Declaration"],
        "id": f"{base}#assessment",
        "conformance": True,
        "conformityTopic": conformity_topic(cert.scheme) if cert else "governance.compliance",
        "assessmentDate": facts.valid_from[:10],
        # The certifier attests the product the passport version names; whether it checked
        # the physical item's identifier is not recorded on chain, so it is not claimed.
        "assessedProduct": [
            {"type": ["ProductVerification"], "product": product, "IDverifiedByCAB": False}
        ],
        "claim": facts.claim,
        "passportVersion": facts.version,
        "passportCredential": facts.passport_credential,
    }
    if cert is not None:
        assessment["referenceStandard"] = standard(cert, base=base)
        if cert.certificate_number:
            assessment["certificateNumber"] = cert.certificate_number
    return {
        "@context": [VC_CONTEXT, UNTP_DCC_CONTEXT],
        "type": ["VerifiableCredential", "DigitalConformityCredential"],
        "id": facts.credential_id,
        "issuer": credential_issuer(certifier, role="Certifier"),
        "validFrom": facts.valid_from,
        "validUntil": facts.valid_until,
        "credentialSubject": {
            "type": ["ConformityAttestation", "Attestation"],
            "id": f"{base}#attestation",
            "name": cert.scheme if cert else f"Attestation {facts.claim}",
            # The registry accredits certifiers (a role the registrar grants), which UNTP's
            # levels do not name; nothing stronger is claimed.
            "assessorLevel": "3rdParty",
            "assessmentLevel": "Unspecified",
            "attestationType": "certification",
            "issuedToParty": {"id": brand.did, "name": brand.name},
            "assessment": [assessment],
        },
    }


def _claim_id(name: str) -> str:
    return to_hex(keccak(name.encode()))
