"""``among``: one array parameter on PostgreSQL, an ``IN`` list on SQLite; the same rows."""

from __future__ import annotations

from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session

from backend.db.lists import among
from backend.pages.models import PassportPage


def _pid(n: int) -> str:
    return f"0x{n:064x}"


def test_among_finds_exactly_the_listed_rows(db_engine: Engine) -> None:
    with db_engine.begin() as conn:
        conn.execute(
            insert(PassportPage),
            [
                {"passport_id": _pid(n), "generation": 1, "source_block": 0, "stale": True}
                for n in range(50)
            ],
        )
    wanted = [_pid(n) for n in range(0, 50, 3)] + [_pid(1000)]  # one that is not there
    with Session(db_engine) as session:
        found = session.scalars(
            select(PassportPage.passport_id).where(among(session, PassportPage.passport_id, wanted))
        ).all()
        none = session.scalars(
            select(PassportPage.passport_id).where(among(session, PassportPage.passport_id, []))
        ).all()
    assert sorted(found) == [_pid(n) for n in range(0, 50, 3)]
    assert none == []


def test_postgresql_sends_one_parameter_whatever_the_count(db_engine: Engine) -> None:
    with Session(db_engine) as session:
        stmt = select(PassportPage.passport_id).where(
            among(session, PassportPage.passport_id, [_pid(n) for n in range(300)])
        )
        compiled = stmt.compile(dialect=db_engine.dialect)
    if db_engine.dialect.name == "postgresql":
        assert "ANY" in str(compiled)
        assert len(compiled.params) == 1
    else:
        assert " IN " in str(compiled)
