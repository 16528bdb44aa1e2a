"""Database fixtures: SQLite always, PostgreSQL when WAYMARK_TEST_DATABASE_URL is set.

Each test session gets a fresh database (a temp SQLite file; a new PostgreSQL
database created next to the given one) migrated with Alembic; tables are
emptied between tests.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from backend.db import migrate
from backend.db.engine import make_engine
from backend.models import Base

PG_ENV = "WAYMARK_TEST_DATABASE_URL"
DB_BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _fresh_postgres() -> tuple[str, str]:
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} is not set")
    name = f"waymark_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base, make_url(base).set(database=name).render_as_string(hide_password=False)


def _drop_postgres(base: str, url: str) -> None:
    name = make_url(url).database
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


_URLS: dict[str, str] = {}


@pytest.fixture(scope="session", params=DB_BACKENDS)
def db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated database URL for the session (one per backend)."""
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("db") / "waymark.sqlite3"
        url = f"sqlite:///{path}"
        engine = make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        yield url
        return
    base, url = _fresh_postgres()
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        _drop_postgres(base, url)


def clean(engine: Engine) -> None:
    """Empty every table, children first, in one transaction (one round trip on PostgreSQL)."""
    deletes = [
        f'DELETE FROM "{table.name}"'  # noqa: S608 - names from the table registry
        for table in reversed(Base.metadata.sorted_tables)
    ]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql(";".join(deletes))
            return
        for statement in deletes:
            conn.exec_driver_sql(statement)


@pytest.fixture
def db_engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    clean(engine)
    yield engine
    engine.dispose()
