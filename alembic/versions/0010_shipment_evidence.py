"""shipment evidence photos, content-addressed by the keccak-256 a milestone signs

Revision ID: 0010_shipment_evidence
Revises: 0008_app_sign_in_nonces
Create Date: 2026-12-02 09:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0010_shipment_evidence"
down_revision: str | None = "0008_app_sign_in_nonces"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "shipment_evidence",
        sa.Column("shipment_id", sa.String(length=66), nullable=False),
        sa.Column("evidence_hash", sa.String(length=66), nullable=False),
        sa.Column("media_type", sa.String(length=32), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("uploaded_by", sa.String(length=42), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_shipment_evidence_org_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("shipment_id", "evidence_hash", name=op.f("pk_shipment_evidence")),
    )
    with op.batch_alter_table("shipment_evidence", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shipment_evidence_org_id"), ["org_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("shipment_evidence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shipment_evidence_org_id"))
    op.drop_table("shipment_evidence")
