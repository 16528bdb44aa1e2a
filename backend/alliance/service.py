"""Alliance logic: who may act for which member address, relayed calls, read models.

Authority has two layers. The contracts decide what a call may do (a
co-signature must recover to the member, only the arbiter resolves, …); the
service decides which organisation may make the relayer spend gas on it: an
organisation acts only for the member addresses it registered (with a
signature proving control), a pool's members are added by the organisation
that created the pool, and disputes are resolved and stock-transfer
membership granted by the operator (the deployment's arbiter and admin).

Calls the contracts bind to ``msg.sender`` (deposit, withdraw, book, transfer a
booking, cancel, report usage, dispute, request, offer, accept, confirm
receipt) are sent by the member's own key (``waymark pool`` / ``waymark
transfer`` with ``--rpc``); see docs/alliance.md.
"""

from __future__ import annotations

import json
from typing import Any

from eth_hash.auto import keccak
from eth_utils import to_checksum_address
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.alliance.indexer import POOL, STOCK
from backend.alliance.models import (
    AllianceAction,
    AllianceMember,
    BookingView,
    OfferView,
    PeriodView,
    PoolMemberView,
    PoolView,
    TransferView,
)
from backend.alliance.relay import PURPOSE
from backend.alliance.schemas import (
    ActionPublic,
    AllianceConfig,
    BookingPublic,
    DisputeResolve,
    MemberCreate,
    MemberPublic,
    MembersPublic,
    NetPositionPublic,
    NoncePublic,
    OfferPublic,
    PeriodPublic,
    PoolCreate,
    PoolPublic,
    PoolsPublic,
    SettleRequest,
    StatementPublic,
    TransferPublic,
    TransfersPublic,
    UsageCosign,
)
from backend.chain import ChainClient, eip712
from backend.chain.alliance import CapacityPoolClient, PoolConfig
from backend.chain.deployments import Deployment
from backend.chain.typed_data.alliance import USAGE_REPORT
from backend.errors import Conflict, Forbidden, InvalidInput, NotFound
from backend.orgs.models import Organisation
from backend.orgs.schemas import Scope
from backend.orgs.service import WRITER_SCOPES, Principal
from backend.orgs.signers import verify_signature
from backend.relayer.models import RelayRequest, RelayStatus, SentTransaction
from backend.relayer.signed import ContractWrite, commit, queue

MEMBER_SCOPES = frozenset({Scope.SELLER, Scope.SUPPLIER})


# -- member addresses -------------------------------------------------------------


def member_proof_text(address: str, org_slug: str) -> str:
    """The text a member address signs (``personal_sign``) to be registered to an org."""
    return f"Waymark alliance member {to_checksum_address(address)} for organisation {org_slug}"


def personal_digest(text: str) -> bytes:
    data = text.encode()
    return keccak(b"\x19Ethereum Signed Message:\n" + str(len(data)).encode() + data)


def _org(session: Session, principal: Principal) -> Organisation:
    if principal.org_id is None:
        raise Forbidden("this endpoint needs an organisation's API key")
    org = session.get(Organisation, principal.org_id)
    assert org is not None
    return org


def register_member(*, session: Session, principal: Principal, data: MemberCreate) -> MemberPublic:
    """Register ``data.address`` to the caller's organisation (admin key, proof of control)."""
    org = _org(session, principal)
    principal.require_admin_of(org)
    try:
        signer = eip712.recover(
            personal_digest(member_proof_text(data.address, org.slug)),
            bytes.fromhex(data.signature[2:]),
        )
    except eip712.SignatureInvalid as exc:
        raise InvalidInput(f"signature: {exc}") from exc
    if signer != data.address:
        raise InvalidInput(
            f"the signature recovers to {signer}, not {data.address}; sign "
            f"{member_proof_text(data.address, org.slug)!r}"
        )
    row = AllianceMember(org_id=org.id, address=data.address, label=data.label)
    session.add(row)
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict(f"{data.address} is already registered") from exc
    return MemberPublic(id=row.id, address=row.address, label=row.label)


def list_members(*, session: Session, principal: Principal) -> MembersPublic:
    org = _org(session, principal)
    rows = session.scalars(
        select(AllianceMember).where(AllianceMember.org_id == org.id).order_by(AllianceMember.id)
    ).all()
    return MembersPublic(
        items=[MemberPublic(id=r.id, address=r.address, label=r.label) for r in rows]
    )


def own_addresses(session: Session, principal: Principal) -> set[str]:
    if principal.org_id is None:
        return set()
    return set(
        session.scalars(
            select(AllianceMember.address).where(AllianceMember.org_id == principal.org_id)
        )
    )


def require_member(session: Session, principal: Principal, address: str) -> None:
    """The caller's organisation registered ``address``; otherwise 403."""
    if address not in own_addresses(session, principal):
        raise Forbidden(f"{address} is not a member address of your organisation")


# -- relayed actions ----------------------------------------------------------------


def _public_action(a: AllianceAction, pool_id: int | None = None) -> ActionPublic:
    return ActionPublic(
        id=a.id,
        action=a.action,
        contract=a.contract,
        status=a.status,
        tx_hash=a.tx_hash,
        block_number=a.block_number,
        error=a.error,
        params=json.loads(a.params),
        pool_id=pool_id,
    )


def relay_call(
    *,
    session: Session,
    chain: ChainClient,
    deployment: Deployment,
    principal: Principal,
    action: str,
    contract: str,
    fn: str,
    args: list[Any],
    params: dict[str, Any],
) -> ActionPublic:
    """Relay one contract call with its action row (alliance and agreements share the log).

    The relay pipeline simulates it (a revert answers 409 now) and queues it;
    the action row follows the request (:mod:`backend.alliance.relay`).
    """
    address = deployment.address(contract)
    write = ContractWrite(
        to=address,
        data=chain.encode(chain.contract(contract, address), fn, *args),
        purpose=PURPOSE,
        subject=action,
    )
    req = queue(session=session, chain=chain, org_id=principal.org_id, write=write)
    row = AllianceAction(
        org_id=principal.org_id,
        action=action,
        contract=contract,
        params=json.dumps(params, default=str),
        status=RelayStatus.QUEUED,
        relay_id=req.id,
    )
    session.add(row)
    session.flush()
    req.ref_id = row.id
    commit(session, what=f"the {action} call")
    return _public_action(row)


def get_action(*, session: Session, principal: Principal, action_id: int) -> ActionPublic:
    row = session.get(AllianceAction, action_id)
    if row is None or (not principal.operator and row.org_id != principal.org_id):
        raise NotFound(f"action {action_id} not found")
    pool_id = None
    if row.action == "create_pool" and row.tx_hash is not None:
        pool_id = session.scalar(select(PoolView.pool_id).where(PoolView.tx_hash == row.tx_hash))
    return _public_action(row, pool_id)


def _pool(session: Session, pool_id: int) -> PoolView:
    pool = session.get(PoolView, pool_id)
    if pool is None:
        raise NotFound(f"pool {pool_id} not found (or not indexed yet)")
    return pool


def pool_admin_org(session: Session, pool: PoolView) -> int | None:
    """The organisation whose relayed ``createPool`` created ``pool`` (None: not ours)."""
    return session.scalar(
        select(RelayRequest.org_id)
        .join(SentTransaction, SentTransaction.relay_id == RelayRequest.id)
        .where(SentTransaction.tx_hash == pool.tx_hash, RelayRequest.purpose == PURPOSE)
    )


def _require_pool_admin(session: Session, principal: Principal, pool: PoolView) -> None:
    if principal.operator:
        return
    if pool_admin_org(session, pool) != principal.org_id:
        raise Forbidden(f"only the organisation that created pool {pool.pool_id} manages it")


def create_pool(
    *,
    session: Session,
    chain: ChainClient,
    deployment: Deployment,
    principal: Principal,
    data: PoolCreate,
) -> ActionPublic:
    """``createPool`` sent by the relayer, which becomes the pool's on-chain admin."""
    principal.require_any(MEMBER_SCOPES)
    _org(session, principal)
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
        session=session,
        chain=chain,
        deployment=deployment,
        principal=principal,
        action="create_pool",
        contract=POOL,
        fn="createPool",
        args=[config.as_tuple(), list(data.members)],
        params={**data.model_dump(), "token": token},
    )


def add_pool_member(
    *,
    session: Session,
    chain: ChainClient,
    deployment: Deployment,
    principal: Principal,
    pool_id: int,
    address: str,
) -> ActionPublic:
    pool = _pool(session, pool_id)
    _require_pool_admin(session, principal, pool)
    return relay_call(
        session=session,
        chain=chain,
        deployment=deployment,
        principal=principal,
        action="add_member",
        contract=POOL,
        fn="addMember",
        args=[pool_id, address],
        params={"pool_id": pool_id, "address": address},
    )


def cosign_usage(
    *,
    session: Session,
    chain: ChainClient,
    deployment: Deployment,
    principal: Principal,
    pool_id: int,
    period_id: int,
    data: UsageCosign,
) -> ActionPublic:
    """Relay a member's ``UsageReport`` co-signature, checked here before any gas is spent."""
    principal.require_any(MEMBER_SCOPES)
    require_member(session, principal, data.member)
    client = CapacityPoolClient(chain, deployment.address(POOL))
    message = client.usage_message(
        pool_id, period_id, member=data.member, used_units=data.used_units, deadline=data.deadline
    )
    verify_signature(
        chain=chain,
        domain=client.domain,
        struct=USAGE_REPORT,
        message=message,
        signature=data.signature,
        claimed=data.member,
        field=f"member (UsageReport nonce {message['nonce']})",
    )
    return relay_call(
        session=session,
        chain=chain,
        deployment=deployment,
        principal=principal,
        action="cosign_usage",
        contract=POOL,
        fn="cosignUsage",
        args=[
            pool_id,
            period_id,
            data.member,
            data.used_units,
            data.deadline,
            bytes.fromhex(data.signature[2:]),
        ],
        params={"pool_id": pool_id, "period_id": period_id, **data.model_dump()},
    )


def resolve_dispute(
    *,
    session: Session,
    chain: ChainClient,
    deployment: Deployment,
    principal: Principal,
    pool_id: int,
    period_id: int,
    data: DisputeResolve,
) -> ActionPublic:
    """The arbiter's ruling, sent with the relayer's ``ARBITER_ROLE`` (operator only)."""
    if not principal.operator:
        raise Forbidden("only the operator (the alliance's arbiter) resolves disputes")
    return relay_call(
        session=session,
        chain=chain,
        deployment=deployment,
        principal=principal,
        action="resolve_dispute",
        contract=POOL,
        fn="resolveDispute",
        args=[pool_id, period_id, data.member, data.used_units],
        params={"pool_id": pool_id, "period_id": period_id, **data.model_dump()},
    )


def settle(
    *,
    session: Session,
    chain: ChainClient,
    deployment: Deployment,
    principal: Principal,
    pool_id: int,
    period_id: int,
    data: SettleRequest,
) -> ActionPublic:
    """Settle a period (or named members): open on chain, relayed for the pool's parties."""
    pool = _pool(session, pool_id)
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
        session=session,
        chain=chain,
        deployment=deployment,
        principal=principal,
        action="settle",
        contract=POOL,
        fn=fn,
        args=args,
        params={"pool_id": pool_id, "period_id": period_id, "members": data.members},
    )


def grant_stock_member(
    *,
    session: Session,
    chain: ChainClient,
    deployment: Deployment,
    principal: Principal,
    address: str,
) -> ActionPublic:
    """Grant ``MEMBER_ROLE`` of EmergencyStockTransfer (operator, the contract's admin)."""
    if not principal.operator:
        raise Forbidden("only the operator admits stock-transfer members")
    contract = chain.contract(STOCK, deployment.address(STOCK))
    role = chain.call(contract, "MEMBER_ROLE")
    return relay_call(
        session=session,
        chain=chain,
        deployment=deployment,
        principal=principal,
        action="grant_stock_member",
        contract=STOCK,
        fn="grantRole",
        args=[role, address],
        params={"address": address},
    )


STOCK_ACTIONS = {"release": "release", "refund": "refund", "close-return": "closeReturn"}


def stock_action(
    *,
    session: Session,
    chain: ChainClient,
    deployment: Deployment,
    principal: Principal,
    request_id: int,
    action: str,
) -> ActionPublic:
    """``release`` / ``refund`` / ``closeReturn``: open on chain, relayed for the two parties."""
    t = session.get(TransferView, request_id)
    if t is None:
        raise NotFound(f"transfer {request_id} not found (or not indexed yet)")
    if not principal.operator:
        principal.require_any(WRITER_SCOPES)
        parties = {t.requester, *([t.lender] if t.lender else [])}
        if not parties & own_addresses(session, principal):
            raise Forbidden(f"your organisation is not a party to transfer {request_id}")
    return relay_call(
        session=session,
        chain=chain,
        deployment=deployment,
        principal=principal,
        action=action.replace("-", "_"),
        contract=STOCK,
        fn=STOCK_ACTIONS[action],
        args=[request_id],
        params={"request_id": request_id},
    )


# -- read models ----------------------------------------------------------------------


def _pool_public(session: Session, pool: PoolView) -> PoolPublic:
    members = session.scalars(
        select(PoolMemberView.member)
        .where(PoolMemberView.pool_id == pool.pool_id, PoolMemberView.active.is_(True))
        .order_by(PoolMemberView.member)
    ).all()
    periods = session.scalars(
        select(PeriodView.period_id).where(PeriodView.pool_id == pool.pool_id)
    ).all()
    return PoolPublic(
        pool_id=pool.pool_id,
        token=pool.token,
        operator=pool.operator,
        admin=pool.admin,
        lease_per_period=str(pool.lease_per_period),
        rate_per_unit=str(pool.rate_per_unit),
        dispute_window=pool.dispute_window,
        report_window=pool.report_window,
        cancel_penalty_bps=pool.cancel_penalty_bps,
        members=list(members),
        period_count=len(periods),
    )


def list_pools(*, session: Session, after: int, limit: int) -> PoolsPublic:
    rows = session.scalars(
        select(PoolView).where(PoolView.pool_id > after).order_by(PoolView.pool_id).limit(limit)
    ).all()
    return PoolsPublic(items=[_pool_public(session, p) for p in rows])


def get_pool(*, session: Session, pool_id: int) -> PoolPublic:
    return _pool_public(session, _pool(session, pool_id))


def _period(session: Session, pool_id: int, period_id: int) -> PeriodView:
    period = session.get(PeriodView, (pool_id, period_id))
    if period is None:
        raise NotFound(f"period {period_id} of pool {pool_id} not found (or not indexed yet)")
    return period


def _status(pool: PoolView, b: BookingView, now: int) -> str:
    # An unanswered report stands once its dispute window has passed.
    reported = b.status == "reported" and b.reported_at is not None
    if reported and now > (b.reported_at or 0) + pool.dispute_window:
        return "standing"
    return b.status


def _opt(value: int | None) -> str | None:
    return None if value is None else str(value)


def get_period(
    *, session: Session, chain: ChainClient, pool_id: int, period_id: int
) -> PeriodPublic:
    pool = _pool(session, pool_id)
    period = _period(session, pool_id, period_id)
    now = chain.block()["timestamp"]
    rows = session.scalars(
        select(BookingView)
        .where(BookingView.pool_id == pool_id, BookingView.period_id == period_id)
        .order_by(BookingView.member)
    ).all()
    return PeriodPublic(
        pool_id=pool_id,
        period_id=period_id,
        start=period.start_at,
        end=period.end_at,
        cutoff=period.cutoff_at,
        capacity=period.capacity,
        booked=period.booked,
        bookings=[
            BookingPublic(
                member=b.member,
                units=b.units,
                locked=str(b.locked),
                status=_status(pool, b, now),
                used_units=b.used_units,
                reported_at=b.reported_at,
                claimed_units=b.claimed_units,
                evidence_hash=b.evidence_hash,
                lease_charge=_opt(b.lease_charge),
                usage_charge=_opt(b.usage_charge),
                released=_opt(b.released),
            )
            for b in rows
        ],
    )


def statement(
    *, session: Session, chain: ChainClient, pool_id: int, period_id: int, member: str
) -> StatementPublic:
    """Booked and used units with the charges; before settlement the charges are zero."""
    pool = _pool(session, pool_id)
    _period(session, pool_id, period_id)
    b = session.get(BookingView, (pool_id, period_id, member))
    if b is None:
        raise NotFound(f"{member} has no booking in pool {pool_id} period {period_id}")
    lease = b.lease_charge or 0
    usage = b.usage_charge or 0
    return StatementPublic(
        pool_id=pool_id,
        period_id=period_id,
        member=member,
        status=_status(pool, b, chain.block()["timestamp"]),
        booked_units=b.units,
        used_units=b.used_units,
        lease_share=str(lease),
        variable_charge=str(usage),
        penalty=str(b.penalty),
        total=str(lease + usage + b.penalty),
        released_lock=str(b.released or 0),
        transfers_paid=str(b.transfer_paid),
        transfers_received=str(b.transfer_received),
        settled=b.lease_charge is not None,
        settlement_tx=b.settled_tx,
    )


def _transfer_public(session: Session, t: TransferView) -> TransferPublic:
    offers = session.scalars(
        select(OfferView).where(OfferView.request_id == t.request_id).order_by(OfferView.offer_id)
    ).all()
    return TransferPublic(
        request_id=t.request_id,
        requester=t.requester,
        gtin=t.gtin,
        quantity=t.quantity,
        destination=t.destination,
        needed_by=t.needed_by,
        terms=t.terms,
        max_price_per_unit=str(t.max_price_per_unit),
        return_by=t.return_by,
        status=t.status,
        lender=t.lender,
        price_per_unit=str(t.price_per_unit),
        escrow=str(t.escrow),
        released_amount=str(t.released_amount),
        shipment_id=t.shipment_id,
        return_shipment_id=t.return_shipment_id,
        offers=[
            OfferPublic(offer_id=o.offer_id, lender=o.lender, price_per_unit=str(o.price_per_unit))
            for o in offers
        ],
    )


def list_transfers(
    *, session: Session, status: str | None, after: int, limit: int
) -> TransfersPublic:
    query = select(TransferView).where(TransferView.request_id > after)
    if status is not None:
        query = query.where(TransferView.status == status)
    rows = session.scalars(query.order_by(TransferView.request_id).limit(limit)).all()
    return TransfersPublic(items=[_transfer_public(session, t) for t in rows])


def get_transfer(*, session: Session, request_id: int) -> TransferPublic:
    t = session.get(TransferView, request_id)
    if t is None:
        raise NotFound(f"transfer {request_id} not found (or not indexed yet)")
    return _transfer_public(session, t)


def _owed(session: Session, debtor: str, creditor: str, gtin: int) -> tuple[int, int]:
    rows = session.scalars(
        select(TransferView).where(
            TransferView.requester == debtor,
            TransferView.lender == creditor,
            or_(TransferView.obligation_open.is_(True), TransferView.status == "accepted"),
        )
    ).all()
    units = sum(t.quantity for t in rows if t.obligation_open and t.gtin == gtin)
    amount = sum(t.escrow for t in rows if t.status == "accepted" and t.terms == "cash")
    return units, amount


def net_position(*, session: Session, a: str, b: str, gtin: int) -> NetPositionPublic:
    """``EmergencyStockTransfer.netPosition`` computed from the read model."""
    units_ab, amount_ab = _owed(session, a, b, gtin)
    units_ba, amount_ba = _owed(session, b, a, gtin)
    return NetPositionPublic(
        a=a, b=b, gtin=gtin, units=units_ab - units_ba, amount=str(amount_ab - amount_ba)
    )


def pool_nonce(*, chain: ChainClient, deployment: Deployment, address: str) -> NoncePublic:
    """The next ``CapacityPool`` EIP-712 nonce of ``address`` (for signing off-line)."""
    client = CapacityPoolClient(chain, deployment.address(POOL))
    return NoncePublic(address=address, nonce=client.nonce(address))


def config(*, chain: ChainClient, deployment: Deployment) -> AllianceConfig:
    pool = deployment.contracts.get(POOL)
    stock = deployment.contracts.get(STOCK)
    domain = None
    if pool is not None:
        d = CapacityPoolClient(chain, pool.address).domain
        domain = {
            "name": d.name,
            "version": d.version,
            "chainId": d.chain_id,
            "verifyingContract": d.verifying_contract,
        }
    return AllianceConfig(
        chain_id=chain.chain_id,
        capacity_pool=pool.address if pool else None,
        stock_transfer=stock.address if stock else None,
        delivery_agreement=(
            deployment.address("DeliveryAgreement")
            if "DeliveryAgreement" in deployment.contracts
            else None
        ),
        settlement_token=deployment.settlement_token,
        relayer=chain.address,
        pool_domain=domain,
    )
