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

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.chain import ChainClient, eip712
from backend.chain.passports import PassportRegistryClient, signed_version
from backend.chain.typed_data.events import SUPPLY_EVENT, EventKind, events_domain
from backend.chain.typed_data.passports import AMEND_PASSPORT, ISSUE_PASSPORT
from backend.chain.typed_data.shipments import MilestoneType
from backend.common.types import hex_bytes, to_hex
from backend.config import Settings
from backend.credentials import access, dpp, dte, keys, status, untp
from backend.credentials.did import CREDENTIAL_KEY_FRAGMENT, OrganisationNotRegistered, did_for
from backend.credentials.did import document as did_doc
from backend.credentials.models import StatusEntry
from backend.epcis.vocabulary import MILESTONE_CBV, MilestoneCode, exception_cbv
from backend.errors import Conflict, NotFound
from backend.events.models import SupplyEvent
from backend.gs1.digital_link import DigitalLink, build_digital_link
from backend.orgs.directory import party
from backend.orgs.models import Organisation
from backend.orgs.service import Principal
from backend.passports import public as passports_public
from backend.passports.canonical import document_hash, public_form
from backend.passports.errors import PassportError
from backend.passports.models import (
    Attestation,
    Passport,
    PassportDocumentRecord,
    PassportVersion,
)
from backend.passports.schemas import parse_document
from backend.shipments import public as shipments_public
from backend.shipments import queries as shipments_queries

MEDIA_TYPE_JWT = "application/vc+jwt"
MEDIA_TYPE_LD = "application/vc+ld+json"
DTE_LINK_TYPE = "https://test.uncefact.org/vocabulary/linkTypes/dte"
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
    signed = signed_version(
        registry, version.tx_hash, hex_bytes(version.passport_id), version.block_number
    )
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
            now=int(time.time()),
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
    traced = _traceability(session, passport_id, base=root)
    if traced:
        credential["credentialSubject"]["traceabilityInformation"] = traced
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


# -- Digital Traceability Events ------------------------------------------------------------

# CBV 2.0 business steps of the signed supply event kinds (no disposition is implied).
_SUPPLY_BIZ_STEPS: dict[EventKind, str | None] = {
    EventKind.SCAN: None,
    EventKind.SENSOR_READING: "sensor_reporting",
    EventKind.WAREHOUSE_MOVE: "storing",
    EventKind.HANDOVER: "accepting",
    EventKind.INSPECTION: "inspecting",
    EventKind.CUSTOMS_CLEARANCE: "inspecting",
}


def _traceability(session: Session, passport_id: str, *, base: str) -> list[dict[str, Any]]:
    """Links to the DTE credential of each current milestone of every shipment carrying the
    passport (as its consumer page shows them); reading one needs a party's key."""
    journeys = shipments_public.journey_for_passport(
        session=session, passport_id=hex_bytes(passport_id)
    )
    links = [
        {
            "type": ["SecureLink", "Link"],
            "linkURL": f"{base}{m.credential}",
            "linkName": f"{m.milestone_name} of shipment {j.shipment.id}",
            "linkType": DTE_LINK_TYPE,
        }
        for j in journeys
        for m in j.shipment.milestones
        if m.corrected_by_index is None
    ]
    if not links:
        return []
    return [
        {
            "type": ["TraceabilityPerformance"],
            "valueChainProcess": "shipping",
            "traceabilityEvent": links,
        }
    ]


def milestone_url(shipment_id: str, index: int, *, base: str) -> str:
    return f"{base.rstrip('/')}/v1/shipments/{shipment_id}/milestones/{index}/credential"


def supply_event_url(event_id: str, *, base: str) -> str:
    return f"{base.rstrip('/')}/v1/events/{event_id}/credential"


def _line(session: Session, line: dict[str, Any], *, base: str) -> dte.Line | None:
    """A manifest line as the DTE names it: an item (serial) or a quantity of a class."""
    name: str | None = None
    if line.get("gtin"):
        link = build_digital_link(str(line["gtin"]), lot=line.get("lot"), serial=line.get("serial"))
    else:
        view = passports_public.public_passport(
            session=session, passport_id=hex_bytes(str(line["passportId"]))
        )
        if view is None or view.gtin is None:
            return None  # a passport the indexer has not seen: nothing to name it by yet
        link = DigitalLink(view.gtin, view.lot, view.serial)
        product = (view.document or {}).get("product") or {}
        name = product.get("name") if isinstance(product, dict) else None
    label = name or f"GTIN {link.gtin}" + (f" lot {link.lot}" if link.lot else "")
    if link.serial:
        return dte.Line(link.uri(base), label, None)
    return dte.Line(link.uri(base), label, int(line.get("quantity", 1)))


def milestone_credential(
    *,
    session: Session,
    settings: Settings,
    chain: ChainClient,
    shipment_registry: str,
    base: str,
    principal: Principal,
    shipment_id: bytes,
    index: int,
) -> IssuedCredential:
    """A recorded shipment milestone as a UNTP DTE, issued by its signer's organisation.

    Read like the shipment's EPCIS export: its seller and parties only (others: 404).
    """
    detail = shipments_queries.get_shipment(
        session=session, principal=principal, shipment_id=shipment_id
    )
    sid = detail.id
    m = next((m for m in detail.milestones if m.index == index), None)
    if m is None:
        raise NotFound(f"shipment {sid} has no milestone {index}")
    org, name = _issuer_org(session, m.signer)
    root = base.rstrip("/")
    lines: list[Any] = list(detail.manifest.get("lines", [])) if detail.manifest else []  # type: ignore[call-overload]
    named = [x for x in (_line(session, line, base=root) for line in lines) if x is not None]
    code = MilestoneCode[MilestoneType(m.milestone).name]
    cbv = exception_cbv(m.reason_code) if code is MilestoneCode.EXCEPTION else MILESTONE_CBV[code]
    url = milestone_url(sid, index, base=base)
    chain_id = chain.chain_id
    details: dict[str, Any] = {
        "shipment": f"{root}/v1/shipments/{sid}",
        "milestoneIndex": index,
        "status": m.status,
    }
    if m.corrected_by_index is not None:
        details["correctedBy"] = milestone_url(sid, m.corrected_by_index, base=base)
    if m.reason_code:
        details["reasonCode"] = m.reason_code
    facts = dte.EventFacts(
        credential_id=url,
        event_uri=f"{url}#event",
        process=f"shipment milestone {MilestoneType(m.milestone).name}",
        biz_step=cbv.biz_step,
        disposition=cbv.disposition,
        occurred_at=_iso(m.occurred_at),
        location=m.location or None,
        lines=tuple(named),
        valid_from=_iso(int(chain.block(m.block_number)["timestamp"])),
        details=details,
        evidence={
            "type": ["Evidence", "RecordedMilestone"],
            "id": f"{root}/v1/shipments/{sid}",
            "name": "The milestone as recorded in ShipmentRegistry",
            "chain": f"eip155:{chain_id}",
            "registry": f"eip155:{chain_id}:{shipment_registry}",
            "shipmentId": sid,
            "milestoneIndex": index,
            "signer": f"eip155:{chain_id}:{m.signer}",
            "recordHash": m.record_hash,
            "evidenceHash": m.evidence_hash,
            "transactionHash": m.tx_hash,
            "blockNumber": m.block_number,
        },
    )
    issuer = dpp.Issuer(
        did=did_for(org.slug, base=base), name=name, signer=m.signer, chain_id=chain_id
    )
    credential = _checked("dte", dte.credential(issuer=issuer, facts=facts))
    return IssuedCredential(credential, _envelope(session, settings, org, issuer.did, credential))


def supply_event_credential(
    *,
    session: Session,
    settings: Settings,
    chain: ChainClient,
    anchor_registry: str,
    base: str,
    principal: Principal,
    event_id: str,
) -> IssuedCredential:
    """A signed supply event as a UNTP DTE, issued by its signer's organisation.

    Read like ``GET /v1/events``: by the organisation that recorded it (others: 404).
    """
    event = session.scalar(select(SupplyEvent).where(SupplyEvent.event_id == event_id))
    if event is None or principal.org_id is None or event.org_id != principal.org_id:
        raise NotFound(f"supply event {event_id} not found")
    org, name = _issuer_org(session, event.signer)
    root = base.rstrip("/")
    url = supply_event_url(event_id, base=base)
    kind = EventKind(event.kind)
    lines: tuple[dte.Line, ...] = ()
    view = passports_public.public_passport(session=session, passport_id=hex_bytes(event.subject))
    if view is not None and view.gtin is not None:
        link = DigitalLink(view.gtin, view.lot, view.serial)
        product = (view.document or {}).get("product") or {}
        label = product.get("name") if isinstance(product, dict) else None
        lines = (dte.Line(link.uri(root), label or f"GTIN {link.gtin}", None),)
    else:
        lines = (dte.Line(f"{root}/v1/shipments/{event.subject}", "shipment", None),)
    chain_id = chain.chain_id
    typed = eip712.typed_data_payload(
        events_domain(chain_id, anchor_registry),
        SUPPLY_EVENT,
        {
            "eventId": event.event_id,
            "subject": event.subject,
            "kind": event.kind,
            "occurredAt": event.occurred_at,
            "location": to_hex(event.location.encode("ascii").ljust(8, b"\0")),
            "payloadHash": event.payload_hash,
        },
    )
    facts = dte.EventFacts(
        credential_id=url,
        event_uri=f"{url}#event",
        process=f"supply event {kind.name}",
        biz_step=_SUPPLY_BIZ_STEPS[kind],
        disposition=None,
        occurred_at=_iso(event.occurred_at),
        location=event.location if len(event.location) == 5 else None,
        lines=lines,
        valid_from=_iso(int(event.received_at.timestamp())),
        details={"payloadHash": event.payload_hash, "anchoring": event.status},
        evidence={
            "type": ["Evidence", "SignedSupplyEvent"],
            "id": url,
            "name": "The supply event as its signer signed it (EIP-712)",
            "eventId": event.event_id,
            "digest": event.digest,
            "issuerSignature": {
                "signer": f"eip155:{chain_id}:{event.signer}",
                "method": "EIP-712 (eth_signTypedData_v4)",
                "typedData": typed,
                "signature": event.signature,
            },
        },
    )
    issuer = dpp.Issuer(
        did=did_for(org.slug, base=base), name=name, signer=event.signer, chain_id=chain_id
    )
    credential = _checked("dte", dte.credential(issuer=issuer, facts=facts))
    return IssuedCredential(credential, _envelope(session, settings, org, issuer.did, credential))
