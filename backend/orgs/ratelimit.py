"""Rate limits in the database, shared by every replica and worker process.

A generic cell rate algorithm (GCRA, the token bucket written as one number per
key): each key stores its theoretical arrival time ``tat``; a request of cost
``c`` is allowed when ``max(tat, now) + c / rate`` is at most ``burst / rate``
ahead of now, and then moves ``tat`` there. One upsert decides and records
(``INSERT … ON CONFLICT DO UPDATE … WHERE … RETURNING``), so two replicas can
never both spend the last token.

Two limiters use it: one per API key (``rate_limit_*``, after authentication)
and one per client address for failed token checks and sign-ins
(``auth_failure_*``): that one is consulted *before* a token is checked, so a
guesser is answered 429 without its guesses being tried.
"""

from __future__ import annotations

import time

from sqlalchemy import Engine, func, select
from sqlalchemy.dialects import postgresql, sqlite

from backend.orgs.models import RateBucket


class RateLimiter:
    """``rate`` requests per second per key, bursts up to ``burst``."""

    def __init__(self, engine: Engine, rate: float, burst: int, *, prefix: str = "") -> None:
        self.engine = engine
        self.rate = rate
        self.burst = burst
        self.prefix = prefix
        self._postgres = engine.dialect.name == "postgresql"

    def take(self, key: str, cost: float = 1.0, *, now: float | None = None) -> float:
        """Spend ``cost``: 0.0 if allowed, else the seconds to wait before retrying."""
        now = time.time() if now is None else now
        step = min(cost, float(self.burst)) / self.rate
        window = self.burst / self.rate
        key = self.prefix + key
        insert = (postgresql.insert if self._postgres else sqlite.insert)(RateBucket)
        greatest = func.greatest if self._postgres else func.max
        moved = greatest(RateBucket.tat, now) + step
        stmt = (
            insert.values(key=key, tat=now + step)
            .on_conflict_do_update(
                index_elements=[RateBucket.key],
                set_={"tat": moved},
                where=moved - now <= window,
            )
            .returning(RateBucket.tat)
        )
        with self.engine.begin() as conn:
            if conn.execute(stmt).first() is not None:
                return 0.0
            tat = conn.scalar(select(RateBucket.tat).where(RateBucket.key == key)) or now
        return max(tat + step - now - window, 1.0 / self.rate)

    def wait(self, key: str, *, now: float | None = None) -> float:
        """Without spending: 0.0 if one more request would be allowed, else the wait."""
        now = time.time() if now is None else now
        with self.engine.connect() as conn:
            tat = conn.scalar(select(RateBucket.tat).where(RateBucket.key == self.prefix + key))
        if tat is None:
            return 0.0
        over = tat + 1.0 / self.rate - now - self.burst / self.rate
        return max(over, 0.0)
