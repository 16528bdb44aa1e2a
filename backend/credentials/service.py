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
from backend.credentials import dpp, keys, status
from backend.credentials.did import CREDENTIAL_KEY_FRAGMENT, OrganisationNotRegistered, did_for
from backend.credentials.did import document as did_doc
from backend.credentials.models import StatusEntry
from backend.errors import Conflict, NotFound
from backend.gs1.digital_link import DigitalLink
from backend.orgs.directory import party
from backend.orgs.models import Organisation
from backend.passports.canonical import document_hash
from backend.passports.errors import PassportError
from backend.passports.models import Passport, PassportDocumentRecord, PassportVersion
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
) -> IssuedCredential:
    """The UNTP DPP credential of one version (default: the latest) of an indexed passport."""
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
    try:
        doc = parse_document(record.document)
        same = to_hex(document_hash(record.document)) == row.document_hash
    except PassportError:
        same = False
    if not same:
        raise Conflict(
            f"the stored document of passport {passport_id} version {wanted} does not hash "
            f"to the anchored documentHash {row.document_hash}; no credential is issued"
        )
    org, name = _issuer_org(session, head.issuer)
    did = did_for(org.slug, base=base)
    link = DigitalLink(doc.identity.gtin, doc.identity.lot, doc.identity.serial)
    root = base.rstrip("/")
    passport_url = f"{root}/v1/passports/{passport_id}"
    facts = dpp.VersionFacts(
        credential_id=credential_url(passport_id, wanted, base=base),
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
        _evidence(
            registry=registry, version=row, document=record.document, passport_url=passport_url
        )
    ]
    return IssuedCredential(credential, _envelope(session, settings, org, did, credential))


def status_list(
    *, session: Session, settings: Settings, base: str, slug: str, now: int
) -> IssuedCredential:
    """The organisation's revocation list: a bit set for each recalled or revoked passport."""
    org = session.scalar(select(Organisation).where(Organisation.slug == slug))
    if org is None:
        raise NotFound(f"no status list {slug!r}")
    did = did_for(slug, base=base)
    positions = session.scalars(
        select(StatusEntry.position)
        .join(Passport, Passport.id == StatusEntry.passport_id)
        .where(StatusEntry.org_id == org.id, Passport.status.in_(("recalled", "revoked")))
    ).all()
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
