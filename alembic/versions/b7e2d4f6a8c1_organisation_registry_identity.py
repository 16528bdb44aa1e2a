"""organisations keep the identity and roles they were registered with on chain

Revision ID: b7e2d4f6a8c1
Revises: a4f1c2d3e5b6
Create Date: 2026-12-01 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "b7e2d4f6a8c1"
down_revision: str | None = "a4f1c2d3e5b6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("organisations") as batch:
        batch.add_column(sa.Column("country", sa.String(2), nullable=False, server_default="XX"))
        batch.add_column(sa.Column("web_domain", sa.String(253), nullable=False, server_default=""))
        batch.add_column(sa.Column("roles", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("organisations") as batch:
        batch.drop_column("roles")
        batch.drop_column("web_domain")
        batch.drop_column("country")
