"""field app sign-in nonces (EIP-4361), one use each, shared by every replica

Revision ID: 0008_app_sign_in_nonces
Revises: b7e2d4c6a8f0
Create Date: 2026-12-02 05:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0008_app_sign_in_nonces"
down_revision: str | None = "b7e2d4c6a8f0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "app_sign_in_nonces",
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=42), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("issued_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("used_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("nonce", name=op.f("pk_app_sign_in_nonces")),
    )
    with op.batch_alter_table("app_sign_in_nonces", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_app_sign_in_nonces_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("app_sign_in_nonces", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_app_sign_in_nonces_expires_at"))
    op.drop_table("app_sign_in_nonces")
