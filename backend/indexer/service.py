"""Follow contract events into the read model, detecting and undoing reorgs.

Each round:

1. Reorg check: the stored hash of the highest indexed block is compared with
   the chain; on a mismatch the indexer walks down the stored window (the last
   ``reorg_window`` blocks) to the newest block that still matches, calls every
   handler's ``rollback(from_block)`` and moves the cursor back.
2. Index ``(cursor, min(head, cursor + max_range)]``: the range's last block hash
   is read before and after ``eth_getLogs``; if it changed mid-read the round is
   dropped and retried. Each log goes to the handler registered for its
   contract and event name; the handlers' writes, the block hashes and the new
   cursor commit in one transaction.

New contracts plug in with :class:`ContractHandlers` (contract name as in the
deployment manifest, a dict of event name → handler, and a rollback); several
may follow one contract.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from backend.chain import ChainClient, DecodedEvent
from backend.chain.deployments import Deployment
from backend.config import Settings
from backend.indexer.models import ChainCursor, IndexedBlock
from backend.loop import Loop

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BlockRef:
    number: int
    hash: str


EventHandler = Callable[[Session, DecodedEvent, BlockRef], None]
RollbackHandler = Callable[[Session, int], None]
IndexListener = Callable[[Sequence[DecodedEvent] | None], None]


@dataclass
class ContractHandlers:
    """The events of one contract the read model follows."""

    contract: str
    events: dict[str, EventHandler]
    rollback: RollbackHandler | None = None


class Indexer(Loop):
    thread_name = "indexer"

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        chain: ChainClient,
        deployment: Deployment,
        handlers: list[ContractHandlers],
        settings: Settings,
        name: str = "main",
    ) -> None:
        super().__init__()
        self.sessions = sessions
        self.chain = chain
        self.settings = settings
        self.name = name
        self.handlers = [h for h in handlers if h.contract in deployment.contracts]
        # Several handler sets may follow one contract (a read model, notifications);
        # each log goes to all of them in registration order, in one transaction.
        self.by_address: dict[str, list[ContractHandlers]] = {}
        for h in self.handlers:
            self.by_address.setdefault(deployment.address(h.contract).lower(), []).append(h)
        self.start_block = deployment.first_block
        self.reorgs = 0
        self._listeners: list[IndexListener] = []

    def subscribe(self, listener: IndexListener) -> None:
        """Call ``listener`` after each committed round: with its events, or ``None`` after
        a reorg rollback (anything derived from the read model may be stale)."""
        self._listeners.append(listener)

    def _notify(self, events: Sequence[DecodedEvent] | None) -> None:
        for listener in self._listeners:
            try:
                listener(events)
            except Exception:
                log.exception("indexer listener failed")

    def _cursor(self, session: Session) -> ChainCursor:
        cur = session.get(ChainCursor, self.name)
        if cur is None or cur.chain_id != self.chain.chain_id:
            if cur is not None:
                session.delete(cur)
                session.flush()
            cur = ChainCursor(
                name=self.name, chain_id=self.chain.chain_id, last_block=self.start_block - 1
            )
            session.add(cur)
            session.flush()
        return cur

    def check_reorg(self, session: Session, cur: ChainCursor, head: int) -> int | None:
        """The first orphaned block number, or None if the indexed tip is still canonical."""
        stored = session.execute(
            select(IndexedBlock.number, IndexedBlock.hash)
            .where(IndexedBlock.cursor == self.name)
            .order_by(IndexedBlock.number.desc())
        ).all()
        if not stored:
            return cur.last_block + 1 if cur.last_block > head else None
        fork: int | None = None
        for number, stored_hash in stored:
            if number <= head and self.chain.block(number)["hash"] == stored_hash:
                break
            fork = number
        if fork is None and cur.last_block > head:
            fork = head + 1
        return fork

    def rollback(self, session: Session, cur: ChainCursor, fork: int) -> None:
        log.warning("indexer %s: reorg, rolling back from block %s", self.name, fork)
        self.reorgs += 1
        for h in self.handlers:
            if h.rollback is not None:
                h.rollback(session, fork)
        session.execute(
            delete(IndexedBlock).where(
                IndexedBlock.cursor == self.name, IndexedBlock.number >= fork
            )
        )
        cur.last_block = min(cur.last_block, fork - 1)

    def step(self) -> int:
        """One round; the number of blocks newly indexed."""
        head = self.chain.block_number()
        with self.sessions() as session:
            cur = self._cursor(session)
            fork = self.check_reorg(session, cur, head)
            if fork is not None:
                self.rollback(session, cur, fork)
                session.commit()
                self._notify(None)
            start = cur.last_block + 1
            end = min(head, cur.last_block + self.settings.indexer_max_range)
            if end < start:
                session.commit()
                return 0
            before = self.chain.block(end)["hash"]
            events = (
                self.chain.get_logs(list(self.by_address), start, end) if self.by_address else []
            )
            if self.chain.block(end)["hash"] != before:
                session.rollback()
                return 0  # the range changed under us; the next round re-reads it
            hashes: dict[int, str] = {end: before}
            for ev in events:
                if ev.block_number not in hashes:
                    hashes[ev.block_number] = self.chain.block(ev.block_number)["hash"]
                for h in self.by_address.get(ev.address.lower(), ()):
                    fn = h.events.get(ev.name)
                    if fn is not None:
                        fn(session, ev, BlockRef(ev.block_number, hashes[ev.block_number]))
            window_start = max(start, end - self.settings.reorg_window + 1)
            for n in range(window_start, end + 1):
                if n not in hashes:
                    hashes[n] = self.chain.block(n)["hash"]
            for n, h_ in hashes.items():
                session.merge(IndexedBlock(cursor=self.name, number=n, hash=h_))
            session.execute(
                delete(IndexedBlock).where(
                    IndexedBlock.cursor == self.name,
                    IndexedBlock.number <= end - self.settings.reorg_window,
                )
            )
            cur.last_block = end
            session.commit()
            if events:
                self._notify(events)
            return end - start + 1

    def interval(self) -> float:
        return self.settings.indexer_interval_seconds
