"""access grants signed by an issuer key of the brand (EIP-712), revoked the same way

Grants recorded before were authorised by an API key alone; they are marked revoked
(kept for the record) and count for nothing until the brand signs them anew.

Revision ID: 0009_signed_access_grants
Revises: 0007_access_grants
Create Date: 2026-12-02 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_signed_access_grants"
down_revision: str | None = "0007_access_grants"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = (
    ("signer", sa.String(length=42)),
    ("salt", sa.String(length=66)),
    ("expires_at", sa.BigInteger()),
    ("digest", sa.String(length=66)),
    ("signature", sa.String(length=132)),
    ("revoked_by", sa.String(length=42)),
    ("revocation_signature", sa.String(length=132)),
)


def upgrade() -> None:
    with op.batch_alter_table("access_grants") as batch:
        for name, type_ in _COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))
        batch.create_unique_constraint(op.f("uq_access_grants_digest"), ["digest"])
    op.execute(
        "UPDATE access_grants SET revoked_at = CURRENT_TIMESTAMP "
        "WHERE revoked_at IS NULL AND signature IS NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("access_grants") as batch:
        batch.drop_constraint(op.f("uq_access_grants_digest"), type_="unique")
        for name, _ in reversed(_COLUMNS):
            batch.drop_column(name)
