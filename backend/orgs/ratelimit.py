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

from sqlalchemy import ColumnElement, Engine, Float, cast, func, literal, select

from backend.db.engine import conflict_insert
from backend.orgs.models import RateBucket


class RateLimiter:
    """``rate`` requests per second per key, bursts up to ``burst``.

    Time is the database's clock, read inside the statement: every replica
    then agrees on it, and a request that waited for the row lock is not
    judged by the moment it started waiting. Tests pass ``now``.
    """

    def __init__(self, engine: Engine, rate: float, burst: int, *, prefix: str = "") -> None:
        self.engine = engine
        self.rate = rate
        self.burst = burst
        self.prefix = prefix
        self._dialect = engine.dialect.name
        self._postgres = self._dialect == "postgresql"

    def _clock(self, now: float | None) -> ColumnElement[float]:
        if now is not None:
            return literal(now, Float)
        if self._postgres:
            return cast(func.extract("epoch", func.clock_timestamp()), Float)
        # SQLite: Julian day of 'now' (one value per statement) in Unix seconds.
        return cast((func.julianday("now") - 2440587.5) * 86400.0, Float)

    def take(self, key: str, cost: float = 1.0, *, now: float | None = None) -> float:
        """Spend ``cost``: 0.0 if allowed, else the seconds to wait before retrying."""
        clock = self._clock(now)
        step = min(cost, float(self.burst)) / self.rate
        window = self.burst / self.rate
        key = self.prefix + key
        insert = conflict_insert(self._dialect, RateBucket)
        greatest = func.greatest if self._postgres else func.max
        moved = greatest(RateBucket.tat, clock) + step
        stmt = (
            insert.values(key=key, tat=clock + step)
            .on_conflict_do_update(
                index_elements=[RateBucket.key],
                set_={"tat": moved},
                where=moved - clock <= window,
            )
            .returning(RateBucket.tat)
        )
        with self.engine.begin() as conn:
            if conn.execute(stmt).first() is not None:
                return 0.0
            row = conn.execute(select(RateBucket.tat, clock).where(RateBucket.key == key)).first()
        if row is None:
            return 1.0 / self.rate
        tat, current = float(row[0]), float(row[1])
        return max(tat + step - current - window, 1.0 / self.rate)

    def wait(self, key: str, *, now: float | None = None) -> float:
        """Without spending: 0.0 if one more request would be allowed, else the wait."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(RateBucket.tat, self._clock(now)).where(RateBucket.key == self.prefix + key)
            ).first()
        if row is None:
            return 0.0
        tat, current = float(row[0]), float(row[1])
        over = tat + 1.0 / self.rate - current - self.burst / self.rate
        return max(over, 0.0)
