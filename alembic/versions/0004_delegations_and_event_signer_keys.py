"""Delegations of the subject rule, and the signer key of each supply event

Revision ID: 0004_subject_rule
Revises: 0001
Create Date: 2026-12-01 22:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa

import backend.db.base
from alembic import op

revision: str = "0004_subject_rule"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "delegations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issuer_org_id", sa.Integer(), nullable=False),
        sa.Column("delegate_org_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=66), nullable=False),
        sa.Column("signer", sa.String(length=42), nullable=False),
        sa.Column("salt", sa.String(length=66), nullable=False),
        sa.Column("digest", sa.String(length=66), nullable=False),
        sa.Column("signature", sa.String(length=132), nullable=False),
        sa.Column("created_at", backend.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", backend.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["delegate_org_id"],
            ["organisations.id"],
            name=op.f("fk_delegations_delegate_org_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["issuer_org_id"],
            ["organisations.id"],
            name=op.f("fk_delegations_issuer_org_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delegations")),
        sa.UniqueConstraint("digest", name=op.f("uq_delegations_digest")),
    )
    with op.batch_alter_table("delegations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_delegations_delegate_org_id"), ["delegate_org_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_delegations_issuer_org_id"), ["issuer_org_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_delegations_subject"), ["subject"], unique=False)

    with op.batch_alter_table("supply_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("signer_key_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_supply_events_signer_key_id"), ["signer_key_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_supply_events_signer_key_id_signer_keys"),
            "signer_keys",
            ["signer_key_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("supply_events", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_supply_events_signer_key_id_signer_keys"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_supply_events_signer_key_id"))
        batch_op.drop_column("signer_key_id")
    with op.batch_alter_table("delegations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_delegations_subject"))
        batch_op.drop_index(batch_op.f("ix_delegations_issuer_org_id"))
        batch_op.drop_index(batch_op.f("ix_delegations_delegate_org_id"))
    op.drop_table("delegations")
