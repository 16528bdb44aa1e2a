"""``GET /v1/relay/{id}``: status of a relayed write of the caller's organisation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from backend.deps import SessionDep
from backend.indexer.service import indexed_through
from backend.orgs.auth import PrincipalDep
from backend.relayer.models import RelayStatus
from backend.relayer.schemas import RelayPublic
from backend.relayer.signed import own_request

router = APIRouter(prefix="/v1/relay", tags=["relay"])


@router.get("/{relay_id}", response_model=RelayPublic)
def get_relay(
    relay_id: Annotated[int, Path(ge=1, le=2**31 - 1)], principal: PrincipalDep, session: SessionDep
) -> RelayPublic:
    """Status (queued, sent, mined, final, failed, orphaned), tx hash, last error, and
    whether the API's reads show the write yet (``indexed``)."""
    req = own_request(session=session, principal=principal, relay_id=relay_id)
    public = RelayPublic.model_validate(req)
    if req.status in (RelayStatus.MINED, RelayStatus.FINAL) and req.block_number is not None:
        through = indexed_through(session)
        public.indexed = through is not None and through >= req.block_number
    return public
