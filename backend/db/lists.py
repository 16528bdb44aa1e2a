"""``column IN (values)`` for many values, as one parameter where the database allows.

An ``IN`` list of a batch's 275 subjects is 275 parameters: SQLAlchemy renders them
anew for every execution, the driver rewrites the long statement uncached, and
PostgreSQL parses and plans a statement no other batch repeats. On PostgreSQL,
:func:`among` sends ``column = ANY(:values)`` instead: one array parameter, one
statement text for every batch. SQLite has no arrays and keeps the ``IN`` list.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session


def among(session: Session, column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """``column`` is one of ``values``, for statements run by ``session``."""
    items = list(values)
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, items, type_=ARRAY(column.type)))
    return column.in_(items)
