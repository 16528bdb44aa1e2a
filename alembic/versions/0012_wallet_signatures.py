"""Signature columns hold a contract wallet's signature (ERC-1271, up to 2,047 bytes)

Supply events, captured EPCIS events and subject delegations stored the 0x-hex of
a 65-byte key signature in 132 characters; a wallet's signature (a 2-of-2
wallet's is 130 bytes) is stored whole, in up to 4,096.

Revision ID: 0012_wallet_signatures
Revises: 0009_proof_verified_block
Create Date: 2026-12-02 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0012_wallet_signatures"
down_revision: str | None = "0009_proof_verified_block"
branch_labels: str | Sequence[str] | None = None
# The delegations table is created on another branch of the history.
depends_on: str | Sequence[str] | None = "0004_subject_rule"

KEY = sa.String(length=132)
WALLET = sa.String(length=4096)
COLUMNS = (("supply_events", False), ("epcis_events", True), ("delegations", False))


def upgrade() -> None:
    for table, nullable in COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                "signature", existing_type=KEY, type_=WALLET, existing_nullable=nullable
            )


def downgrade() -> None:
    # PostgreSQL refuses while a wallet's signature longer than a key's is stored:
    # such a row cannot be kept in the narrower column.
    for table, nullable in COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                "signature", existing_type=WALLET, type_=KEY, existing_nullable=nullable
            )
