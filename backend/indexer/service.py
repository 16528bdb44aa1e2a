"""Follow contract events into the read model, detecting and undoing reorgs.

Each round:

1. Reorg check: the stored hash of the highest indexed block is compared with
   the chain; on a mismatch the indexer walks down the stored window (the last
   ``reorg_window`` blocks) to the newest block that still matches, calls every
   handler's ``rollback(from_block)`` and moves the cursor back.
2. Index ``(cursor, min(head, cursor + span)]`` with one ``eth_getLogs`` over every
   followed contract (and one more per contract whose logs the node narrows by
   topic, as the anchor registry's to the configured anchorer's): the range's last
   block hash is read before and after; if it
   changed mid-read the round is dropped and retried. ``span`` starts at
   ``indexer_max_range``, halves whenever the node refuses the range
   (``LogRangeTooLarge``) and doubles back after each round that succeeds. Each
   log goes to the handlers registered for its contract and event name, in log
   order; block hashes (and times, where the node gives them) come from the logs
   themselves, so a round costs a fixed number of RPC calls whatever its size. The
   handlers' writes, the hashes of the last ``reorg_window`` blocks and the new
   cursor commit in one transaction.

New contracts plug in with :class:`ContractHandlers` (contract name as in the
deployment manifest, a dict of event name → handler, a rollback, and optionally
the ``eth_getLogs`` topics the node narrows that contract's logs to); several
may follow one contract. A handler set may take a run of consecutive logs at
once (``batches``: event name → handler of a list), for bulk reads and inserts;
a run is only formed from consecutive logs whose every handler takes runs, so the
order in which handlers see the logs is the same as one at a time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from backend.chain import ChainClient, DecodedEvent, LogRangeTooLarge
from backend.chain.deployments import Deployment
from backend.config import Settings
from backend.indexer.models import ChainCursor, IndexedBlock
from backend.loop import Loop

log = logging.getLogger(__name__)

#: The cursor of the app's indexer (and of ``scripts/anchor_worker.py --indexer``).
MAIN = "main"


def indexed_through(session: Session, name: str = MAIN) -> int | None:
    """The last block the indexer ``name`` has read into the read model, if it has run.

    A write mined at or below it shows in the API's reads. The indexer resets its
    cursor when it finds itself on another chain, so a cursor left by one is never
    read against the next for long.
    """
    return session.scalar(select(ChainCursor.last_block).where(ChainCursor.name == name))


@dataclass(frozen=True)
class BlockRef:
    number: int
    hash: str


class BlockClock:
    """Block times for handlers: from the log where the node gives it, else one read
    per block, keyed by hash so a block replaced in a reorg is read again."""

    def __init__(self, chain: ChainClient) -> None:
        self.chain = chain
        self._times: dict[str, int] = {}

    def time(self, ev: DecodedEvent, block: BlockRef) -> int:
        if ev.block_timestamp is not None:
            return ev.block_timestamp
        if block.hash not in self._times:
            if len(self._times) > 1024:
                self._times.clear()
            self._times[block.hash] = int(self.chain.block(block.hash)["timestamp"])
        return self._times[block.hash]


EventHandler = Callable[[Session, DecodedEvent, BlockRef], None]
BatchHandler = Callable[[Session, Sequence[tuple[DecodedEvent, BlockRef]]], None]
RollbackHandler = Callable[[Session, int], None]
IndexListener = Callable[[Sequence[DecodedEvent] | None], None]


@dataclass
class ContractHandlers:
    """The events of one contract the read model follows."""

    contract: str
    events: dict[str, EventHandler]
    rollback: RollbackHandler | None = None
    batches: dict[str, BatchHandler] = field(default_factory=dict)
    # eth_getLogs topics (bytes, lists of them, None): logs the node leaves out never
    # reach the read model (the anchor registry's of anyone but the configured anchorer).
    topics: Sequence[Any] | None = None

    def target(self, event: str) -> tuple[bool, EventHandler | BatchHandler] | None:
        """(takes runs, handler) for ``event``, or None if this set ignores it."""
        batch = self.batches.get(event)
        if batch is not None:
            return True, batch
        single = self.events.get(event)
        return None if single is None else (False, single)


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
        name: str = MAIN,
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
        # One eth_getLogs for the contracts followed whole, one per topic-narrowed one.
        narrowed: dict[str, Sequence[Any]] = {}
        for address, sets in self.by_address.items():
            filters = {repr(h.topics) for h in sets}
            if len(filters) > 1:
                raise ValueError(f"handler sets of {sets[0].contract} ask different topics")
            if sets[0].topics is not None:
                narrowed[address] = sets[0].topics
        whole = [a for a in self.by_address if a not in narrowed]
        self.queries: list[tuple[list[str], Sequence[Any] | None]] = [
            *([(whole, None)] if whole else []),
            *(([a], t) for a, t in narrowed.items()),
        ]
        self.start_block = deployment.first_block
        self.span = settings.indexer_max_range
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
            while True:
                end = min(head, cur.last_block + self.span)
                if end < start:
                    session.commit()
                    return 0
                before = self.chain.block(end)["hash"]
                try:
                    events = self._logs(start, end)
                    break
                except LogRangeTooLarge:
                    if end == start:
                        raise
                    self.span = max(1, (end - start + 1) // 2)
                    log.info(
                        "indexer %s: node refused the range, asking %s blocks", self.name, self.span
                    )
            if self.chain.block(end)["hash"] != before:
                session.rollback()
                return 0  # the range changed under us; the next round re-reads it
            hashes: dict[int, str] = {end: before}
            for ev in events:
                hashes.setdefault(ev.block_number, ev.block_hash)
            self._dispatch(session, events, hashes)
            window_start = max(start, end - self.settings.reorg_window + 1)
            for n in range(window_start, end + 1):
                if not hashes.get(n):
                    hashes[n] = self.chain.block(n)["hash"]
                session.merge(IndexedBlock(cursor=self.name, number=n, hash=hashes[n]))
            session.execute(
                delete(IndexedBlock).where(
                    IndexedBlock.cursor == self.name,
                    IndexedBlock.number <= end - self.settings.reorg_window,
                )
            )
            cur.last_block = end
            session.commit()
            self.span = min(self.settings.indexer_max_range, self.span * 2)
            if events:
                self._notify(events)
            return end - start + 1

    def _logs(self, start: int, end: int) -> list[DecodedEvent]:
        """The followed logs of ``start..end`` in chain order."""
        if len(self.queries) == 1:
            addresses, topics = self.queries[0]
            return self.chain.get_logs(addresses, start, end, topics=topics)
        logs = [
            ev
            for addresses, topics in self.queries
            for ev in self.chain.get_logs(addresses, start, end, topics=topics)
        ]
        return sorted(logs, key=lambda ev: (ev.block_number, ev.log_index))

    def _dispatch(
        self, session: Session, events: Sequence[DecodedEvent], hashes: dict[int, str]
    ) -> None:
        """Hand each log to its handlers in order; consecutive logs for the same run
        handlers go to them as one list."""
        run: list[tuple[DecodedEvent, BlockRef]] = []
        run_targets: list[BatchHandler] = []

        def flush() -> None:
            for batch in run_targets:
                batch(session, run)
            run.clear()

        for ev in events:
            ref = BlockRef(ev.block_number, ev.block_hash or hashes.get(ev.block_number, ""))
            if not ref.hash:
                ref = BlockRef(ev.block_number, self.chain.block(ev.block_number)["hash"])
                hashes[ev.block_number] = ref.hash
            targets = [
                t
                for h in self.by_address.get(ev.address.lower(), ())
                if (t := h.target(ev.name)) is not None
            ]
            if targets and all(takes_runs for takes_runs, _ in targets):
                fns: list[BatchHandler] = [fn for _, fn in targets]  # type: ignore[misc]
                if run and fns != run_targets:
                    flush()
                run_targets = fns
                run.append((ev, ref))
                continue
            if run:
                flush()
            for takes_runs, fn in targets:
                if takes_runs:
                    fn(session, [(ev, ref)])  # type: ignore[call-arg,arg-type]
                else:
                    fn(session, ev, ref)  # type: ignore[call-arg,arg-type]
        if run:
            flush()

    def interval(self) -> float:
        return self.settings.indexer_interval_seconds
