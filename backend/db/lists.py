"""Many values in one statement: ``column IN (values)`` and bulk ``INSERT``, each as one
array parameter a column where the database allows.

An ``IN`` list of a batch's 275 subjects is 275 parameters: SQLAlchemy renders them
anew for every execution, the driver rewrites the long statement uncached, and
PostgreSQL parses and plans a statement no other batch repeats. On PostgreSQL,
:func:`among` sends ``column = ANY(:values)`` instead: one array parameter, one
statement text for every batch. SQLite has no arrays and keeps the ``IN`` list.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Table, any_, bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session


def among(session: Session, column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """``column`` is one of ``values``, for statements run by ``session``."""
    items = list(values)
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, items, type_=ARRAY(column.type)))
    return column.in_(items)


def insert_rows(
    session: Session,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    skip_conflicts: bool = False,
    returning: Sequence[Any] = (),
) -> list[tuple[Any, ...]]:
    """INSERT ``rows`` (dicts with the same keys) into ``table``; the ``returning`` columns
    of the rows stored. ``skip_conflicts``: a row that breaks a unique rule is not stored.

    On PostgreSQL, one ``INSERT … SELECT * FROM unnest(:a, :b, …)`` with a column's
    values as one array parameter: the same statement text for any number of rows, where
    an executemany runs a statement a row and a multi-row ``VALUES`` list is a new, long
    statement for SQLAlchemy to compile and PostgreSQL to parse each time. SQLite takes
    them as an executemany (``INSERT … RETURNING`` in pages when ``returning`` is given).
    """
    if not rows:
        return []
    names = list(rows[0])
    if session.get_bind().dialect.name == "postgresql":
        arrays = [
            bindparam(None, [r[n] for r in rows], type_=ARRAY(table.c[n].type)) for n in names
        ]
        source = func.unnest(*arrays).table_valued(*names).render_derived()
        pg = postgresql.insert(table).from_select(names, select(*source.c))
        stmt = pg.on_conflict_do_nothing() if skip_conflicts else pg
        if returning:
            return [tuple(r) for r in session.execute(stmt.returning(*returning))]
        session.execute(stmt)
        return []
    lite = sqlite.insert(table)
    stmt_lite = lite.on_conflict_do_nothing() if skip_conflicts else lite
    if returning:
        return [tuple(r) for r in session.execute(stmt_lite.returning(*returning), list(rows))]
    session.execute(stmt_lite, list(rows))
    return []
