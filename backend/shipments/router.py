"""Shipments API: relayed signed writes (202 + relay id) and the seller's reads."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status
from pydantic import AfterValidator

from backend.chain.shipments import ShipmentRegistryClient
from backend.common.text import safe_text
from backend.common.types import Bytes32
from backend.deps import SessionDep, SettingsDep, get_context
from backend.errors import PayloadTooLarge
from backend.orgs.auth import PrincipalDep
from backend.relayer.schemas import RelayAccepted
from backend.shipments import evidence, queries, writes
from backend.shipments.models import ShipmentEvidence
from backend.shipments.schemas import (
    CorrectionCreate,
    DeliveryCreate,
    MilestoneBatchCreate,
    MilestoneCreate,
    ShipmentCreate,
    ShipmentDetail,
    ShipmentsPublic,
)

router = APIRouter(prefix="/v1/shipments", tags=["shipments"])

ShipmentId = Annotated[Bytes32, Path(description="bytes32 shipment id, 0x-prefixed")]
EvidenceHash = Annotated[
    Bytes32, Path(description="SHA-256 of the photo, the milestone's evidenceHash")
]


def registry(request: Request) -> ShipmentRegistryClient:
    """The deployed ShipmentRegistry (built once with the loaded deployment)."""
    return get_context(request).loaded().shipments


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=RelayAccepted)
def create_shipment(
    body: ShipmentCreate, request: Request, principal: PrincipalDep, session: SessionDep
) -> RelayAccepted:
    """Relay a seller-signed shipment creation; the manifest must hash to ``manifestHash``."""
    return writes.create(
        session=session, registry=registry(request), principal=principal, data=body
    )


@router.post(
    "/milestones/batch", status_code=status.HTTP_202_ACCEPTED, response_model=RelayAccepted
)
def record_batch(
    body: MilestoneBatchCreate,
    request: Request,
    principal: PrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
) -> RelayAccepted:
    """Relay single-signature milestones in one transaction (all or none)."""
    if len(body.items) > settings.max_batch_events:
        raise PayloadTooLarge(f"at most {settings.max_batch_events} milestones per batch")
    return writes.record_batch(
        session=session, registry=registry(request), principal=principal, data=body
    )


@router.post(
    "/{shipment_id}/delivery", status_code=status.HTTP_202_ACCEPTED, response_model=RelayAccepted
)
def record_delivery(
    shipment_id: ShipmentId,
    body: DeliveryCreate,
    request: Request,
    principal: PrincipalDep,
    session: SessionDep,
) -> RelayAccepted:
    """Relay DELIVERED with the consignee's proof of delivery: accepted, damaged or refused.

    The carrier holding the goods signs the milestone (its organisation's key
    submits); the consignee named in the shipment's terms signs the receipt.
    """
    return writes.record_delivery(
        session=session,
        registry=registry(request),
        principal=principal,
        shipment_id=shipment_id,
        data=body,
    )


@router.post(
    "/{shipment_id}/milestones", status_code=status.HTTP_202_ACCEPTED, response_model=RelayAccepted
)
def record_milestone(
    shipment_id: ShipmentId,
    body: MilestoneCreate,
    request: Request,
    principal: PrincipalDep,
    session: SessionDep,
) -> RelayAccepted:
    """Relay one signed milestone (PICKED_UP / HANDOVER with the receiver's acceptance)."""
    return writes.record_milestone(
        session=session,
        registry=registry(request),
        principal=principal,
        shipment_id=shipment_id,
        data=body,
    )


@router.post(
    "/{shipment_id}/corrections", status_code=status.HTTP_202_ACCEPTED, response_model=RelayAccepted
)
def correct(
    shipment_id: ShipmentId,
    body: CorrectionCreate,
    request: Request,
    principal: PrincipalDep,
    session: SessionDep,
) -> RelayAccepted:
    """Relay a signed correction of an earlier history entry."""
    return writes.correct(
        session=session,
        registry=registry(request),
        principal=principal,
        shipment_id=shipment_id,
        data=body,
    )


@router.post(
    "/{shipment_id}/overdue/{milestone}",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=RelayAccepted,
)
def flag_overdue(
    shipment_id: ShipmentId,
    milestone: Annotated[int, Path(ge=1, le=13)],
    request: Request,
    principal: PrincipalDep,
    session: SessionDep,
) -> RelayAccepted:
    """Flag that ``milestone`` missed its planned deadline (seller's own shipments)."""
    return writes.flag_overdue(
        session=session,
        registry=registry(request),
        principal=principal,
        shipment_id=shipment_id,
        milestone=milestone,
    )


@router.get("", response_model=ShipmentsPublic)
def list_shipments(
    request: Request,
    principal: PrincipalDep,
    session: SessionDep,
    after: Annotated[
        Bytes32 | None, Query(description="the last shipment id of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 50,
    reference: Annotated[
        str | None,
        Query(
            max_length=64,
            description="Only shipments whose seller reference contains this (any case).",
        ),
        AfterValidator(safe_text),
    ] = None,
) -> ShipmentsPublic:
    """The calling seller's shipments (keyset pagination on ``after``, ``limit`` capped)."""
    cap = min(limit, get_context(request).settings.page_size_max)
    return queries.list_shipments(
        session=session, principal=principal, after=after, limit=cap, reference=reference
    )


@router.get("/{shipment_id}", response_model=ShipmentDetail)
def get_shipment(
    shipment_id: ShipmentId, principal: PrincipalDep, session: SessionDep
) -> ShipmentDetail:
    """One shipment with milestones, corrections, overdue flags and custody history."""
    return queries.get_shipment(session=session, principal=principal, shipment_id=shipment_id)


def evidence_response(row: ShipmentEvidence) -> Response:
    """A stored photo, served so a browser never runs it as a page (nosniff, sandboxed)."""
    return Response(
        row.content,
        media_type=row.media_type,
        headers={
            "Cache-Control": "private, max-age=86400, immutable",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "X-Content-Type-Options": "nosniff",
            "ETag": f'"{row.evidence_hash}"',
        },
    )


@router.get(
    "/{shipment_id}/evidence/{evidence_hash}",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}}},
)
def get_evidence(
    shipment_id: ShipmentId,
    evidence_hash: EvidenceHash,
    principal: PrincipalDep,
    session: SessionDep,
) -> Response:
    """A milestone's evidence photo, for the shipment's parties and the operator."""
    row = evidence.read_for(
        session=session, principal=principal, shipment_id=shipment_id, hash_=evidence_hash
    )
    return evidence_response(row)
