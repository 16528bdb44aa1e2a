"""credentials: sealed ES256K credential-signing keys and status-list positions

Revision ID: 0006_credentials
Revises: 0005_registry_read_model
Create Date: 2026-12-02 02:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

import backend.db.base
from alembic import op

revision: str = "0006_credentials"
down_revision: str | None = "0005_registry_read_model"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "credential_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("public_x", sa.String(length=64), nullable=False),
        sa.Column("public_y", sa.String(length=64), nullable=False),
        sa.Column("sealed_private_key", sa.Text(), nullable=False),
        sa.Column("created_at", backend.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_credential_keys_org_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credential_keys")),
        sa.UniqueConstraint("kid", name=op.f("uq_credential_keys_kid")),
        sa.UniqueConstraint("org_id", name=op.f("uq_credential_keys_org_id")),
    )
    op.create_table(
        "credential_status_entries",
        sa.Column("passport_id", sa.String(length=66), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", backend.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_credential_status_entries_org_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("passport_id", name=op.f("pk_credential_status_entries")),
        sa.UniqueConstraint("org_id", "position", name=op.f("uq_credential_status_entries_org_id")),
    )
    op.create_index(
        op.f("ix_credential_status_entries_org_id"),
        "credential_status_entries",
        ["org_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_credential_status_entries_org_id"), table_name="credential_status_entries"
    )
    op.drop_table("credential_status_entries")
    op.drop_table("credential_keys")
