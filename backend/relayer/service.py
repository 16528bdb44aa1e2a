"""Durable contract calls: the request row exists before anything is sent.

State machine of a ``RelayRequest``::

    queued ──send──▶ sent ──receipt──▶ mined ──N confirmations──▶ final
      ▲  │                │  │                │
      │  │ revert         │  │ stuck: same    │ block hash changed (reorg)
      │  ▼                │  │ nonce, +fee    ▼
      │ failed            │  └──▶ sent     orphaned (the purpose's handler re-queues)
      └── nonce used by something else and the call's effect is not on chain

The truth of a request is what the chain says about its recorded hashes:

* every signed transaction is recorded in ``sent_transactions`` (and committed)
  *before* it is handed to the node, so no crash can put a transaction of ours
  on chain that the outbox does not know; a replacement reuses the nonce with a
  higher fee and the same gas, so at most one of them is mined;
* a request is ``mined`` only when a receipt of one of its hashes says status 1,
  and ``failed`` only when a receipt of one of its hashes says it reverted, or
  when the chain proves none of its hashes can land (the relayer's nonce count,
  read *before* the receipts, is past the request's nonce and no hash has a
  receipt) and a fresh attempt reverts while its effect is absent. Before a
  request is failed, every recorded hash is looked up once more;
* a request whose simulation reverts while an earlier request of the same
  organisation is still queued or sent (a registration before its key, a
  pick-up before the departure) waits for that one to settle, since its
  effect may be what the call needs; it is failed only once nothing earlier was
  in flight when the simulation began (read before it, so an earlier write
  another worker sees mined during the simulation still counts), or at once
  when no earlier write can cure the revert (:data:`NEVER_CURED`).
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from eth_utils import keccak
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from backend.chain import (
    ChainClient,
    ChainError,
    ChainUnavailable,
    ContractRevert,
    NonceTooLow,
    TxResult,
)
from backend.chain.client import SentTransaction as SignedTransaction
from backend.chain.errors import TransactionDropped
from backend.config import Settings
from backend.db.base import utcnow
from backend.relayer.models import RelayRequest, RelayStatus, SentTransaction
from backend.relayer.nonces import NonceAllocator

log = logging.getLogger(__name__)

#: Reverts that no earlier write can cure: the chain's clock only moves forward, so
#: a signature whose deadline has passed stays expired.
NEVER_CURED = frozenset(
    {
        "ShipmentSignatureExpired",
        "PassportSignatureExpired",
        "OrgSignatureExpired",
        "PoolSignatureExpired",
        "AgreementSignatureExpired",
    }
)

#: How long a request whose simulation reverts waits for an earlier one to settle.
BEHIND_RETRY_SECONDS = 0.5


@dataclass(frozen=True)
class Mined:
    """Where a request's effect landed on chain."""

    tx_hash: str
    block_number: int
    block_hash: str
    gas_used: int | None = None


def _mined(rcpt: TxResult) -> Mined:
    return Mined(rcpt.tx_hash, rcpt.block_number, rcpt.block_hash, rcpt.gas_used)


class RelayHandler(Protocol):
    """What a domain supplies for one ``purpose`` of relayed calls."""

    #: Whether only the relayer's own key can bring the effect about (an anchor is keyed
    #: by its sender). A request with no recorded transaction is then sent without a look
    #: first: one of the same key sent elsewhere makes the simulation revert as done.
    #: Otherwise another party may have brought it about (a signed message relayed by
    #: someone else), and :meth:`already_done` runs before every send.
    only_own_sends: bool

    def already_done(self, session: Session, request: RelayRequest) -> Mined | None:
        """The on-chain effect if it is already there: checked before a send (see
        :attr:`only_own_sends`) and when a send reverts as done (:meth:`is_done_revert`)."""

    def is_done_revert(self, exc: ContractRevert) -> bool:
        """True if this revert means "already done" (e.g. ``AnchorRootAlreadyAnchored``)."""

    def on_mined(self, session: Session, request: RelayRequest, mined: Mined) -> None: ...

    def on_final(self, session: Session, request: RelayRequest) -> None: ...

    def on_orphaned(self, session: Session, request: RelayRequest) -> None: ...

    def on_failed(self, session: Session, request: RelayRequest, error: str) -> None: ...


def calldata_hash(data: str) -> str:
    """The keccak-256 of a request's calldata (0x-hex), the key a resent call is found by."""
    return "0x" + keccak(hexstr=data).hex()


def enqueue(
    session: Session,
    *,
    purpose: str,
    to: str,
    data: str,
    ref_id: int | None = None,
    org_id: int | None = None,
) -> RelayRequest:
    """Add a request in the caller's transaction (the caller commits with its own state)."""
    req = RelayRequest(
        purpose=purpose,
        ref_id=ref_id,
        org_id=org_id,
        to_address=to,
        data=data,
        data_hash=calldata_hash(data),
        status=RelayStatus.QUEUED,
    )
    session.add(req)
    session.flush()
    return req


def worker_id() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def fault(point: str) -> None:
    """Crash hook for recovery tests: ``WAYMARK_FAULT=<point>`` exits the process here."""
    if os.environ.get("WAYMARK_FAULT") == point:
        log.warning("fault injection: exiting at %s", point)
        os._exit(137)


class Relayer:
    """Drives relay requests through their states; safe to run in several processes."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        chain: ChainClient,
        settings: Settings,
        handlers: dict[str, RelayHandler],
        owner: str | None = None,
    ) -> None:
        self.sessions = sessions
        self.chain = chain
        self.settings = settings
        self.handlers = handlers
        self.owner = owner or worker_id()
        self.nonces = NonceAllocator(sessions.kw["bind"], chain)

    # -- claiming ----------------------------------------------------------

    def _claim(self, session: Session, req_id: int) -> bool:
        now = utcnow()
        res = session.execute(
            update(RelayRequest)
            .where(
                RelayRequest.id == req_id,
                or_(
                    RelayRequest.claimed_by.is_(None),
                    RelayRequest.claimed_by == self.owner,
                    RelayRequest.lease_until < now,
                ),
            )
            .values(
                claimed_by=self.owner,
                lease_until=now + timedelta(seconds=self.settings.lease_seconds),
            )
        )
        session.commit()
        return bool(res.rowcount == 1)  # type: ignore[attr-defined]

    def _release(self, session: Session, req: RelayRequest) -> None:
        req.claimed_by = None
        req.lease_until = None
        session.commit()

    def pending_ids(self, session: Session, limit: int = 100) -> list[int]:
        now = utcnow()
        return list(
            session.scalars(
                select(RelayRequest.id)
                .where(
                    RelayRequest.status.in_(
                        (RelayStatus.QUEUED, RelayStatus.SENT, RelayStatus.MINED)
                    ),
                    or_(
                        RelayRequest.next_attempt_at.is_(None), RelayRequest.next_attempt_at <= now
                    ),
                    or_(
                        RelayRequest.claimed_by.is_(None),
                        RelayRequest.claimed_by == self.owner,
                        RelayRequest.lease_until < now,
                    ),
                )
                .order_by(RelayRequest.id)
                .limit(limit)
            )
        )

    # -- driving -----------------------------------------------------------

    def drive(self) -> int:
        """Advance every due request once; the number that changed state."""
        changed = 0
        with self.sessions() as session:
            ids = self.pending_ids(session)
        head: int | None = None
        for req_id in ids:
            with self.sessions() as session:
                if not self._claim(session, req_id):
                    continue
                req = session.get(RelayRequest, req_id)
                assert req is not None
                before = req.status
                try:
                    if req.status == RelayStatus.QUEUED:
                        self._send(session, req)
                    elif req.status == RelayStatus.SENT:
                        self._check_sent(session, req)
                    elif req.status == RelayStatus.MINED:
                        if head is None:
                            head = self.chain.block_number()
                        self._check_final(session, req, head)
                except ChainUnavailable as exc:
                    self._backoff(session, req, exc)
                except ChainError as exc:
                    log.warning("relay %s: %s", req.id, exc)
                    self._backoff(session, req, exc)
                except Exception as exc:
                    # Node-specific send errors (nonce too low, replacement
                    # underpriced, …) arrive as plain exceptions: retry later.
                    log.warning("relay %s: unexpected error: %r", req.id, exc)
                    self._backoff(session, req, exc)
                changed += req.status != before
                self._release(session, req)
        return changed

    def _backoff(self, session: Session, req: RelayRequest, exc: Exception) -> None:
        session.rollback()
        req.attempts += 1
        req.last_error = str(exc)[:1000]
        delay = min(30.0, 0.25 * 2 ** min(req.attempts, 8))
        req.next_attempt_at = utcnow() + timedelta(seconds=delay)
        session.commit()

    def _handler(self, req: RelayRequest) -> RelayHandler:
        return self.handlers[req.purpose]

    def _send(self, session: Session, req: RelayRequest) -> None:
        handler = self._handler(req)
        if not handler.only_own_sends or self._was_sent(session, req):
            done = handler.already_done(session, req)
            if done is not None:
                self._record_mined(session, req, done)
                return
        tx = {"to": req.to_address, "data": req.data}
        # Read before simulating: an earlier write that another worker sends and sees
        # mined while the simulation runs is not in the chain state simulated against,
        # though it is no longer queued or sent once the simulation has reverted.
        behind = self._behind_earlier(session, req)
        try:
            gas = self.chain.gas_limit(tx)
        except ContractRevert as exc:
            if exc.error_name not in NEVER_CURED and behind:
                # Simulated before an earlier write it may depend on is mined (another
                # worker holds it, or the chain has not mined it yet): ask again later.
                req.last_error = f"waiting for an earlier write of the organisation: {exc}"[:1000]
                req.next_attempt_at = utcnow() + timedelta(seconds=BEHIND_RETRY_SECONDS)
                session.commit()
                return
            self._on_revert(session, req, exc)
            return

        def record(signed: SignedTransaction) -> None:
            self._record_sent(session, req, signed)
            req.status = RelayStatus.SENT
            req.attempts += 1
            req.next_attempt_at = None
            session.commit()
            fault("after_record")

        with self.nonces.hold():
            session.commit()  # the nonce query below must see every committed send
            nonce = self.nonces.next_nonce(session)
            try:
                self.chain.send(tx, nonce=nonce, gas=gas, before_broadcast=record)
            except NonceTooLow:
                # Recorded but refused: the nonce went to a transaction outside
                # the allocator (or to this very one); the receipts tell which.
                log.info("relay %s: nonce %s already used", req.id, nonce)
        fault("after_send")
        # Instant-mining chains (and lucky timing) have the receipt already.
        self._check_sent(session, req)

    def _behind_earlier(self, session: Session, req: RelayRequest) -> bool:
        """Whether an earlier request of the same organisation is still queued or sent."""
        if req.org_id is None:
            return False
        earlier = session.scalar(
            select(RelayRequest.id)
            .where(
                RelayRequest.org_id == req.org_id,
                RelayRequest.id < req.id,
                RelayRequest.status.in_((RelayStatus.QUEUED, RelayStatus.SENT)),
            )
            .limit(1)
        )
        return earlier is not None

    def _record_sent(self, session: Session, req: RelayRequest, signed: SignedTransaction) -> None:
        # After a reorg the chain's nonce rolls back, and a re-queued write can sign to the
        # very transaction recorded before (same nonce, calldata, gas and fees): it is the
        # same transaction sent again, so its record is refreshed, not added twice.
        again = session.scalar(
            select(SentTransaction).where(SentTransaction.tx_hash == signed.tx_hash)
        )
        if again is not None:
            again.relay_id = req.id
            again.sent_at = utcnow()
        else:
            session.add(
                SentTransaction(
                    relay_id=req.id,
                    nonce=signed.nonce,
                    tx_hash=signed.tx_hash,
                    gas=int(signed.params["gas"]),
                    max_fee_per_gas=signed.max_fee_per_gas,
                    max_priority_fee_per_gas=signed.max_priority_fee_per_gas,
                )
            )
        req.nonce = signed.nonce

    def _was_sent(self, session: Session, req: RelayRequest) -> bool:
        found = session.scalar(
            select(SentTransaction.id).where(SentTransaction.relay_id == req.id).limit(1)
        )
        return found is not None

    def _sent(self, session: Session, req: RelayRequest) -> list[SentTransaction]:
        return list(
            session.scalars(
                select(SentTransaction)
                .where(SentTransaction.relay_id == req.id)
                .order_by(SentTransaction.id)
            )
        )

    def _landed(self, session: Session, req: RelayRequest) -> TxResult | None:
        """The receipt of whichever recorded hash of ``req`` was mined, if any."""
        for stx in self._sent(session, req):
            rcpt = self.chain.receipt(stx.tx_hash)
            if rcpt is not None:
                return rcpt
        return None

    def _on_revert(self, session: Session, req: RelayRequest, exc: ContractRevert) -> None:
        handler = self._handler(req)
        if handler.is_done_revert(exc):
            done = handler.already_done(session, req)
            if done is not None:
                self._record_mined(session, req, done)
                return
            # The effect is in a pending transaction; check again shortly.
            req.status = RelayStatus.SENT if req.nonce is not None else RelayStatus.QUEUED
            req.next_attempt_at = utcnow() + timedelta(seconds=0.5)
            session.commit()
            return
        # A revert may be caused by this request's own effect: a transaction of
        # an earlier attempt that was mined after it was last looked at.
        rcpt = self._landed(session, req)
        if rcpt is not None and rcpt.status == 1:
            self._record_mined(session, req, _mined(rcpt))
            return
        self._fail(session, req, str(exc))

    def _fail(self, session: Session, req: RelayRequest, error: str) -> None:
        req.status = RelayStatus.FAILED
        req.last_error = error[:1000]
        self._handler(req).on_failed(session, req, error)
        session.commit()

    def _check_sent(self, session: Session, req: RelayRequest) -> None:
        assert req.nonce is not None
        # Read the nonce count before the receipts: a hash of ours mined by the
        # time of this read has its receipt by the time of the reads below.
        used = self.chain.transaction_count("latest") > req.nonce
        sent = self._sent(session, req)
        for stx in sent:
            rcpt = self.chain.receipt(stx.tx_hash)
            if rcpt is None:
                continue
            if rcpt.status == 1:
                self._record_mined(session, req, _mined(rcpt))
                return
            try:
                self.chain.wait(stx.tx_hash, timeout=1)
            except ContractRevert as exc:
                self._on_revert(session, req, exc)
                return
            except TransactionDropped as exc:
                self._fail(session, req, str(exc))
                return
        if used:
            # The nonce is used, by none of the hashes we recorded: another
            # transaction took it, so none of ours can land. Look at the effect.
            done = self._handler(req).already_done(session, req)
            if done is not None:
                self._record_mined(session, req, done)
            else:
                log.info("relay %s: nonce %s used by another transaction", req.id, req.nonce)
                req.status = RelayStatus.QUEUED
                req.nonce = None
                session.commit()
            return
        last = sent[-1] if sent else None
        if last is not None and last.gas and not self.chain.is_known(last.tx_hash):
            # Recorded but never received (a crash or an outage between recording
            # and broadcasting, or a node that lost its pool): the same signed
            # transaction again, so its hash stays the recorded one.
            self._rebroadcast(req, last)
            return
        stuck = last is None or (utcnow() - last.sent_at).total_seconds() > (
            self.settings.stuck_after_seconds
        )
        if stuck:
            self._replace(session, req, sent)

    def _rebroadcast(self, req: RelayRequest, stx: SentTransaction) -> None:
        assert stx.gas is not None
        signed = self.chain.sign(
            {"to": req.to_address, "data": req.data},
            nonce=stx.nonce,
            gas=stx.gas,
            fees=(stx.max_fee_per_gas, stx.max_priority_fee_per_gas),
        )
        if signed.tx_hash != stx.tx_hash:
            log.warning("relay %s: %s does not sign to its recorded hash", req.id, stx.tx_hash)
            return
        try:
            self.chain.broadcast(signed)
        except NonceTooLow:
            return  # the next check reads the receipts
        log.info("relay %s: broadcast %s again", req.id, stx.tx_hash)

    def _replace(self, session: Session, req: RelayRequest, sent: list[SentTransaction]) -> None:
        """Re-send with the same nonce, the same gas and a higher fee (each bump above the last).

        Nothing is simulated: the chain decides between this and the earlier
        transactions, and a receipt tells the outcome.
        """
        assert req.nonce is not None
        replacements = len(sent)
        bump = (100 + self.settings.fee_bump_percent) ** max(1, replacements) // (
            100 ** max(0, replacements - 1)
        ) - 100
        tx = {"to": req.to_address, "data": req.data}
        gas = next((stx.gas for stx in reversed(sent) if stx.gas), None)
        try:
            self.chain.send(
                tx,
                nonce=req.nonce,
                gas=gas,
                fee_bump_percent=bump,
                before_broadcast=lambda signed: self._commit_sent(session, req, signed),
            )
        except ContractRevert as exc:
            # Only an estimate (no gas recorded from an earlier attempt) raises.
            self._on_revert(session, req, exc)
            return
        except NonceTooLow:
            log.info("relay %s: nonce %s used while replacing", req.id, req.nonce)
            return
        log.info("relay %s: replaced nonce %s with +%s%% fee", req.id, req.nonce, bump)

    def _commit_sent(self, session: Session, req: RelayRequest, signed: SignedTransaction) -> None:
        self._record_sent(session, req, signed)
        session.commit()

    def _record_mined(self, session: Session, req: RelayRequest, mined: Mined) -> None:
        req.status = RelayStatus.MINED
        req.tx_hash = mined.tx_hash
        req.block_number = mined.block_number
        req.block_hash = mined.block_hash
        req.gas_used = mined.gas_used
        req.next_attempt_at = None
        self._handler(req).on_mined(session, req, mined)
        session.commit()
        if self.settings.confirmations == 0:
            self._check_final(session, req, mined.block_number)

    def _check_final(self, session: Session, req: RelayRequest, head: int) -> None:
        assert req.block_number is not None
        if head - req.block_number + 1 < max(1, self.settings.confirmations):
            return
        block = self.chain.block(req.block_number)
        if block["hash"] != req.block_hash:
            log.warning("relay %s: block %s was reorganised", req.id, req.block_number)
            self.orphan(session, req)
            return
        req.status = RelayStatus.FINAL
        self._handler(req).on_final(session, req)
        session.commit()

    def orphan(self, session: Session, req: RelayRequest) -> None:
        """The mined transaction fell out of the chain: let the handler re-queue the work."""
        req.status = RelayStatus.ORPHANED
        self._handler(req).on_orphaned(session, req)
        session.commit()
