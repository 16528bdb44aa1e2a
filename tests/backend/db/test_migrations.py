"""Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, inspect

from backend.db import migrate
from backend.db.engine import make_engine
from backend.models import Base


def test_migrated_schema_matches_models(db_engine: Engine) -> None:
    assert migrate.schema_diff(db_engine, Base.metadata) == []
    tables = set(inspect(db_engine).get_table_names())
    assert set(Base.metadata.tables) <= tables


def test_downgrade_to_base_and_upgrade_again_round_trips(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    migrate.upgrade(engine)
    migrate.downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(engine)
    assert migrate.schema_diff(engine, Base.metadata) == []
    engine.dispose()


def test_sqlite_runs_in_wal_mode_with_busy_timeout(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'w.sqlite3'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    engine.dispose()
