"""agreement read model

Revision ID: 0006_agreement_read_model
Revises: 0001
Create Date: 2026-12-02 02:58:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_agreement_read_model"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agreement_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agreement_id", sa.BigInteger(), nullable=True),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("args", sa.Text(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("block_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement_events")),
        sa.UniqueConstraint("tx_hash", "log_index", name=op.f("uq_agreement_events_tx_hash")),
    )
    with op.batch_alter_table("agreement_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_agreement_events_agreement",
            ["agreement_id", "block_number", "log_index"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_agreement_events_block_number"), ["block_number"], unique=False
        )

    op.create_table(
        "agreements",
        sa.Column("agreement_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("buyer", sa.String(length=42), nullable=False),
        sa.Column("seller", sa.String(length=42), nullable=False),
        sa.Column("bonder", sa.String(length=42), nullable=True),
        sa.Column("arbiter", sa.String(length=42), nullable=False),
        sa.Column("token", sa.String(length=42), nullable=False),
        sa.Column("terms", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("bond_posted", sa.String(length=78), nullable=False),
        sa.Column("shipment_id", sa.String(length=66), nullable=True),
        sa.Column("accepted_at", sa.BigInteger(), nullable=True),
        sa.Column("dispute_ends_at", sa.BigInteger(), nullable=True),
        sa.Column("to_buyer", sa.String(length=78), nullable=True),
        sa.Column("to_seller", sa.String(length=78), nullable=True),
        sa.Column("to_bonder", sa.String(length=78), nullable=True),
        sa.Column("days_late", sa.BigInteger(), nullable=True),
        sa.Column("settled_tx", sa.String(length=66), nullable=True),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("agreement_id", name=op.f("pk_agreements")),
    )
    with op.batch_alter_table("agreements", schema=None) as batch_op:
        for column in ("arbiter", "bonder", "buyer", "seller"):
            batch_op.create_index(batch_op.f(f"ix_agreements_{column}"), [column], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("agreements", schema=None) as batch_op:
        for column in ("arbiter", "bonder", "buyer", "seller"):
            batch_op.drop_index(batch_op.f(f"ix_agreements_{column}"))
    op.drop_table("agreements")
    with op.batch_alter_table("agreement_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agreement_events_block_number"))
        batch_op.drop_index("ix_agreement_events_agreement")
    op.drop_table("agreement_events")
