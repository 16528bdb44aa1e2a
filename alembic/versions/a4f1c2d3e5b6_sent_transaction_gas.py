"""sent transactions keep their gas limit

Revision ID: a4f1c2d3e5b6
Revises: 0003
Create Date: 2026-12-01 22:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "a4f1c2d3e5b6"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sent_transactions") as batch:
        batch.add_column(sa.Column("gas", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sent_transactions") as batch:
        batch.drop_column("gas")
