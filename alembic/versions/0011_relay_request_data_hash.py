"""relay_requests.data_hash: a resent signed call is found by an index, not a scan

Existing rows get the keccak-256 of their calldata.

Revision ID: 0011_relay_request_data_hash
Revises: c8e1f3a5b7d9
Create Date: 2026-12-02 11:25:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from eth_utils import keccak

from alembic import op

revision: str = "0011_relay_request_data_hash"
down_revision: str | None = "c8e1f3a5b7d9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REQUESTS = sa.table("relay_requests", sa.column("id"), sa.column("data"), sa.column("data_hash"))


def upgrade() -> None:
    with op.batch_alter_table("relay_requests") as batch:
        batch.add_column(sa.Column("data_hash", sa.String(length=66), nullable=True))
    conn = op.get_bind()
    for row_id, data in conn.execute(sa.select(REQUESTS.c.id, REQUESTS.c.data)).all():
        conn.execute(
            REQUESTS.update()
            .where(REQUESTS.c.id == row_id)
            .values(data_hash="0x" + keccak(hexstr=data).hex())
        )
    op.create_index("ix_relay_requests_org_data_hash", "relay_requests", ["org_id", "data_hash"])


def downgrade() -> None:
    op.drop_index("ix_relay_requests_org_data_hash", table_name="relay_requests")
    with op.batch_alter_table("relay_requests") as batch:
        batch.drop_column("data_hash")
