"""passport pages: on PostgreSQL a stored page stays in its row (toast_tuple_target)

A stored page is gzip, about 3.6 KB: a row above PostgreSQL's default 2 KB TOAST target,
so by default the body goes out of line in 2 KB chunks and a scan reads the row, the
TOAST index and one or two TOAST pages. With the target at a whole block (8,160 bytes)
a row up to that size is written as it is: a scan reads one heap page, and two pages of
this size share one 8 KB block. Only a larger row is compressed or moved out of line.
Rows written before this revision stay as they are until their page is next stored.

Revision ID: 0015_passport_page_in_one_row
Revises: 0008_passport_pages
Create Date: 2026-12-05 02:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015_passport_page_in_one_row"
down_revision: str | None = "0008_passport_pages"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE passport_pages SET (toast_tuple_target = 8160)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE passport_pages RESET (toast_tuple_target)")
