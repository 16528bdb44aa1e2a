"""Indexer handlers for ``DeliveryAgreement``: the agreements read model follows the chain.

Each log is stored once in ``agreement_events`` and applied to ``agreements``.
The terms of an agreement never change after ``AgreementProposed``, which
carries only some of them: the rest is read from the chain (at the event's
block when the node keeps it) when the log is first seen and kept in the stored
args, with the block time, so a replay after a reorg needs no chain access.

Rollback (reorg at ``fork``): delete the events at or above ``fork``, drop the
rows of every agreement they touched and replay what remains of those
agreements' events in chain order. A replica running its own indexer reaches
the same rows from the same logs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import asdict
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from backend.agreements.models import AgreementEvent, AgreementView
from backend.chain import ChainClient, ChainUnavailable, DecodedEvent
from backend.chain.agreements import AgreementTerms, DeliveryAgreementClient, Outcome
from backend.chain.deployments import Deployment
from backend.common.types import to_hex
from backend.indexer.service import BlockClock, BlockRef, ContractHandlers

CONTRACT = "DeliveryAgreement"
ZERO_ADDRESS = "0x" + "00" * 20
EVENTS = (
    "AgreementProposed",
    "BondPosted",
    "AgreementAccepted",
    "AgreementCancelled",
    "AgreementDisputed",
    "DisputeResolved",
    "AgreementSettled",
)


def _json_safe(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return to_hex(value)
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def _apply(session: Session, ev: AgreementEvent) -> None:
    a: dict[str, Any] = json.loads(ev.args)
    aid = int(a["agreementId"])
    if ev.name == "AgreementProposed":
        t = a["terms"]
        session.add(
            AgreementView(
                agreement_id=aid,
                buyer=t["buyer"],
                seller=t["seller"],
                bonder=None if t["bonder"] == ZERO_ADDRESS else t["bonder"],
                arbiter=t["arbiter"],
                token=t["token"],
                terms=json.dumps(t, separators=(",", ":")),
                status="proposed",
                outcome="none",
                bond_posted=0,
                block_number=ev.block_number,
            )
        )
        session.flush()
        return
    row = session.get(AgreementView, aid)
    if row is None:  # a log of an agreement proposed before the indexer's start block
        return
    row.block_number = ev.block_number
    if ev.name == "BondPosted":
        row.bond_posted = int(a["total"])
    elif ev.name == "AgreementAccepted":
        row.status = "active"
        row.shipment_id = a["shipmentId"]
        row.accepted_at = ev.block_time
    elif ev.name == "AgreementCancelled":
        row.status = "cancelled"
    elif ev.name == "AgreementDisputed":
        row.status = "disputed"
        row.dispute_ends_at = int(a["endsAt"])
    elif ev.name == "AgreementSettled":
        row.status = "settled"
        row.outcome = Outcome(int(a["outcome"])).name.lower()
        row.to_buyer = int(a["toBuyer"])
        row.to_seller = int(a["toSeller"])
        row.to_bonder = int(a["toBonder"])
        row.days_late = int(a["daysLate"])
        row.settled_tx = ev.tx_hash
    session.flush()


class AgreementIndexer:
    """Stores agreement logs and keeps ``agreements`` in step (reorg-safe)."""

    def __init__(self, chain: ChainClient, deployment: Deployment) -> None:
        self.chain = chain
        self.clock = BlockClock(chain)
        self.client = (
            DeliveryAgreementClient(chain, deployment.address(CONTRACT))
            if CONTRACT in deployment.contracts
            else None
        )

    def _terms(self, agreement_id: int, ev: DecodedEvent) -> AgreementTerms:
        """The terms as proposed: at the event's block, else latest (they never change)."""
        assert self.client is not None
        c = self.client
        try:
            raw = self.chain.call(c.contract, "agreementOf", agreement_id, block=ev.block_number)
        except ChainUnavailable:
            raise  # retried next round; never read "latest" from a node that is down
        except Exception:  # pruned state ("missing trie node") arrives as a node error
            raw = self.chain.call(c.contract, "agreementOf", agreement_id)
        return AgreementTerms.from_tuple(raw[0])

    def on_event(self, session: Session, ev: DecodedEvent, block: BlockRef) -> None:
        exists = session.scalar(
            select(AgreementEvent.id).where(
                AgreementEvent.tx_hash == ev.tx_hash, AgreementEvent.log_index == ev.log_index
            )
        )
        if exists is not None:
            return
        args = {k: _json_safe(v) for k, v in ev.args.items()}
        if ev.name == "AgreementProposed":
            args["terms"] = asdict(self._terms(int(ev.args["agreementId"]), ev))
        row = AgreementEvent(
            agreement_id=int(args["agreementId"]),
            name=ev.name,
            args=json.dumps(args, separators=(",", ":")),
            tx_hash=ev.tx_hash,
            log_index=ev.log_index,
            block_number=block.number,
            block_hash=block.hash,
            block_time=self.clock.time(ev, block),
        )
        session.add(row)
        session.flush()
        _apply(session, row)

    def handlers(self) -> list[ContractHandlers]:
        handler: Callable[[Session, DecodedEvent, BlockRef], None] = self.on_event
        return [ContractHandlers(CONTRACT, dict.fromkeys(EVENTS, handler), rollback)]


def _replay(session: Session, events: Iterable[AgreementEvent]) -> None:
    for ev in events:
        _apply(session, ev)


def rollback(session: Session, fork: int) -> None:
    """Undo agreement logs at or above ``fork``: rebuild the touched agreements."""
    touched = {
        a
        for a in session.scalars(
            select(AgreementEvent.agreement_id).where(AgreementEvent.block_number >= fork)
        )
        if a is not None
    }
    session.execute(delete(AgreementEvent).where(AgreementEvent.block_number >= fork))
    if not touched:
        return
    session.execute(delete(AgreementView).where(AgreementView.agreement_id.in_(touched)))
    session.flush()
    _replay(
        session,
        session.scalars(
            select(AgreementEvent)
            .where(AgreementEvent.agreement_id.in_(touched))
            .order_by(AgreementEvent.block_number, AgreementEvent.log_index)
        ).all(),
    )


def agreement_handlers(chain: ChainClient, deployment: Deployment) -> list[ContractHandlers]:
    return AgreementIndexer(chain, deployment).handlers()
