"""OrganisationRegistry read model

The registry tables are derived from the chain only: the indexer fills them
from the registry's deployment block.

Revision ID: 0005_registry_read_model
Revises: 0004_subject_rule
Create Date: 2026-12-01 22:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0005_registry_read_model"
down_revision: str | None = "0004_subject_rule"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "registry_organisations",
        sa.Column("org_id", sa.String(length=66), nullable=False),
        sa.Column("legal_name", sa.String(length=200), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("web_domain", sa.String(length=253), nullable=False),
        sa.Column("registered_roles", sa.Integer(), nullable=False),
        sa.Column("roles", sa.Integer(), nullable=False),
        sa.Column("registrar", sa.String(length=42), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("org_id", name=op.f("pk_registry_organisations")),
    )
    with op.batch_alter_table("registry_organisations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_registry_organisations_block_number"), ["block_number"], unique=False
        )
    op.create_table(
        "registry_role_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.String(length=66), nullable=False),
        sa.Column("granted", sa.Integer(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_role_grants")),
        sa.UniqueConstraint("tx_hash", "log_index", name=op.f("uq_registry_role_grants_tx_hash")),
    )
    with op.batch_alter_table("registry_role_grants", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_registry_role_grants_block_number"), ["block_number"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_registry_role_grants_org_id"), ["org_id"], unique=False
        )
    op.create_table(
        "registry_keys",
        sa.Column("key", sa.String(length=42), nullable=False),
        sa.Column("org_id", sa.String(length=66), nullable=False),
        sa.Column("roles", sa.Integer(), nullable=False),
        sa.Column("added_by", sa.String(length=42), nullable=False),
        sa.Column("added_block", sa.BigInteger(), nullable=False),
        sa.Column("revoked_block", sa.BigInteger(), nullable=True),
        sa.Column("revoked_by", sa.String(length=42), nullable=True),
        sa.Column("revoked_tx_hash", sa.String(length=66), nullable=True),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_registry_keys")),
    )
    with op.batch_alter_table("registry_keys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_registry_keys_block_number"), ["block_number"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_registry_keys_org_id"), ["org_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_registry_keys_revoked_block"), ["revoked_block"], unique=False
        )
    op.create_table(
        "registry_prefixes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(length=12), nullable=False),
        sa.Column("org_id", sa.String(length=66), nullable=False),
        sa.Column("released_block", sa.BigInteger(), nullable=True),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_prefixes")),
        sa.UniqueConstraint("tx_hash", "log_index", name=op.f("uq_registry_prefixes_tx_hash")),
    )
    with op.batch_alter_table("registry_prefixes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_registry_prefixes_block_number"), ["block_number"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_registry_prefixes_org_id"), ["org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_registry_prefixes_prefix"), ["prefix"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_registry_prefixes_released_block"), ["released_block"], unique=False
        )


def downgrade() -> None:
    for table, indexes in (
        ("registry_prefixes", ("released_block", "prefix", "org_id", "block_number")),
        ("registry_keys", ("revoked_block", "org_id", "block_number")),
        ("registry_role_grants", ("org_id", "block_number")),
        ("registry_organisations", ("block_number",)),
    ):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in indexes:
                batch_op.drop_index(batch_op.f(f"ix_{table}_{column}"))
        op.drop_table(table)
