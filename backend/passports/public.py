"""Public reads of passports: the view passport pages, credentials and the resolver show.

Function other domains call (stable signature)::

    public_passport(*, session, passport_id: bytes, now: int | None = None)
        -> PassportPublicView | None
"""

from __future__ import annotations

import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.common.types import to_hex
from backend.passports.api_schemas import (
    AttestationPublic,
    PassportPublicView,
    PassportVersionPublic,
)
from backend.passports.canonical import document_hash, public_form
from backend.passports.errors import PassportError
from backend.passports.models import Attestation, Passport, PassportDocumentRecord, PassportVersion


def attestation_status(att: Attestation, now: int) -> str:
    """``valid``, ``expired`` (at ``now``) or ``revoked``."""
    if att.revoked:
        return "revoked"
    return "valid" if now < att.valid_until else "expired"


def public_passport(
    *, session: Session, passport_id: bytes, now: int | None = None
) -> PassportPublicView | None:
    """The public view of an indexed passport, or None if the indexer has not seen it.

    Attestation status is computed against ``now`` (Unix seconds, default the
    current time). ``tampered`` compares the stored document for the latest
    version, re-hashed now, with the on-chain ``documentHash``.
    """
    pid = to_hex(passport_id)
    head = session.get(Passport, pid)
    if head is None:
        return None
    when = int(time.time()) if now is None else now
    versions = session.scalars(
        select(PassportVersion)
        .where(PassportVersion.passport_id == pid)
        .order_by(PassportVersion.version)
    ).all()
    attestations = session.scalars(
        select(Attestation)
        .where(Attestation.passport_id == pid)
        .order_by(Attestation.block_number, Attestation.log_index)
    ).all()
    latest = versions[-1] if versions else None
    record = session.get(PassportDocumentRecord, latest.document_hash) if latest else None
    tampered: bool | None = None
    if record is not None and latest is not None:
        try:
            tampered = to_hex(document_hash(record.document)) != latest.document_hash
        except PassportError:
            tampered = True
    identity = record.document.get("identity", {}) if record else {}
    return PassportPublicView(
        id=pid,
        issuer=head.issuer,
        gtin=head.gtin or identity.get("gtin"),
        lot=head.lot or identity.get("lot"),
        serial=head.serial or identity.get("serial"),
        status=head.status,
        reason_code=head.reason_code,
        reason=head.reason,
        version=head.version,
        versions=[
            PassportVersionPublic(
                version=v.version,
                document_hash=v.document_hash,
                uri=v.uri,
                origin_country=v.origin_country,
                recycled_content_bps=v.recycled_content_bps,
                carbon_grams_co2e=v.carbon_grams_co2e,
                water_litres=v.water_litres,
                tx_hash=v.tx_hash,
                block_number=v.block_number,
            )
            for v in versions
        ],
        attestations=[
            AttestationPublic(
                id=a.id,
                certifier=a.certifier,
                claim=a.claim,
                version=a.version,
                document_hash=a.document_hash,
                valid_until=a.valid_until,
                status=attestation_status(a, when),
                revoked_reason_code=a.revoked_reason_code,
                revoked_reason=a.revoked_reason,
                tx_hash=a.tx_hash,
                block_number=a.block_number,
            )
            for a in attestations
        ],
        # Restricted sections only as digests: the public form hashes to the anchored value.
        document=public_form(record.document) if record else None,
        document_hash=latest.document_hash if latest else None,
        tampered=tampered,
        tx_hash=head.tx_hash,
        block_number=head.block_number,
    )
