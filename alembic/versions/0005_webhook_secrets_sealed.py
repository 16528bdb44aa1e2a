"""webhook secrets sealed at rest: room for the sealed form

Revision ID: 0005_webhook_secrets_sealed
Revises: 0004_webhooks
Create Date: 2026-12-02 02:40:00

The rows are sealed by the service at start-up (``backend.webhooks.sealing.reseal``):
the keys live in its settings, never in the database.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_webhook_secrets_sealed"
down_revision: str | None = "0004_webhooks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_secrets", schema=None) as batch_op:
        batch_op.alter_column(
            "secret", existing_type=sa.String(length=64), type_=sa.String(length=255)
        )


def downgrade() -> None:
    with op.batch_alter_table("webhook_secrets", schema=None) as batch_op:
        batch_op.alter_column(
            "secret", existing_type=sa.String(length=255), type_=sa.String(length=64)
        )
