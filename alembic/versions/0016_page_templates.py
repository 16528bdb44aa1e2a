"""passport pages: a lot's page stored once as a template, its items' rows hold their own strings

A stored page was each item's own gzip body, about 4.3 KB: at ten million items more
than the memory of the machine serving them. Items of a lot differ only in their serial
and passport id, so the text between those strings is stored once (``page_templates``)
and each item's row keeps its strings, the page's CRC-32 and its entity tag
(``backend.pages.spliced``). Pages stored before this revision are marked, so each is
computed in the new form on its next round or scan.

Revision ID: 0016_page_templates
Revises: 0015_passport_page_in_one_row
Create Date: 2026-12-06 00:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

import backend.db.base
from alembic import op

revision: str = "0016_page_templates"
down_revision: str | None = "0015_passport_page_in_one_row"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "page_templates",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("digest", sa.LargeBinary(length=32), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("used_at", backend.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_page_templates")),
        sa.UniqueConstraint("digest", name=op.f("uq_page_templates_digest")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("passport_pages") as batch:
        batch.drop_column("body")
        batch.add_column(sa.Column("template_id", _ID, nullable=True))
        batch.add_column(sa.Column("fills", sa.Text(), nullable=True))
        batch.add_column(sa.Column("crc", sa.BigInteger(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_passport_pages_template_id_page_templates"),
            "page_templates",
            ["template_id"],
            ["id"],
        )
        batch.create_index(op.f("ix_passport_pages_template_id"), ["template_id"], unique=False)
    op.execute("UPDATE passport_pages SET stale = true, generation = generation + 1, etag = NULL")


def downgrade() -> None:
    with op.batch_alter_table("passport_pages") as batch:
        batch.drop_index(op.f("ix_passport_pages_template_id"))
        batch.drop_constraint(
            op.f("fk_passport_pages_template_id_page_templates"), type_="foreignkey"
        )
        batch.drop_column("crc")
        batch.drop_column("fills")
        batch.drop_column("template_id")
        batch.add_column(sa.Column("body", sa.LargeBinary(), nullable=True))
    op.drop_table("page_templates")
    op.execute("UPDATE passport_pages SET stale = true, generation = generation + 1, etag = NULL")
