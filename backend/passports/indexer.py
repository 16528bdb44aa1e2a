"""Indexer handlers for ``ProductPassportRegistry``: heads, versions, status changes, attestations.

Idempotent on ``(tx_hash, log_index)`` (versions on ``(passport, version)``,
attestations on their id). The rollback deletes rows at or above the fork and
recomputes each surviving head (latest version, latest status change) and
each attestation revoked in the orphaned blocks, and queues again the relayed
writes whose transactions the reorg removed.
"""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from backend.chain import DecodedEvent
from backend.common.types import to_hex
from backend.indexer.service import BlockRef, ContractHandlers
from backend.passports.effects import KINDS
from backend.passports.models import (
    Attestation,
    Passport,
    PassportDocumentRecord,
    PassportStatusChange,
    PassportVersion,
)
from backend.relayer.signed import relay_ids, requeue_orphaned


def _country(raw: bytes) -> str:
    return bytes(raw).rstrip(b"\x00").decode("ascii", errors="replace")


def _add_version(session: Session, ev: DecodedEvent, block: BlockRef, version: int) -> bool:
    pid = to_hex(ev.args["passportId"])
    exists = session.scalar(
        select(PassportVersion.id).where(
            PassportVersion.passport_id == pid, PassportVersion.version == version
        )
    )
    if exists is not None:
        return False
    a = ev.args
    session.add(
        PassportVersion(
            passport_id=pid,
            version=version,
            document_hash=to_hex(a["documentHash"]),
            uri=str(a["uri"]),
            origin_country=_country(a["originCountry"]),
            recycled_content_bps=int(a["recycledContentBps"]),
            carbon_grams_co2e=int(a["carbonGramsCO2e"]),
            water_litres=int(a["waterLitres"]),
            block_number=block.number,
            tx_hash=ev.tx_hash,
            log_index=ev.log_index,
        )
    )
    return True


def on_issued(session: Session, ev: DecodedEvent, block: BlockRef) -> None:
    pid = to_hex(ev.args["passportId"])
    if not _add_version(session, ev, block, 1) or session.get(Passport, pid) is not None:
        return
    head = Passport(
        id=pid,
        issuer=ev.args["issuer"],
        version=1,
        status="active",
        block_number=block.number,
        tx_hash=ev.tx_hash,
        log_index=ev.log_index,
    )
    doc = session.get(PassportDocumentRecord, to_hex(ev.args["documentHash"]))
    if doc is not None:
        identity = doc.document.get("identity", {})
        head.gtin = identity.get("gtin")
        head.lot = identity.get("lot")
        head.serial = identity.get("serial")
    session.add(head)
    session.flush()


def on_amended(session: Session, ev: DecodedEvent, block: BlockRef) -> None:
    version = int(ev.args["version"])
    if not _add_version(session, ev, block, version):
        return
    head = session.get(Passport, to_hex(ev.args["passportId"]))
    if head is not None:
        head.version = max(head.version, version)
    session.flush()


def _status_change(session: Session, ev: DecodedEvent, block: BlockRef, status: str) -> None:
    exists = session.scalar(
        select(PassportStatusChange.id).where(
            PassportStatusChange.tx_hash == ev.tx_hash,
            PassportStatusChange.log_index == ev.log_index,
        )
    )
    if exists is not None:
        return
    pid = to_hex(ev.args["passportId"])
    change = PassportStatusChange(
        passport_id=pid,
        status=status,
        by=ev.args["by"],
        reason_code=int(ev.args["reasonCode"]),
        reason=str(ev.args["reason"]),
        block_number=block.number,
        tx_hash=ev.tx_hash,
        log_index=ev.log_index,
    )
    session.add(change)
    head = session.get(Passport, pid)
    if head is not None:
        _apply_status(head, change)
    session.flush()


def _apply_status(head: Passport, change: PassportStatusChange | None) -> None:
    head.status = change.status if change else "active"
    head.reason_code = change.reason_code if change else None
    head.reason = change.reason if change else None


def on_recalled(session: Session, ev: DecodedEvent, block: BlockRef) -> None:
    _status_change(session, ev, block, "recalled")


def on_revoked(session: Session, ev: DecodedEvent, block: BlockRef) -> None:
    _status_change(session, ev, block, "revoked")


def on_attested(session: Session, ev: DecodedEvent, block: BlockRef) -> None:
    aid = to_hex(ev.args["attestationId"])
    if session.get(Attestation, aid) is not None:
        return
    a = ev.args
    session.add(
        Attestation(
            id=aid,
            passport_id=to_hex(a["passportId"]),
            certifier=a["certifier"],
            version=int(a["version"]),
            document_hash=to_hex(a["documentHash"]),
            claim=to_hex(a["claim"]),
            valid_until=int(a["validUntil"]),
            revoked=False,
            block_number=block.number,
            tx_hash=ev.tx_hash,
            log_index=ev.log_index,
        )
    )
    session.flush()


def on_attestation_revoked(session: Session, ev: DecodedEvent, block: BlockRef) -> None:
    att = session.get(Attestation, to_hex(ev.args["attestationId"]))
    if att is None or att.revoked:
        return
    att.revoked = True
    att.revoked_reason_code = int(ev.args["reasonCode"])
    att.revoked_reason = str(ev.args["reason"])
    att.revoked_block = block.number
    att.revoked_tx_hash = ev.tx_hash
    session.flush()


def rollback(session: Session, fork: int) -> None:
    """Forget everything indexed at or above ``fork``; recompute the surviving heads."""
    touched = set(
        session.scalars(
            select(PassportVersion.passport_id).where(PassportVersion.block_number >= fork)
        )
    )
    touched |= set(
        session.scalars(
            select(PassportStatusChange.passport_id).where(
                PassportStatusChange.block_number >= fork
            )
        )
    )
    for model in (PassportVersion, PassportStatusChange, Attestation, Passport):
        session.execute(
            delete(model)
            .where(model.block_number >= fork)
            .execution_options(synchronize_session=False)
        )
    session.execute(
        update(Attestation)
        .where(Attestation.revoked_block >= fork)
        .values(
            revoked=False,
            revoked_reason_code=None,
            revoked_reason=None,
            revoked_block=None,
            revoked_tx_hash=None,
        )
        .execution_options(synchronize_session=False)
    )
    requeue_orphaned(session, relay_ids(KINDS), fork)
    session.expire_all()
    for pid in touched:
        head = session.get(Passport, pid)
        if head is None:
            continue
        head.version = max(
            session.scalars(
                select(PassportVersion.version).where(PassportVersion.passport_id == pid)
            ),
            default=1,
        )
        latest = session.scalars(
            select(PassportStatusChange)
            .where(PassportStatusChange.passport_id == pid)
            .order_by(
                PassportStatusChange.block_number.desc(), PassportStatusChange.log_index.desc()
            )
            .limit(1)
        ).first()
        _apply_status(head, latest)
    session.flush()


def passport_handlers() -> ContractHandlers:
    return ContractHandlers(
        "ProductPassportRegistry",
        {
            "PassportIssued": on_issued,
            "PassportAmended": on_amended,
            "PassportRecalled": on_recalled,
            "PassportRevoked": on_revoked,
            "AttestationRecorded": on_attested,
            "AttestationRevoked": on_attestation_revoked,
        },
        rollback,
    )
