"""passport pages: consumer pages stored per passport, recomputed when their data changes

Revision ID: 0008_passport_pages
Revises: 0002
Create Date: 2026-12-02 05:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import backend.db.base

revision: str = "0008_passport_pages"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "passport_pages",
        sa.Column("passport_id", sa.String(length=66), nullable=False),
        sa.Column("path", sa.String(length=200), nullable=True),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("source_block", sa.BigInteger(), nullable=False),
        sa.Column("stale", sa.Boolean(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.Column("etag", sa.String(length=40), nullable=True),
        sa.Column("expires_at", backend.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("computed_at", backend.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("passport_id", name=op.f("pk_passport_pages")),
        sa.UniqueConstraint("path", name=op.f("uq_passport_pages_path")),
    )
    op.create_index(
        op.f("ix_passport_pages_source_block"), "passport_pages", ["source_block"], unique=False
    )
    op.create_index(op.f("ix_passport_pages_stale"), "passport_pages", ["stale"], unique=False)
    # Passports indexed before this revision: computed on their next change or scan.
    op.execute(
        "INSERT INTO passport_pages (passport_id, generation, source_block, stale) "
        "SELECT id, 1, 0, true FROM passports"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_passport_pages_stale"), table_name="passport_pages")
    op.drop_index(op.f("ix_passport_pages_source_block"), table_name="passport_pages")
    op.drop_table("passport_pages")
