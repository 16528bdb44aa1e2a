"""Credentials: did:web documents, passport versions as UNTP DPP credentials, status lists.

Read-only functions other domains and the router call::

    did_document(*, session, slug, base, chain_id) -> dict
    passport_credential(*, session, settings, registry, base, passport_id, version=None)
        -> IssuedCredential
    status_list(*, session, settings, base, slug) -> IssuedCredential

A credential is issued from what the chain and the read models say: the
version's anchored document hash, the stored document (refused with 409 if it
no longer hashes to the anchored value), the issuer organisation behind the
passport's on-chain issuer key, and the issuer's own EIP-712 signature decoded
from the transaction that recorded the version. The service's per-organisation
ES256K key only envelopes it (VC-JOSE-COSE); the evidence lets a verifier check
the content against the chain without trusting that key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.chain import eip712
from backend.chain.passports import PassportRegistryClient, signed_version
from backend.chain.typed_data.passports import AMEND_PASSPORT, ISSUE_PASSPORT
from backend.common.types import hex_bytes, to_hex
from backend.config import Settings
from backend.credentials import access, dpp, keys, status, untp
from backend.credentials.did import CREDENTIAL_KEY_FRAGMENT, OrganisationNotRegistered, did_for
from backend.credentials.did import document as did_doc
from backend.credentials.models import StatusEntry
from backend.errors import Conflict, NotFound
from backend.gs1.digital_link import DigitalLink
from backend.orgs.directory import party
from backend.orgs.models import Organisation
from backend.passports.canonical import document_hash, public_form
from backend.passports.errors import PassportError
from backend.passports.models import (
    Attestation,
    Passport,
    PassportDocumentRecord,
    PassportVersion,
)
from backend.passports.schemas import parse_document

MEDIA_TYPE_JWT = "application/vc+jwt"
MEDIA_TYPE_LD = "application/vc+ld+json"
HASH_METHOD = "keccak256 over the RFC 8785 (JCS) bytes of the passport document"


@dataclass(frozen=True)
class IssuedCredential:
    """A credential and its compact JWS envelope (``typ`` vc+jwt)."""

    credential: dict[str, Any]
    jws: str


def did_document(*, session: Session, slug: str, base: str, chain_id: int) -> dict[str, Any]:
    try:
        return did_doc(session=session, slug=slug, base=base, chain_id=chain_id)
    except OrganisationNotRegistered as exc:
        raise NotFound(str(exc)) from None


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _checked(kind: untp.Kind, credential: dict[str, Any]) -> dict[str, Any]:
    """``credential`` once it validates against the published UNTP schema (409 otherwise)."""
    try:
        untp.check(kind, credential)
    except untp.CredentialSchemaError as exc:
        raise Conflict(f"{exc}; no credential is issued", errors=exc.errors[:20]) from None
    return credential


def _envelope(
    session: Session, settings: Settings, org: Organisation, did: str, payload: dict[str, Any]
) -> str:
    key = keys.signing_key(session, settings, org.id)
    header = {"kid": f"{did}#{CREDENTIAL_KEY_FRAGMENT}-{key.kid}", "typ": "vc+jwt", "cty": "vc"}
    return keys.compact_jws(key, header, payload)


def status_list_url(slug: str, *, base: str) -> str:
    return f"{base.rstrip('/')}/credentials/status/{slug}"


def credential_url(passport_id: str, version: int, *, base: str) -> str:
    return f"{base.rstrip('/')}/v1/passports/{passport_id}/versions/{version}/credential"


def _issuer_org(session: Session, issuer: str) -> tuple[Organisation, str]:
    """The registered organisation behind the passport's issuer key, and its legal name."""
    who = party(session=session, address=issuer)
    org = (
        session.scalar(select(Organisation).where(Organisation.slug == who.slug))
        if who.slug
        else None
    )
    if org is None or not who.verified or who.name is None:
        raise Conflict(
            f"issuer key {issuer} belongs to no organisation registered in "
            "OrganisationRegistry here; no credential can name its issuer"
        )
    return org, who.name


def _evidence(
    *,
    registry: PassportRegistryClient,
    version: PassportVersion,
    document: dict[str, Any],
    passport_url: str,
) -> dict[str, Any]:
    chain_id = registry.chain.chain_id
    evidence: dict[str, Any] = {
        "type": ["Evidence", "AnchoredPassportVersion"],
        "id": passport_url,
        "name": "The passport version as anchored in ProductPassportRegistry, "
        "with the document it commits to",
        "chain": f"eip155:{chain_id}",
        "registry": f"eip155:{chain_id}:{registry.address}",
        "passportId": version.passport_id,
        "version": version.version,
        "documentHash": version.document_hash,
        "documentHashMethod": HASH_METHOD,
        "transactionHash": version.tx_hash,
        "blockNumber": version.block_number,
        "document": document,
    }
    signed = signed_version(registry, version.tx_hash, hex_bytes(version.passport_id))
    if signed is not None and signed.signature is not None and signed.message is not None:
        struct = ISSUE_PASSPORT if signed.primary_type == ISSUE_PASSPORT.name else AMEND_PASSPORT
        payload = eip712.typed_data_payload(registry.domain(), struct, signed.message)
        evidence["issuerSignature"] = {
            "signer": f"eip155:{chain_id}:{signed.signer}",
            "method": "EIP-712 (eth_signTypedData_v4)",
            "typedData": payload,
            "signature": to_hex(signed.signature),
        }
    elif signed is not None:
        evidence["sentBy"] = f"eip155:{chain_id}:{signed.sender}"
    return evidence


def passport_credential(
    *,
    session: Session,
    settings: Settings,
    registry: PassportRegistryClient,
    base: str,
    passport_id: str,
    version: int | None = None,
    level: str = "public",
    reader_org_id: int | None = None,
    reader: str | None = None,
) -> IssuedCredential:
    """The UNTP DPP credential of one version (default: the latest) of an indexed passport.

    ``level`` above ``public`` needs the reader's organisation to hold a grant of that
    level from the issuer (403 naming the level otherwise); restricted sections above
    ``level`` appear as digests only.
    """
    head = session.get(Passport, passport_id)
    if head is None:
        raise NotFound(f"passport {passport_id} not found")
    wanted = head.version if version is None else version
    row = session.scalar(
        select(PassportVersion).where(
            PassportVersion.passport_id == passport_id, PassportVersion.version == wanted
        )
    )
    if row is None:
        raise NotFound(f"passport {passport_id} has no version {wanted}")
    record = session.get(PassportDocumentRecord, row.document_hash)
    if record is None:
        raise NotFound(
            f"the document of passport {passport_id} version {wanted} is not stored here"
        )
    shown: dict[str, Any] = {}
    try:
        same = to_hex(document_hash(record.document)) == row.document_hash
        shown = access.view(dict(record.document), level)
        doc = parse_document(shown)
    except (PassportError, KeyError, TypeError, ValueError):
        same = False
    if not same:
        raise Conflict(
            f"the stored document of passport {passport_id} version {wanted} does not hash "
            f"to the anchored documentHash {row.document_hash}; no credential is issued"
        )
    org, name = _issuer_org(session, head.issuer)
    if level != "public":
        access.require(
            session=session,
            issuer_org_id=org.id,
            reader_org_id=reader_org_id,
            reader=reader,
            passport_id=passport_id,
            level=level,
        )
    did = did_for(org.slug, base=base)
    link = DigitalLink(doc.identity.gtin, doc.identity.lot, doc.identity.serial)
    root = base.rstrip("/")
    passport_url = f"{root}/v1/passports/{passport_id}"
    facts = dpp.VersionFacts(
        credential_id=credential_url(passport_id, wanted, base=base)
        + ("" if level == "public" else f"?access={level}"),
        digital_link=link.uri(root),
        passport_id=passport_id,
        version=wanted,
        document_hash=row.document_hash,
        tx_hash=row.tx_hash,
        block_number=row.block_number,
        valid_from=_iso(int(registry.chain.block(row.block_number)["timestamp"])),
        registry=registry.address,
        passport_url=passport_url,
    )
    issuer = dpp.Issuer(did=did, name=name, signer=head.issuer, chain_id=registry.chain.chain_id)
    credential = dpp.credential(doc, issuer=issuer, facts=facts)
    position = status.position_of(session, org_id=org.id, passport_id=passport_id)
    list_url = status_list_url(org.slug, base=base)
    credential["credentialStatus"] = {
        "id": f"{list_url}#{position}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": status.PURPOSE,
        "statusListIndex": str(position),
        "statusListCredential": list_url,
    }
    credential["evidence"] = [
        _evidence(registry=registry, version=row, document=shown, passport_url=passport_url)
    ]
    _checked("dpp", credential)
    return IssuedCredential(credential, _envelope(session, settings, org, did, credential))


def attestation_url(attestation_id: str, *, base: str) -> str:
    return f"{base.rstrip('/')}/v1/passports/attestations/{attestation_id}/credential"


def attestation_credential(
    *,
    session: Session,
    settings: Settings,
    registry: PassportRegistryClient,
    base: str,
    attestation_id: str,
) -> IssuedCredential:
    """A certifier's on-chain attestation as a UNTP Digital Conformity Credential.

    Issued by the certifier organisation's did:web; its status bit is set once the
    attestation is revoked on chain.
    """
    att = session.get(Attestation, attestation_id)
    if att is None:
        raise NotFound(f"attestation {attestation_id} not found")
    head = session.get(Passport, att.passport_id)
    record = session.get(PassportDocumentRecord, att.document_hash)
    if head is None or record is None:
        raise NotFound(f"the passport document attestation {attestation_id} is about is not here")
    doc = parse_document(public_form(record.document))
    cert_org, cert_name = _issuer_org(session, att.certifier)
    brand_org, brand_name = _issuer_org(session, head.issuer)
    chain_id = registry.chain.chain_id
    url = attestation_url(attestation_id, base=base)
    link = DigitalLink(doc.identity.gtin, doc.identity.lot, doc.identity.serial)
    facts = dpp.AttestationFacts(
        credential_id=url,
        attestation_id=attestation_id,
        claim=att.claim,
        version=att.version,
        document_hash=att.document_hash,
        valid_from=_iso(int(registry.chain.block(att.block_number)["timestamp"])),
        valid_until=_iso(att.valid_until),
        tx_hash=att.tx_hash,
        block_number=att.block_number,
        registry=registry.address,
        passport_credential=credential_url(att.passport_id, att.version, base=base),
        digital_link=link.uri(base.rstrip("/")),
    )
    certifier = dpp.Issuer(
        did=did_for(cert_org.slug, base=base),
        name=cert_name,
        signer=att.certifier,
        chain_id=chain_id,
    )
    brand = dpp.Issuer(
        did=did_for(brand_org.slug, base=base),
        name=brand_name,
        signer=head.issuer,
        chain_id=chain_id,
    )
    credential = dpp.conformity_credential(doc, certifier=certifier, brand=brand, facts=facts)
    position = status.position_of(session, org_id=cert_org.id, passport_id=attestation_id)
    list_url = status_list_url(cert_org.slug, base=base)
    credential["credentialStatus"] = {
        "id": f"{list_url}#{position}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": status.PURPOSE,
        "statusListIndex": str(position),
        "statusListCredential": list_url,
    }
    credential["evidence"] = [
        {
            "type": ["Evidence", "AnchoredAttestation"],
            "id": f"{base.rstrip('/')}/v1/passports/{att.passport_id}",
            "name": "The attestation as recorded in ProductPassportRegistry",
            "chain": f"eip155:{chain_id}",
            "registry": f"eip155:{chain_id}:{registry.address}",
            "attestationId": attestation_id,
            "passportId": att.passport_id,
            "version": att.version,
            "documentHash": att.document_hash,
            "claim": att.claim,
            "transactionHash": att.tx_hash,
            "blockNumber": att.block_number,
        }
    ]
    _checked("dcc", credential)
    did = did_for(cert_org.slug, base=base)
    return IssuedCredential(credential, _envelope(session, settings, cert_org, did, credential))


def status_list(
    *, session: Session, settings: Settings, base: str, slug: str, now: int
) -> IssuedCredential:
    """The organisation's revocation list: a bit set for each recalled or revoked passport
    it issued and each attestation of its that was revoked."""
    org = session.scalar(select(Organisation).where(Organisation.slug == slug))
    if org is None:
        raise NotFound(f"no status list {slug!r}")
    did = did_for(slug, base=base)
    positions = [
        *session.scalars(
            select(StatusEntry.position)
            .join(Passport, Passport.id == StatusEntry.passport_id)
            .where(StatusEntry.org_id == org.id, Passport.status.in_(("recalled", "revoked")))
        ),
        *session.scalars(
            select(StatusEntry.position)
            .join(Attestation, Attestation.id == StatusEntry.passport_id)
            .where(StatusEntry.org_id == org.id, Attestation.revoked.is_(True))
        ),
    ]
    url = status_list_url(slug, base=base)
    credential = {
        "@context": [dpp.VC_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": did,
        "validFrom": _iso(now),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": status.PURPOSE,
            "encodedList": status.encode(positions),
        },
    }
    return IssuedCredential(credential, _envelope(session, settings, org, did, credential))
