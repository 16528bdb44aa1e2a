"""The seller's and the parties' reads of shipments: lists, one shipment's timeline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from backend.chain.typed_data.shipments import MilestoneType
from backend.common.types import to_hex
from backend.errors import NotFound
from backend.orgs.service import Principal
from backend.orgs.signers import org_of, org_signers
from backend.shipments.models import (
    Milestone,
    MilestoneCorrection,
    OverdueFlag,
    Shipment,
    ShipmentEvidence,
    ShipmentManifest,
)
from backend.shipments.schemas import (
    CorrectionPublic,
    CustodyPublic,
    MilestonePublic,
    OverduePublic,
    ShipmentDetail,
    ShipmentPublic,
    ShipmentsPublic,
)


def _overdue_names(flags: int) -> list[str]:
    return [m.name.lower() for m in MilestoneType if flags & (1 << m)]


def _public(s: Shipment, manifest: ManifestFacts | None) -> dict[str, Any]:
    return {
        "id": s.id,
        "reference": manifest.reference if manifest else None,
        "seller": s.seller,
        "origin": s.origin,
        "destination": s.destination,
        "declared_weight_grams": s.declared_weight_grams,
        "last_measured_weight_grams": s.last_measured_weight_grams,
        "piece_count": s.piece_count,
        "weight_tolerance_bps": s.weight_tolerance_bps,
        "manifest_hash": s.manifest_hash,
        "carriers": list(s.carriers),
        "warehouse": s.warehouse,
        "customs_broker": s.customs_broker,
        "sla": dict(s.sla),
        "status": s.status,
        "custodian": s.custodian,
        "overdue_milestones": _overdue_names(s.overdue_flags),
        "history_length": s.history_length,
        "delivered_at": s.delivered_at,
        "transport_mode": manifest.transport_mode if manifest else None,
        "tx_hash": s.tx_hash,
        "block_number": s.block_number,
    }


def _visible(session: Session, principal: Principal) -> Any:
    """Shipments the organisation sells: submitted by it, or created by one of its signers."""
    org_id = org_of(principal)
    own = select(ShipmentManifest.shipment_id).where(ShipmentManifest.org_id == org_id)
    signers = org_signers(session=session, principal=principal)
    return (Shipment.id.in_(own)) | (Shipment.seller.in_(signers))


def reference_matches(text: str) -> Any:
    """Case-insensitive substring match on the seller's reference (``%`` and ``_`` literal)."""
    return func.lower(ShipmentManifest.reference).contains(text.lower(), autoescape=True)


def list_shipments(
    *,
    session: Session,
    principal: Principal,
    after: bytes | None,
    limit: int,
    reference: str | None = None,
) -> ShipmentsPublic:
    """The calling seller's shipments ordered by id (keyset on ``after``).

    ``reference`` keeps those whose seller reference contains it (any case).
    """
    query = select(Shipment).where(_visible(session, principal)).order_by(Shipment.id)
    if reference:
        query = query.where(
            Shipment.id.in_(
                select(ShipmentManifest.shipment_id).where(reference_matches(reference))
            )
        )
    if after is not None:
        query = query.where(Shipment.id > to_hex(after))
    rows = session.scalars(query.limit(limit + 1)).all()
    facts = manifest_facts(session, [s.id for s in rows[:limit]])
    items = [ShipmentPublic(**_public(s, facts.get(s.id))) for s in rows[:limit]]
    return ShipmentsPublic(items=items, next_after=items[-1].id if len(rows) > limit else None)


@dataclass(frozen=True)
class ManifestFacts:
    """What the seller said off chain about a shipment: transport mode and reference."""

    transport_mode: str
    reference: str | None


def manifest_facts(session: Session, ids: Sequence[str]) -> dict[str, ManifestFacts]:
    if not ids:
        return {}
    rows = session.execute(
        select(
            ShipmentManifest.shipment_id,
            ShipmentManifest.transport_mode,
            ShipmentManifest.reference,
        ).where(ShipmentManifest.shipment_id.in_(ids))
    ).all()
    return {sid: ManifestFacts(mode, ref) for sid, mode, ref in rows}


# The media type of a stored list of several photos' hashes (see ``evidence``).
SET_MEDIA_TYPE = "application/x-evidence-set"


def evidence_photos(
    session: Session, shipment_id: str, hashes: Sequence[str]
) -> dict[str, list[str]]:
    """For each signed ``evidenceHash`` the store knows: the photos it covers, in order
    (``shipment_id`` as its rows hold it, 0x-hex)."""
    wanted = {h for h in hashes if h and int(h, 16)}
    if not wanted:
        return {}
    # A photo's bytes stay in the database; only a list's hashes are read.
    listed = case(
        (ShipmentEvidence.media_type == SET_MEDIA_TYPE, ShipmentEvidence.content), else_=None
    )
    rows = session.execute(
        select(ShipmentEvidence.evidence_hash, listed).where(
            ShipmentEvidence.shipment_id == shipment_id,
            ShipmentEvidence.evidence_hash.in_(wanted),
        )
    ).all()
    out: dict[str, list[str]] = {}
    for hash_, content in rows:
        if content is None:
            out[hash_] = [hash_]
        else:
            out[hash_] = [to_hex(content[i : i + 32]) for i in range(0, len(content), 32)]
    return out


def _milestone_public(m: Milestone, photos: dict[str, list[str]]) -> MilestonePublic:
    return MilestonePublic(
        index=m.index,
        milestone=m.kind,
        milestone_name=MilestoneType(m.kind).name.lower(),
        signer=m.signer,
        counterparty=m.counterparty,
        status=m.status,
        custodian=m.custodian,
        occurred_at=m.occurred_at,
        location=m.location,
        measured_weight_grams=m.measured_weight_grams,
        evidence_hash=m.evidence_hash,
        evidence_photos=photos.get(m.evidence_hash, []),
        reason_code=m.reason_code,
        record_hash=m.record_hash,
        late=m.late,
        planned_by=m.planned_by,
        weight_reference_grams=m.weight_reference_grams,
        weight_measured_grams=m.weight_measured_grams,
        corrected_by_index=m.corrected_by_index,
        tx_hash=m.tx_hash,
        block_number=m.block_number,
        credential=f"/v1/shipments/{m.shipment_id}/milestones/{m.index}/credential",
    )


def custody_history(milestones: Sequence[Milestone]) -> list[CustodyPublic]:
    """Each change of custodian in history order (corrected entries skipped)."""
    out: list[CustodyPublic] = []
    holder: str | None = None
    for m in milestones:
        if m.corrected_by_index is not None or m.custodian == holder:
            continue
        holder = m.custodian
        out.append(
            CustodyPublic(
                custodian=holder,
                since=m.occurred_at,
                milestone_name=MilestoneType(m.kind).name.lower(),
                location=m.location,
            )
        )
    return out


def shipment_detail(session: Session, s: Shipment) -> ShipmentDetail:
    """One shipment with its manifest, timeline, corrections, overdue flags and custody."""
    manifest = session.get(ShipmentManifest, s.id)
    milestones = session.scalars(
        select(Milestone).where(Milestone.shipment_id == s.id).order_by(Milestone.index)
    ).all()
    corrections = session.scalars(
        select(MilestoneCorrection)
        .where(MilestoneCorrection.shipment_id == s.id)
        .order_by(MilestoneCorrection.index)
    ).all()
    overdue = session.scalars(
        select(OverdueFlag).where(OverdueFlag.shipment_id == s.id).order_by(OverdueFlag.id)
    ).all()
    photos = evidence_photos(session, s.id, [m.evidence_hash for m in milestones])
    return ShipmentDetail(
        **_public(
            s, ManifestFacts(manifest.transport_mode, manifest.reference) if manifest else None
        ),
        manifest=dict(manifest.document) if manifest else None,
        milestones=[_milestone_public(m, photos) for m in milestones],
        corrections=[
            CorrectionPublic(
                index=c.index,
                corrected_index=c.corrected_index,
                corrected_record_hash=c.corrected_record_hash,
                signer=c.signer,
                reason_code=c.reason_code,
                evidence_hash=c.evidence_hash,
                record_hash=c.record_hash,
                tx_hash=c.tx_hash,
                block_number=c.block_number,
            )
            for c in corrections
        ],
        overdue=[
            OverduePublic(
                milestone=o.milestone,
                milestone_name=MilestoneType(o.milestone).name.lower(),
                planned_by=o.planned_by,
                flagged_at=o.flagged_at,
                flagged_by=o.flagged_by,
            )
            for o in overdue
        ],
        custody=custody_history(milestones),
    )


def party_shipment(*, session: Session, principal: Principal, shipment_id: bytes) -> Shipment:
    """A shipment the calling organisation sells or is a party of (404 for anyone else)."""
    sid = to_hex(shipment_id)
    s = session.get(Shipment, sid)
    if s is None:
        raise NotFound(f"shipment {sid} not found")
    mine = org_signers(session=session, principal=principal)
    parties = {s.seller, *s.carriers, s.warehouse or "", s.customs_broker or ""}
    manifest = session.get(ShipmentManifest, sid)
    owner = manifest is not None and manifest.org_id == principal.org_id
    if not owner and not (parties & mine):
        raise NotFound(f"shipment {sid} not found")
    return s


def get_shipment(*, session: Session, principal: Principal, shipment_id: bytes) -> ShipmentDetail:
    """One shipment with its timeline, for its seller or any of its parties."""
    return shipment_detail(
        session, party_shipment(session=session, principal=principal, shipment_id=shipment_id)
    )
