"""Capacity pool writes relayed for members: create, admit, co-sign usage, rule, settle.

The service decides which organisation may make the relayer spend gas on a
call: a pool's members are added by the organisation that created the pool,
usage co-signatures come from the member's registered organisation, disputes
are resolved by the operator (the deployment's arbiter), and a settlement by
any party of the period. The contract decides the rest.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.alliance.indexer import POOL
from backend.alliance.members import MEMBER_SCOPES, caller_org, own_addresses, require_member
from backend.alliance.models import BookingView, PoolView
from backend.alliance.queries import pool_admin_org, pool_view
from backend.alliance.relay import Relayed, relay_call
from backend.alliance.schemas import (
    ActionPublic,
    DisputeResolve,
    PoolCreate,
    SettleRequest,
    UsageCosign,
)
from backend.chain.alliance import CapacityPoolClient, PoolConfig
from backend.chain.typed_data.alliance import USAGE_REPORT
from backend.errors import Forbidden, InvalidInput
from backend.orgs.service import WRITER_SCOPES, Principal
from backend.orgs.signers import Signed, verify_signature


def _require_pool_admin(session: Session, principal: Principal, pool: PoolView) -> None:
    """The caller created ``pool`` through the relayer, or is the operator (403 otherwise)."""
    if principal.operator:
        return
    if pool_admin_org(session, pool) != principal.org_id:
        raise Forbidden(f"only the organisation that created pool {pool.pool_id} manages it")


def create_pool(relayed: Relayed, *, data: PoolCreate) -> ActionPublic:
    """``createPool`` sent by the relayer, which becomes the pool's on-chain admin."""
    session, deployment, principal = relayed.session, relayed.deployment, relayed.principal
    principal.require_any(MEMBER_SCOPES)
    caller_org(session, principal)
    token = data.token or deployment.settlement_token
    if token is None:
        raise InvalidInput("no settlement token is configured; give 'token'")
    config = PoolConfig(
        token=token,
        operator=data.operator,
        lease_per_period=data.lease_per_period,
        rate_per_unit=data.rate_per_unit,
        dispute_window=data.dispute_window,
        report_window=data.report_window,
        cancel_penalty_bps=data.cancel_penalty_bps,
    )
    return relay_call(
        relayed,
        action="create_pool",
        contract=POOL,
        fn="createPool",
        args=[config.as_tuple(), list(data.members)],
        params={**data.model_dump(), "token": token},
    )


def add_pool_member(relayed: Relayed, *, pool_id: int, address: str) -> ActionPublic:
    """``addMember`` for the pool's admin organisation (the relayer is the on-chain admin)."""
    session, principal = relayed.session, relayed.principal
    pool = pool_view(session, pool_id)
    _require_pool_admin(session, principal, pool)
    return relay_call(
        relayed,
        action="add_member",
        contract=POOL,
        fn="addMember",
        args=[pool_id, address],
        params={"pool_id": pool_id, "address": address},
    )


def cosign_usage(
    relayed: Relayed, *, pool_id: int, period_id: int, data: UsageCosign
) -> ActionPublic:
    """Relay a member's ``UsageReport`` co-signature, checked here before any gas is spent."""
    chain, principal = relayed.chain, relayed.principal
    principal.require_any(MEMBER_SCOPES)
    require_member(relayed.session, principal, data.member)
    client = CapacityPoolClient(chain, relayed.deployment.address(POOL))
    message = client.usage_message(
        pool_id, period_id, member=data.member, used_units=data.used_units, deadline=data.deadline
    )
    try:
        verify_signature(
            Signed(
                client.domain,
                USAGE_REPORT,
                message,
                data.signature,
                claimed=data.member,
                field="member",
            ),
            chain=chain,
        )
    except InvalidInput as exc:
        raise InvalidInput(
            f"UsageReport {exc.detail} (signed over nonce {message['nonce']})"
        ) from exc
    return relay_call(
        relayed,
        action="cosign_usage",
        contract=POOL,
        fn="cosignUsage",
        args=[
            pool_id,
            period_id,
            data.member,
            data.used_units,
            data.deadline,
            data.signature,
        ],
        params={"pool_id": pool_id, "period_id": period_id, **data.model_dump()},
    )


def resolve_dispute(
    relayed: Relayed, *, pool_id: int, period_id: int, data: DisputeResolve
) -> ActionPublic:
    """The arbiter's ruling, sent with the relayer's ``ARBITER_ROLE`` (operator only)."""
    principal = relayed.principal
    if not principal.operator:
        raise Forbidden("only the operator (the alliance's arbiter) resolves disputes")
    return relay_call(
        relayed,
        action="resolve_dispute",
        contract=POOL,
        fn="resolveDispute",
        args=[pool_id, period_id, data.member, data.used_units],
        params={"pool_id": pool_id, "period_id": period_id, **data.model_dump()},
    )


def settle(relayed: Relayed, *, pool_id: int, period_id: int, data: SettleRequest) -> ActionPublic:
    """Settle a period (or named members): open on chain, relayed for the pool's parties."""
    session, principal = relayed.session, relayed.principal
    pool = pool_view(session, pool_id)
    if not principal.operator:
        principal.require_any(WRITER_SCOPES)
        mine = own_addresses(session, principal)
        bookers = set(
            session.scalars(
                select(BookingView.member).where(
                    BookingView.pool_id == pool_id, BookingView.period_id == period_id
                )
            )
        )
        involved = mine & (bookers | {pool.operator})
        if not involved and pool_admin_org(session, pool) != principal.org_id:
            raise Forbidden(f"your organisation has no part in pool {pool_id} period {period_id}")
    args: list[Any] = [pool_id, period_id]
    if data.members is None:
        fn = "settlePeriod"
    else:
        fn = "settle"
        args.append(list(data.members))
    return relay_call(
        relayed,
        action="settle",
        contract=POOL,
        fn=fn,
        args=args,
        params={"pool_id": pool_id, "period_id": period_id, "members": data.members},
    )
