"""One nonce sequence per relayer address, shared by every process on one database.

Any number of workers (threads or processes, on any number of machines) may
relay with the same key. A send takes the relayer's lock for its address,
picks the nonce, records the signed transaction, broadcasts it and only then
lets go, so no two transactions are ever signed with the same nonce:

* PostgreSQL: a session-level advisory lock (``pg_advisory_lock``) keyed by
  chain id and address, held on its own connection across the commit of the
  record and the broadcast;
* SQLite (one machine): an exclusive ``flock`` on a file next to the database.

The nonce is the lowest one at or above the node's pending count that no
``sent`` request holds: a request whose broadcast failed (node down, crash
between recording and broadcasting) keeps its nonce until it is broadcast
again or the chain shows the nonce used, and later sends go around it.
"""

from __future__ import annotations

import contextlib
import fcntl
import threading
from collections.abc import Iterator
from pathlib import Path

from eth_utils import keccak
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from backend.chain import ChainClient
from backend.relayer.models import RelayRequest, RelayStatus

# One in-process lock per (database, address): threads of one process queue here
# before the cross-process lock, so it is taken by one connection at a time.
_THREAD_LOCKS: dict[tuple[str, int, str], threading.Lock] = {}
_THREAD_LOCKS_GUARD = threading.Lock()


def lock_key(chain_id: int, address: str) -> int:
    """A signed 64-bit advisory-lock key for one relayer address on one chain."""
    digest = keccak(text=f"waymark-relayer-nonce:{chain_id}:{address.lower()}")
    return int.from_bytes(digest[:8], "big", signed=True)


class NonceAllocator:
    """Serialises the sends of one relayer address across threads and processes."""

    def __init__(self, engine: Engine, chain: ChainClient) -> None:
        self.engine = engine
        self.chain = chain
        key = (str(engine.url), chain.chain_id, chain.address.lower())
        with _THREAD_LOCKS_GUARD:
            self._thread_lock = _THREAD_LOCKS.setdefault(key, threading.Lock())

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        """The address's lock; sign, record and broadcast inside it."""
        with self._thread_lock, self._process_lock(), self.chain.hold_nonces():
            yield

    def next_nonce(self, session: Session) -> int:
        """The lowest nonce at or above the node's pending count that no request holds."""
        nonce = self.chain.transaction_count("pending")
        held = set(
            session.scalars(
                select(RelayRequest.nonce).where(
                    RelayRequest.status == RelayStatus.SENT, RelayRequest.nonce >= nonce
                )
            )
        )
        while nonce in held:
            nonce += 1
        return nonce

    @contextlib.contextmanager
    def _process_lock(self) -> Iterator[None]:
        if self.engine.dialect.name == "postgresql":
            key = lock_key(self.chain.chain_id, self.chain.address)
            with self.engine.connect() as conn:
                conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
                conn.commit()
                try:
                    yield
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                    conn.commit()
            return
        database = self.engine.url.database
        if not database or database == ":memory:":
            yield  # one process by construction
            return
        path = Path(f"{database}.relayer-{self.chain.address.lower()}.lock")
        with path.open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
