"""Indexer handlers for ``CapacityPool`` and ``EmergencyStockTransfer``.

Each log is stored once in ``alliance_events`` and applied to the projections.
Facts an event does not carry but that never change afterwards (a pool's
config, a stock request's terms, the block time of a usage report) are read
from the chain when the log is first seen and kept in the stored args, so a
replay after a reorg needs no chain access.

Rollback (reorg at ``fork``): delete the events at or above ``fork``, drop the
projections of every pool / request they touched and replay what remains of
those pools' / requests' events in chain order.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from backend.alliance.models import (
    AllianceEvent,
    BookingView,
    OfferView,
    PeriodView,
    PoolMemberView,
    PoolView,
    TransferView,
)
from backend.chain import ChainClient, ChainUnavailable, DecodedEvent
from backend.chain.alliance import CapacityPoolClient, EmergencyStockTransferClient
from backend.chain.deployments import Deployment
from backend.common.types import to_hex
from backend.indexer.service import BlockClock, BlockRef, ContractHandlers

POOL = "CapacityPool"
STOCK = "EmergencyStockTransfer"


def _json_safe(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return to_hex(value)
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def lock_for(pool: PoolView, period: PeriodView, units: int) -> int:
    """``CapacityPool.lockFor``: ceil(L * units / C) + r * units."""
    lease = -(-pool.lease_per_period * units // period.capacity) if period.capacity else 0
    return lease + pool.rate_per_unit * units


# -- CapacityPool projections -------------------------------------------------


def _booking(session: Session, pool_id: int, period_id: int, member: str) -> BookingView:
    row = session.get(BookingView, (pool_id, period_id, member))
    if row is None:
        row = BookingView(
            pool_id=pool_id,
            period_id=period_id,
            member=member,
            units=0,
            locked=0,
            status="none",
            used_units=0,
            penalty=0,
            transfer_paid=0,
            transfer_received=0,
        )
        session.add(row)
        session.flush()
    return row


def _relock(session: Session, pool_id: int, period_id: int, booking: BookingView) -> None:
    pool = session.get(PoolView, pool_id)
    period = session.get(PeriodView, (pool_id, period_id))
    if pool is not None and period is not None:
        booking.locked = lock_for(pool, period, booking.units)


def _apply_pool(session: Session, ev: AllianceEvent, a: dict[str, Any]) -> None:
    pid = int(a.get("poolId", 0))
    name = ev.name
    if name == "PoolCreated":
        cfg = a["config"]
        session.add(
            PoolView(
                pool_id=pid,
                token=a["token"],
                operator=a["operator"],
                admin=a["admin"],
                lease_per_period=int(cfg["leasePerPeriod"]),
                rate_per_unit=int(cfg["ratePerUnit"]),
                dispute_window=int(cfg["disputeWindow"]),
                report_window=int(cfg["reportWindow"]),
                cancel_penalty_bps=int(cfg["cancelPenaltyBps"]),
                tx_hash=ev.tx_hash,
                block_number=ev.block_number,
            )
        )
    elif name in ("MemberAdded", "MemberRemoved"):
        row = session.get(PoolMemberView, (pid, a["member"]))
        if row is None:
            row = PoolMemberView(pool_id=pid, member=a["member"])
            session.add(row)
        row.active = name == "MemberAdded"
    elif name == "PeriodOpened":
        session.add(
            PeriodView(
                pool_id=pid,
                period_id=int(a["periodId"]),
                start_at=int(a["start"]),
                end_at=int(a["end"]),
                cutoff_at=int(a["cutoff"]),
                capacity=int(a["capacity"]),
                booked=0,
            )
        )
    elif name == "CapacityBooked":
        per = int(a["periodId"])
        b = _booking(session, pid, per, a["member"])
        b.units += int(a["units"])
        b.locked = int(a["locked"])
        period = session.get(PeriodView, (pid, per))
        if period is not None:
            period.booked += int(a["units"])
    elif name == "BookingTransferred":
        per, units, price = int(a["periodId"]), int(a["units"]), int(a["price"])
        src = _booking(session, pid, per, a["from"])
        dst = _booking(session, pid, per, a["to"])
        src.units -= units
        dst.units += units
        src.transfer_received += price
        dst.transfer_paid += price
        _relock(session, pid, per, src)
        _relock(session, pid, per, dst)
    elif name == "BookingCancelled":
        per, units = int(a["periodId"]), int(a["units"])
        b = _booking(session, pid, per, a["member"])
        b.units -= units
        b.penalty += int(a["penalty"])
        period = session.get(PeriodView, (pid, per))
        if period is not None:
            period.booked -= units
        _relock(session, pid, per, b)
    elif name == "UsageReported":
        b = _booking(session, pid, int(a["periodId"]), a["member"])
        b.used_units = int(a["usedUnits"])
        b.reported_at = int(a["timestamp"])
        b.status = "reported"
    elif name == "UsageConfirmed":
        b = _booking(session, pid, int(a["periodId"]), a["member"])
        b.used_units = int(a["usedUnits"])
        b.status = "confirmed"
    elif name == "UsageDisputed":
        b = _booking(session, pid, int(a["periodId"]), a["member"])
        b.claimed_units = int(a["claimedUnits"])
        b.evidence_hash = a["evidenceHash"]
        b.status = "disputed"
    elif name == "DisputeResolved":
        b = _booking(session, pid, int(a["periodId"]), a["member"])
        b.used_units = int(a["usedUnits"])
        b.status = "resolved"
    elif name == "MemberSettled":
        b = _booking(session, pid, int(a["periodId"]), a["member"])
        b.lease_charge = int(a["leaseCharge"])
        b.usage_charge = int(a["usageCharge"])
        b.released = int(a["released"])
        b.locked = 0
        b.status = "settled"
        b.settled_tx = ev.tx_hash
    session.flush()


# -- EmergencyStockTransfer projections ----------------------------------------


def _apply_stock(session: Session, ev: AllianceEvent, a: dict[str, Any]) -> None:
    rid = int(a.get("requestId", 0))
    name = ev.name
    if name == "StockRequested":
        req = a["request"]
        session.add(
            TransferView(
                request_id=rid,
                requester=a["requester"],
                gtin=int(req["gtin"]),
                quantity=int(req["quantity"]),
                destination=req["destination"],
                needed_by=int(req["neededBy"]),
                terms="cash" if int(req["terms"]) == 0 else "in_kind",
                max_price_per_unit=int(req["maxPricePerUnit"]),
                return_by=int(req["returnBy"]),
                status="open",
                price_per_unit=0,
                escrow=0,
                released_amount=0,
                offer_count=0,
                obligation_open=False,
                block_number=ev.block_number,
            )
        )
        session.flush()
        return
    t = session.get(TransferView, rid)
    if t is None:  # a request from before the indexed range; nothing to project onto
        return
    if name == "RequestCancelled":
        t.status = "cancelled"
    elif name == "StockOffered":
        session.add(
            OfferView(
                request_id=rid,
                offer_id=int(a["offerId"]),
                lender=a["lender"],
                price_per_unit=int(a["pricePerUnit"]),
            )
        )
        t.offer_count += 1
    elif name == "OfferAccepted":
        offer = session.get(OfferView, (rid, int(a["offerId"])))
        t.status = "accepted"
        t.lender = a["lender"]
        t.price_per_unit = offer.price_per_unit if offer is not None else 0
        t.escrow = int(a["escrow"])
    elif name == "ShipmentLinked":
        if a["isReturn"]:
            t.return_shipment_id = a["shipmentId"]
        else:
            t.shipment_id = a["shipmentId"]
    elif name == "TransferReleased":
        t.released_amount = int(a["amount"])
        t.escrow = 0
        t.status = "settled" if t.terms == "cash" else "outstanding"
    elif name == "ObligationOpened":
        t.obligation_open = True
        t.status = "outstanding"
    elif name == "ObligationClosed":
        t.obligation_open = False
        t.status = "returned"
    elif name == "TransferRefunded":
        t.escrow = 0
        t.status = "refunded"
    session.flush()


APPLY: dict[str, Callable[[Session, AllianceEvent, dict[str, Any]], None]] = {
    POOL: _apply_pool,
    STOCK: _apply_stock,
}


def _apply(session: Session, ev: AllianceEvent) -> None:
    APPLY[ev.contract](session, ev, json.loads(ev.args))


# -- handlers -----------------------------------------------------------------


class AllianceIndexer:
    """Stores alliance logs and keeps the projections in step (reorg-safe)."""

    def __init__(self, chain: ChainClient, deployment: Deployment) -> None:
        self.chain = chain
        self.clock = BlockClock(chain)
        self.pool = (
            CapacityPoolClient(chain, deployment.address(POOL))
            if POOL in deployment.contracts
            else None
        )
        self.stock = (
            EmergencyStockTransferClient(chain, deployment.address(STOCK))
            if STOCK in deployment.contracts
            else None
        )

    def _immutable(self, contract: Any, fn: str, key: int, ev: DecodedEvent) -> Any:
        """A view of facts fixed at creation: at the event's block, else latest.

        A node without archive state cannot answer for old blocks; these
        fields never change after the event, so the latest state is the same.
        """
        try:
            return self.chain.call(contract, fn, key, block=ev.block_number)
        except ChainUnavailable:
            raise  # the round is retried; do not read "latest" from a node that is down
        except Exception:  # pruned state ("missing trie node") arrives as a node error
            return self.chain.call(contract, fn, key)

    def _enrich(self, contract: str, ev: DecodedEvent, block: BlockRef) -> dict[str, Any]:
        args = {k: _json_safe(v) for k, v in ev.args.items()}
        if contract == POOL and ev.name == "PoolCreated" and self.pool is not None:
            cfg = self._immutable(self.pool.contract, "poolOf", int(ev.args["poolId"]), ev)[0]
            args["config"] = {
                "leasePerPeriod": int(cfg[2]),
                "ratePerUnit": int(cfg[3]),
                "disputeWindow": int(cfg[4]),
                "reportWindow": int(cfg[5]),
                "cancelPenaltyBps": int(cfg[6]),
            }
        elif contract == POOL and ev.name == "UsageReported":
            args["timestamp"] = self.clock.time(ev, block)
        elif contract == STOCK and ev.name == "StockRequested" and self.stock is not None:
            req = self._immutable(self.stock.contract, "transferOf", int(ev.args["requestId"]), ev)[
                0
            ]
            args["request"] = {
                "gtin": int(req[0]),
                "quantity": int(req[1]),
                "destination": bytes(req[2]).decode("ascii", errors="replace"),
                "neededBy": int(req[3]),
                "terms": int(req[4]),
                "maxPricePerUnit": int(req[5]),
                "returnBy": int(req[6]),
            }
        return args

    def handler(self, contract: str) -> Callable[[Session, DecodedEvent, BlockRef], None]:
        def on_event(session: Session, ev: DecodedEvent, block: BlockRef) -> None:
            exists = session.scalar(
                select(AllianceEvent.id).where(
                    AllianceEvent.tx_hash == ev.tx_hash, AllianceEvent.log_index == ev.log_index
                )
            )
            if exists is not None:
                return
            args = self._enrich(contract, ev, block)
            row = AllianceEvent(
                contract=contract,
                name=ev.name,
                pool_id=int(args["poolId"]) if contract == POOL and "poolId" in args else None,
                request_id=(
                    int(args["requestId"]) if contract == STOCK and "requestId" in args else None
                ),
                args=json.dumps(args, separators=(",", ":")),
                tx_hash=ev.tx_hash,
                log_index=ev.log_index,
                block_number=block.number,
                block_hash=block.hash,
            )
            session.add(row)
            session.flush()
            _apply(session, row)

        return on_event

    def handlers(self) -> list[ContractHandlers]:
        pool_events = [
            "PoolCreated",
            "MemberAdded",
            "MemberRemoved",
            "PeriodOpened",
            "CapacityBooked",
            "BookingTransferred",
            "BookingCancelled",
            "UsageReported",
            "UsageConfirmed",
            "UsageDisputed",
            "DisputeResolved",
            "MemberSettled",
        ]
        stock_events = [
            "StockRequested",
            "RequestCancelled",
            "StockOffered",
            "OfferAccepted",
            "ShipmentLinked",
            "TransferReleased",
            "ObligationOpened",
            "ObligationClosed",
            "TransferRefunded",
        ]
        pool_h = self.handler(POOL)
        stock_h = self.handler(STOCK)
        return [
            ContractHandlers(POOL, dict.fromkeys(pool_events, pool_h), rollback_pools),
            ContractHandlers(STOCK, dict.fromkeys(stock_events, stock_h), rollback_transfers),
        ]


def _replay(session: Session, events: Iterable[AllianceEvent]) -> None:
    for ev in events:
        _apply(session, ev)


def rollback_pools(session: Session, fork: int) -> None:
    """Undo pool events at or above ``fork``: rebuild the touched pools from their kept events."""
    touched = set(
        session.scalars(
            select(AllianceEvent.pool_id).where(
                AllianceEvent.contract == POOL, AllianceEvent.block_number >= fork
            )
        )
    )
    session.execute(
        delete(AllianceEvent).where(
            AllianceEvent.contract == POOL, AllianceEvent.block_number >= fork
        )
    )
    if not touched:
        return
    ids = [p for p in touched if p is not None]
    for table in (BookingView, PeriodView, PoolMemberView, PoolView):
        session.execute(delete(table).where(table.pool_id.in_(ids)))
    session.flush()
    _replay(
        session,
        session.scalars(
            select(AllianceEvent)
            .where(AllianceEvent.contract == POOL, AllianceEvent.pool_id.in_(ids))
            .order_by(AllianceEvent.block_number, AllianceEvent.log_index)
        ).all(),
    )


def rollback_transfers(session: Session, fork: int) -> None:
    """Undo stock-transfer events at or above ``fork`` the same way, per request."""
    touched = set(
        session.scalars(
            select(AllianceEvent.request_id).where(
                AllianceEvent.contract == STOCK, AllianceEvent.block_number >= fork
            )
        )
    )
    session.execute(
        delete(AllianceEvent).where(
            AllianceEvent.contract == STOCK, AllianceEvent.block_number >= fork
        )
    )
    ids = [r for r in touched if r is not None]
    if not ids:
        return
    for table in (OfferView, TransferView):
        session.execute(delete(table).where(table.request_id.in_(ids)))
    session.flush()
    _replay(
        session,
        session.scalars(
            select(AllianceEvent)
            .where(AllianceEvent.contract == STOCK, AllianceEvent.request_id.in_(ids))
            .order_by(AllianceEvent.block_number, AllianceEvent.log_index)
        ).all(),
    )


def alliance_handlers(chain: ChainClient, deployment: Deployment) -> list[ContractHandlers]:
    return AllianceIndexer(chain, deployment).handlers()
