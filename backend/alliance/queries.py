"""Alliance reads: the action log, pools, periods, statements, transfers, nonces, config.

Pools, periods and transfers are read from the indexed read model; what is
not indexed yet is 404.
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from backend.alliance.indexer import POOL, STOCK
from backend.alliance.models import (
    AllianceAction,
    BookingView,
    OfferView,
    PeriodView,
    PoolMemberView,
    PoolView,
    TransferView,
)
from backend.alliance.relay import PURPOSE, action_public
from backend.alliance.schemas import (
    ActionPublic,
    AllianceConfig,
    BookingPublic,
    NetPositionPublic,
    NoncePublic,
    OfferPublic,
    PeriodPublic,
    PoolPublic,
    PoolsPublic,
    StatementPublic,
    TransferPublic,
    TransfersPublic,
)
from backend.chain import ChainClient
from backend.chain.alliance import CapacityPoolClient
from backend.chain.deployments import Deployment
from backend.errors import NotFound
from backend.orgs.service import Principal
from backend.relayer.models import RelayRequest, SentTransaction


def get_action(*, session: Session, principal: Principal, action_id: int) -> ActionPublic:
    """One of the caller's actions (any for the operator; 404 for anyone else's)."""
    row = session.get(AllianceAction, action_id)
    if row is None or (not principal.operator and row.org_id != principal.org_id):
        raise NotFound(f"action {action_id} not found")
    pool_id = None
    if row.action == "create_pool" and row.tx_hash is not None:
        pool_id = session.scalar(select(PoolView.pool_id).where(PoolView.tx_hash == row.tx_hash))
    return action_public(row, pool_id)


def pool_view(session: Session, pool_id: int) -> PoolView:
    """The indexed pool (404 until it is indexed)."""
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
    return _pool_public(session, pool_view(session, pool_id))


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
    pool = pool_view(session, pool_id)
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
    pool = pool_view(session, pool_id)
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
    domain = CapacityPoolClient(chain, pool.address).domain.to_json() if pool else None
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
