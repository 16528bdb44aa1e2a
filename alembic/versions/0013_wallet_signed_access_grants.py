"""Access grants and their revocations hold a contract wallet's signature (ERC-1271)

Revision ID: 0013_wallet_signed_access_grants
Revises: 0012_wallet_signatures
Create Date: 2026-12-02 15:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0013_wallet_signed_access_grants"
down_revision: str | None = "0012_wallet_signatures"
branch_labels: str | Sequence[str] | None = None
# The access_grants table is created on another branch of the history.
depends_on: str | Sequence[str] | None = "0009_signed_access_grants"

KEY = sa.String(length=132)
WALLET = sa.String(length=4096)
COLUMNS = ("signature", "revocation_signature")


def upgrade() -> None:
    with op.batch_alter_table("access_grants") as batch:
        for column in COLUMNS:
            batch.alter_column(column, existing_type=KEY, type_=WALLET, existing_nullable=True)


def downgrade() -> None:
    # PostgreSQL refuses while a wallet's signature longer than a key's is stored.
    with op.batch_alter_table("access_grants") as batch:
        for column in COLUMNS:
            batch.alter_column(column, existing_type=WALLET, type_=KEY, existing_nullable=True)
