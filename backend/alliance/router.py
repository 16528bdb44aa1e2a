"""Alliance API: member addresses, relayed pool and stock-transfer calls, read models."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from backend.alliance import members, pools, queries, transfers
from backend.alliance.deps import ACCEPTED, ChainId, LoadedDeploymentDep, RelayedDep
from backend.alliance.schemas import (
    ActionPublic,
    AllianceConfig,
    DisputeResolve,
    MemberCreate,
    MemberPublic,
    MembersPublic,
    NetPositionPublic,
    NoncePublic,
    PeriodPublic,
    PoolCreate,
    PoolMemberAdd,
    PoolPublic,
    PoolsPublic,
    SettleRequest,
    StatementPublic,
    StockMemberAdd,
    TransferPublic,
    TransfersPublic,
    TransferStatusFilter,
    UsageCosign,
)
from backend.common.types import EthAddress
from backend.deps import ChainDep, PageDep, SessionDep
from backend.orgs.auth import PrincipalDep

router = APIRouter(prefix="/v1/alliance", tags=["alliance"])

Id = ChainId
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/config", response_model=AllianceConfig)
def get_config(_p: PrincipalDep, chain: ChainDep, d: LoadedDeploymentDep) -> AllianceConfig:
    """Contract addresses, settlement token, relayer and the pool's EIP-712 domain."""
    return queries.config(chain=chain, deployment=d)


@router.get("/nonces/{address}", response_model=NoncePublic)
def get_nonce(
    address: Annotated[EthAddress, Path()],
    _p: PrincipalDep,
    chain: ChainDep,
    d: LoadedDeploymentDep,
) -> NoncePublic:
    """The CapacityPool nonce ``address`` signs its next BookingTransfer / UsageReport with."""
    return queries.pool_nonce(chain=chain, deployment=d, address=address)


@router.post("/members", response_model=MemberPublic, status_code=201)
def register_member(
    body: MemberCreate, p: PrincipalDep, session: SessionDep, chain: ChainDep
) -> MemberPublic:
    """Register a member address to the caller's organisation (admin key, signed proof)."""
    return members.register_member(session=session, chain=chain, principal=p, data=body)


@router.get("/members", response_model=MembersPublic)
def list_members(p: PrincipalDep, session: SessionDep) -> MembersPublic:
    return members.list_members(session=session, principal=p)


@router.get("/actions/{action_id}", response_model=ActionPublic)
def get_action(action_id: RowId, p: PrincipalDep, session: SessionDep) -> ActionPublic:
    """A relayed call's progress: queued → mined → final, or failed with the reason."""
    return queries.get_action(session=session, principal=p, action_id=action_id)


# -- pools -----------------------------------------------------------------------------


@router.post("/pools", response_model=ActionPublic, status_code=ACCEPTED)
def create_pool(body: PoolCreate, r: RelayedDep) -> ActionPublic:
    return pools.create_pool(r, data=body)


@router.get("/pools", response_model=PoolsPublic)
def list_pools(_p: PrincipalDep, session: SessionDep, page: PageDep) -> PoolsPublic:
    return queries.list_pools(session=session, after=page.after - 1, limit=page.limit)


@router.get("/pools/{pool_id}", response_model=PoolPublic)
def get_pool(pool_id: Id, _p: PrincipalDep, session: SessionDep) -> PoolPublic:
    return queries.get_pool(session=session, pool_id=pool_id)


@router.post("/pools/{pool_id}/members", response_model=ActionPublic, status_code=ACCEPTED)
def add_pool_member(
    pool_id: Id,
    body: PoolMemberAdd,
    r: RelayedDep,
) -> ActionPublic:
    return pools.add_pool_member(r, pool_id=pool_id, address=body.address)


@router.get("/pools/{pool_id}/periods/{period_id}", response_model=PeriodPublic)
def get_period(
    pool_id: Id, period_id: Id, _p: PrincipalDep, session: SessionDep, chain: ChainDep
) -> PeriodPublic:
    """A period with every booking, its usage status and (once settled) its charges."""
    return queries.get_period(session=session, chain=chain, pool_id=pool_id, period_id=period_id)


@router.get(
    "/pools/{pool_id}/periods/{period_id}/statement/{member}", response_model=StatementPublic
)
def get_statement(
    pool_id: Id,
    period_id: Id,
    member: Annotated[EthAddress, Path()],
    _p: PrincipalDep,
    session: SessionDep,
    chain: ChainDep,
) -> StatementPublic:
    return queries.statement(
        session=session, chain=chain, pool_id=pool_id, period_id=period_id, member=member
    )


@router.post(
    "/pools/{pool_id}/periods/{period_id}/cosign", response_model=ActionPublic, status_code=ACCEPTED
)
def cosign_usage(
    pool_id: Id,
    period_id: Id,
    body: UsageCosign,
    r: RelayedDep,
) -> ActionPublic:
    """Relay a member's signed ``UsageReport`` (gasless for the member)."""
    return pools.cosign_usage(r, pool_id=pool_id, period_id=period_id, data=body)


@router.post(
    "/pools/{pool_id}/periods/{period_id}/resolve",
    response_model=ActionPublic,
    status_code=ACCEPTED,
)
def resolve_dispute(
    pool_id: Id,
    period_id: Id,
    body: DisputeResolve,
    r: RelayedDep,
) -> ActionPublic:
    return pools.resolve_dispute(r, pool_id=pool_id, period_id=period_id, data=body)


@router.post(
    "/pools/{pool_id}/periods/{period_id}/settle", response_model=ActionPublic, status_code=ACCEPTED
)
def settle(
    pool_id: Id,
    period_id: Id,
    body: SettleRequest,
    r: RelayedDep,
) -> ActionPublic:
    return pools.settle(r, pool_id=pool_id, period_id=period_id, data=body)


# -- emergency stock transfers ----------------------------------------------------------


@router.post("/stock-members", response_model=ActionPublic, status_code=ACCEPTED)
def grant_stock_member(body: StockMemberAdd, r: RelayedDep) -> ActionPublic:
    return transfers.grant_stock_member(r, address=body.address)


@router.get("/transfers", response_model=TransfersPublic)
def list_transfers(
    _p: PrincipalDep,
    session: SessionDep,
    page: PageDep,
    status_: Annotated[TransferStatusFilter | None, Query(alias="status")] = None,
) -> TransfersPublic:
    return queries.list_transfers(
        session=session, status=status_, after=page.after - 1, limit=page.limit
    )


@router.get("/transfers/{request_id}", response_model=TransferPublic)
def get_transfer(request_id: Id, _p: PrincipalDep, session: SessionDep) -> TransferPublic:
    return queries.get_transfer(session=session, request_id=request_id)


@router.post("/transfers/{request_id}/{action}", response_model=ActionPublic, status_code=ACCEPTED)
def stock_action(
    request_id: Id,
    action: Literal["release", "refund", "close-return"],
    r: RelayedDep,
) -> ActionPublic:
    """Release (DELIVERED in time), refund (late) or close a return: anyone may on chain."""
    return transfers.stock_action(r, request_id=request_id, action=action)


@router.get("/net-positions", response_model=NetPositionPublic)
def net_positions(
    a: Annotated[EthAddress, Query()],
    b: Annotated[EthAddress, Query()],
    gtin: Annotated[int, Query(ge=0, le=2**64 - 1)],
    _p: PrincipalDep,
    session: SessionDep,
) -> NetPositionPublic:
    """What ``a`` owes ``b`` net of the reverse: in-kind units of ``gtin`` and cash in escrow."""
    return queries.net_position(session=session, a=a, b=b, gtin=gtin)
