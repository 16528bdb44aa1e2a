"""POST signed supply events (single and batch); list the caller's events."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from sqlalchemy import select

from backend.deps import (
    ChainDep,
    PageDep,
    RawBody,
    Registries,
    SessionDep,
    SettingsDep,
    body_schema,
    parse_body,
)
from backend.errors import Forbidden, PayloadTooLarge
from backend.events import service
from backend.events.models import SupplyEvent
from backend.events.schemas import (
    BatchResult,
    SupplyEventAccepted,
    SupplyEventBatch,
    SupplyEventCreate,
    SupplyEventPublic,
)
from backend.orgs.auth import PrincipalDep

router = APIRouter(prefix="/v1/events", tags=["events"])


@router.post("", response_model=SupplyEventAccepted, status_code=status.HTTP_202_ACCEPTED)
def post_event(
    body: SupplyEventCreate,
    contracts: Registries,
    principal: PrincipalDep,
    session: SessionDep,
    chain: ChainDep,
) -> SupplyEventAccepted:
    """Accept one signed event; repeating it returns the same body and stores nothing."""
    separator = contracts.events_domain.separator
    return service.ingest_one(
        session=session, principal=principal, separator=separator, item=body, chain=chain
    )


@router.post(
    "/batch",
    response_model=BatchResult,
    status_code=status.HTTP_200_OK,
    openapi_extra=body_schema(SupplyEventBatch),
)
def post_batch(
    raw: RawBody,
    contracts: Registries,
    principal: PrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
    chain: ChainDep,
) -> Response:
    """Accept many signed events; each item is accepted or rejected with a reason."""
    body = parse_body(SupplyEventBatch, raw)
    if len(body.events) > settings.max_batch_events:
        raise PayloadTooLarge(f"at most {settings.max_batch_events} events per batch")
    result = service.ingest(
        session=session,
        principal=principal,
        separator=contracts.events_domain.separator,
        items=body.events,
        chain=chain,
    )
    # Serialised directly: the result is built from validated values, and
    # re-validating thousands of items against response_model costs more
    # than verifying their signatures.
    return Response(service.to_json(result), media_type="application/json")


@router.get("", response_model=list[SupplyEventPublic])
def list_events(
    principal: PrincipalDep, session: SessionDep, page: PageDep
) -> list[SupplyEventPublic]:
    """The calling organisation's events, oldest first (keyset pagination on ``after``)."""
    if principal.org_id is None:
        raise Forbidden("events belong to an organisation; use its API key")
    rows = session.scalars(
        select(SupplyEvent)
        .where(SupplyEvent.org_id == principal.org_id, SupplyEvent.id > page.after)
        .order_by(SupplyEvent.id)
        .limit(page.limit)
    ).all()
    return [SupplyEventPublic.model_validate(e) for e in rows]
