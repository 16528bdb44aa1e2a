"""One database connection kept open for the hottest read-only lookups.

A consumer scan or a proof lookup is one indexed ``SELECT``; through a session
it costs ten times more in pool checkout (and its ping), SQL compilation and
result processing than the database takes to answer. :class:`KeptConnection`
sends a fixed statement with the driver's own parameters on one connection.
Not thread-safe: one per event loop. A broken connection is replaced once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine


class KeptConnection:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"
        self._conn: Any = None

    def statement(self, sql: str) -> str:
        """``sql`` written with ``?`` markers, in the driver's parameter style."""
        return sql.replace("?", "%s") if self.postgres else sql

    def _connect(self) -> Any:
        raw = self.engine.raw_connection()
        if self.postgres:
            # Each read sees the latest commit; no transaction is left open.
            raw.driver_connection.autocommit = True  # type: ignore[union-attr]
        return raw

    def fetchone(self, statement: str, params: Sequence[object]) -> tuple[Any, ...] | None:
        """The first row of ``statement`` (from :meth:`statement`), or ``None``."""
        for attempt in (0, 1):
            if self._conn is None:
                self._conn = self._connect()
            try:
                cur = self._conn.cursor()
                try:
                    if self.postgres:
                        # Prepared at once, rows in binary: a page's body arrives as its
                        # bytes, not as hex text to decode (a third of the client's time).
                        cur.execute(statement, tuple(params), prepare=True, binary=True)
                    else:
                        cur.execute(statement, tuple(params))
                    row = cur.fetchone()
                finally:
                    cur.close()
            except Exception:
                self.close()
                if attempt:
                    raise
                continue
            return None if row is None else tuple(row)
        return None

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.invalidate()
            except Exception:
                conn.close()
