"""Passport writes (issue, amend, recall, revoke, attest): each signed call
verified, then relayed with its typed effect.

Issue and amend carry the passport document: it must validate against
``waymark.passport/1`` and its RFC 8785 canonical hash must equal the signed
``documentHash`` (422 otherwise); it is stored by hash so passport pages can
serve it and anyone can re-hash it. Who may issue and attest is decided on chain
by ``OrganisationRegistry``: the registry refuses an issue unless the signing key
is an active issuer key of the organisation owning the GTIN's GS1 company prefix
(``PassportPrefixNotOwned``), and an attestation unless the key is an active
certifier key; the simulation before queueing answers those refusals as 409.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from backend.chain.eip712 import StructType
from backend.chain.organisations import Role
from backend.chain.passports import PassportRegistryClient
from backend.chain.typed_data.passports import (
    AMEND_PASSPORT,
    ATTEST,
    ISSUE_PASSPORT,
    RECALL_PASSPORT,
    REVOKE_ATTESTATION,
    REVOKE_PASSPORT,
)
from backend.common.types import to_hex
from backend.errors import Conflict, NotFound
from backend.orgs.schemas import Scope
from backend.orgs.service import Principal
from backend.orgs.signers import SignedCall, org_of, org_signers, verify_signed_call
from backend.orgs.subjects import Basis, require_speaks_for
from backend.passports.api_schemas import (
    AttestationCreate,
    AttestationRevoke,
    PassportAmend,
    PassportCreate,
    PassportStatusChangeIn,
)
from backend.passports.effects import (
    KINDS,
    AttestationMade,
    AttestationRevoked,
    PassportStatusSet,
    PassportVersioned,
)
from backend.passports.messages import (
    amend_message,
    attest_message,
    checked_document,
    content,
    issue_message,
    revoke_attestation_message,
    status_message,
)
from backend.passports.models import PassportDocumentRecord
from backend.passports.schemas import PassportDocument
from backend.relayer.effects import Effect
from backend.relayer.organisations import in_flight as org_registry_in_flight
from backend.relayer.schemas import RelayAccepted
from backend.relayer.signed import ContractWrite, in_flight, relay

#: Purpose of the role grants queued before this registry bound passports to
#: organisations; kept so such requests still in the queue are handled.
PURPOSE_ROLE = "passport_role"
PURPOSE_ISSUE = "passport_issue"
PURPOSE_AMEND = "passport_amend"
PURPOSE_RECALL = "passport_recall"
PURPOSE_REVOKE = "passport_revoke"
PURPOSE_ATTEST = "passport_attest"
PURPOSE_REVOKE_ATTESTATION = "passport_attestation_revoke"

ISSUER_SCOPES = frozenset({Scope.SELLER})
ISSUER_ONLY = frozenset({Basis.ISSUER})
CERTIFIER_SCOPES = frozenset({Scope.CERTIFIER})


#: The member naming the signer and the API-key scopes that may submit, by signing role.
SIGNERS = {Role.ISSUER: ("issuer", ISSUER_SCOPES), Role.CERTIFIER: ("certifier", CERTIFIER_SCOPES)}


def _verify(
    session: Session,
    registry: PassportRegistryClient,
    principal: Principal,
    struct: StructType,
    message: dict[str, Any],
    signature: bytes,
    signer: str,
) -> None:
    """The message is signed by ``signer``, an active key of the caller's organisation
    in the role the struct needs (issuer for passport writes, certifier for attestations)."""
    role = Role.CERTIFIER if struct in (ATTEST, REVOKE_ATTESTATION) else Role.ISSUER
    field, scopes = SIGNERS[role]
    verify_signed_call(
        SignedCall(
            registry.domain(),
            struct,
            message,
            signature,
            claimed=signer,
            field=field,
            role=role,
            scopes=scopes,
        ),
        session=session,
        principal=principal,
        chain=registry.chain,
    )


def _store_document(
    session: Session, doc: PassportDocument, digest: str, passport_id: str, org_id: int
) -> None:
    if session.get(PassportDocumentRecord, digest) is None:
        session.add(
            PassportDocumentRecord(
                document_hash=digest,
                passport_id=passport_id,
                org_id=org_id,
                document=doc.to_json_dict(),
            )
        )


def _relay(
    *,
    session: Session,
    registry: PassportRegistryClient,
    principal: Principal,
    purpose: str,
    data: str,
    effect: Effect,
    behind: bool = False,
    subject: str | None = None,
) -> RelayAccepted:
    passport_id = effect.subject
    write = ContractWrite(
        to=registry.address,
        data=data,
        purpose=purpose,
        subject=subject or passport_id,
        effect=effect,
    )
    # The organisation's registration or signer key still queued on the registry
    # (``behind=True``) or an earlier write to the same passport still in flight
    # may make the simulation revert for want of it: only a revert no queued
    # write can cure is refused then; the contract checks everything again on send.
    return relay(
        session=session,
        chain=registry.chain,
        org_id=org_of(principal),
        write=write,
        behind=behind or in_flight(session, subjects=[passport_id], kinds=KINDS),
        what=f"a write to passport {passport_id}",
    )


def _own_passport(
    session: Session, registry: PassportRegistryClient, principal: Principal, passport_id: bytes
) -> None:
    """The passport's on-chain issuer is a signer key of the caller (404 otherwise).

    The subject rule then confirms that the caller speaks for it as its issuer
    organisation: delegates and shipment parties add events, never versions.
    """
    head = registry.passport(passport_id)
    if head is None or head.issuer not in org_signers(session=session, principal=principal):
        raise NotFound(f"passport {to_hex(passport_id)} not found")
    require_speaks_for(
        session=session,
        org_id=org_of(principal),
        subject=to_hex(passport_id),
        bases=ISSUER_ONLY,
        org_slug=principal.org_slug,
    )


def issue(
    *,
    session: Session,
    registry: PassportRegistryClient,
    principal: Principal,
    data: PassportCreate,
) -> RelayAccepted:
    """Relay an issuer-signed issue after checking the document against the signed hash."""
    doc = checked_document(data.document, data.content, data.passport_id)
    signed = content(data.content)
    message = issue_message(data, signed)
    _verify(session, registry, principal, ISSUE_PASSPORT, message, data.signature, data.issuer)
    passport_id = to_hex(data.passport_id)  # the stored form: subjects, rows, effects
    if registry.passport(data.passport_id) is not None:
        raise Conflict(f"passport {passport_id} is already issued")
    # An issue of the same passport by another organisation may still be queued.
    require_speaks_for(
        session=session,
        org_id=org_of(principal),
        subject=passport_id,
        bases=ISSUER_ONLY,
        org_slug=principal.org_slug,
    )
    org_id = org_of(principal)
    _store_document(session, doc, data.content.document_hash, passport_id, org_id)
    calldata = registry.issue_signed_calldata(
        doc.identity.key.path, signed, data.issuer, data.deadline, data.signature
    )
    return _relay(
        session=session,
        registry=registry,
        principal=principal,
        purpose=PURPOSE_ISSUE,
        data=calldata,
        effect=PassportVersioned(subject=passport_id, version=1),
        behind=org_registry_in_flight(session, org_id),
    )


def amend(
    *,
    session: Session,
    registry: PassportRegistryClient,
    principal: Principal,
    passport_id: bytes,
    data: PassportAmend,
) -> RelayAccepted:
    """Relay an issuer-signed amendment (new version on top of ``baseVersion``)."""
    doc = checked_document(data.document, data.content, passport_id)
    signed = content(data.content)
    message = amend_message(passport_id, data, signed)
    _verify(session, registry, principal, AMEND_PASSPORT, message, data.signature, data.issuer)
    _own_passport(session, registry, principal, passport_id)
    org_id = org_of(principal)
    _store_document(session, doc, data.content.document_hash, to_hex(passport_id), org_id)
    calldata = registry.chain.encode(
        registry.contract,
        "amendWithSig",
        passport_id,
        data.base_version,
        signed.as_tuple(),
        data.issuer,
        data.deadline,
        data.signature,
    )
    return _relay(
        session=session,
        registry=registry,
        principal=principal,
        purpose=PURPOSE_AMEND,
        data=calldata,
        effect=PassportVersioned(subject=to_hex(passport_id), version=data.base_version + 1),
    )


def change_status(
    *,
    session: Session,
    registry: PassportRegistryClient,
    principal: Principal,
    passport_id: bytes,
    data: PassportStatusChangeIn,
    revoke: bool,
) -> RelayAccepted:
    """Relay an issuer-signed recall (``revoke=False``) or revocation."""
    message = status_message(passport_id, data)
    struct = REVOKE_PASSPORT if revoke else RECALL_PASSPORT
    _verify(session, registry, principal, struct, message, data.signature, data.issuer)
    _own_passport(session, registry, principal, passport_id)
    calldata = registry.chain.encode(
        registry.contract,
        "revokeWithSig" if revoke else "recallWithSig",
        passport_id,
        data.reason_code,
        data.reason,
        data.issuer,
        data.deadline,
        data.signature,
    )
    return _relay(
        session=session,
        registry=registry,
        principal=principal,
        purpose=PURPOSE_REVOKE if revoke else PURPOSE_RECALL,
        data=calldata,
        effect=PassportStatusSet(
            subject=to_hex(passport_id), status="revoked" if revoke else "recalled"
        ),
    )


def attest(
    *,
    session: Session,
    registry: PassportRegistryClient,
    principal: Principal,
    passport_id: bytes,
    data: AttestationCreate,
) -> RelayAccepted:
    """Relay a certifier-signed attestation; the answer's subject is the attestation id."""
    message = attest_message(passport_id, data)
    _verify(session, registry, principal, ATTEST, message, data.signature, data.certifier)
    if registry.passport(passport_id) is None:
        raise NotFound(f"passport {to_hex(passport_id)} not found")
    org_id = org_of(principal)
    request = (
        passport_id,
        data.version,
        data.document_hash,
        data.claim,
        data.valid_until,
    )
    calldata = registry.chain.encode(
        registry.contract,
        "attestWithSig",
        request,
        data.certifier,
        data.deadline,
        data.signature,
    )
    attestation_id = to_hex(
        PassportRegistryClient.attestation_id(
            passport_id, data.version, data.claim, data.certifier, data.nonce
        )
    )
    return _relay(
        session=session,
        registry=registry,
        principal=principal,
        purpose=PURPOSE_ATTEST,
        data=calldata,
        effect=AttestationMade(subject=to_hex(passport_id), attestation_id=attestation_id),
        behind=org_registry_in_flight(session, org_id),
        subject=attestation_id,
    )


def revoke_attestation(
    *,
    session: Session,
    registry: PassportRegistryClient,
    principal: Principal,
    attestation_id: bytes,
    data: AttestationRevoke,
) -> RelayAccepted:
    """Relay a certifier-signed withdrawal of its own attestation."""
    message = revoke_attestation_message(attestation_id, data)
    _verify(
        session, registry, principal, REVOKE_ATTESTATION, message, data.signature, data.certifier
    )
    record = registry.attestation(attestation_id)
    if record is None or record.certifier not in org_signers(session=session, principal=principal):
        raise NotFound(f"attestation {to_hex(attestation_id)} not found")
    calldata = registry.chain.encode(
        registry.contract,
        "revokeAttestationWithSig",
        attestation_id,
        data.reason_code,
        data.reason,
        data.certifier,
        data.deadline,
        data.signature,
    )
    return _relay(
        session=session,
        registry=registry,
        principal=principal,
        purpose=PURPOSE_REVOKE_ATTESTATION,
        data=calldata,
        effect=AttestationRevoked(
            subject=to_hex(record.passport_id), attestation_id=to_hex(attestation_id)
        ),
        subject=to_hex(attestation_id),
    )
