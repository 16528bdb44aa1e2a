"""shipment seller reference

Revision ID: 0004_shipment_reference
Revises: 0002
Create Date: 2026-12-01 22:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0004_shipment_reference"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("shipment_manifests") as batch:
        batch.add_column(sa.Column("reference", sa.String(length=64), nullable=True))
        batch.create_index(batch.f("ix_shipment_manifests_reference"), ["reference"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("shipment_manifests") as batch:
        batch.drop_index(batch.f("ix_shipment_manifests_reference"))
        batch.drop_column("reference")
