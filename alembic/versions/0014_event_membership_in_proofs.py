"""events: written once; their batch and status are read off their proof row

Revision ID: 0014_event_membership_in_proofs
Revises: 0013_wallet_signed_access_grants
Create Date: 2026-12-04 19:00:00

An event used to be rewritten three times after it was received (batched, anchored,
final), and each rewrite added an entry to every index of its table. Its batch is now
the batch of its one proof row (``event_proofs``, unique per event) and its status that
batch's (``backend.events.models.anchoring_status``), so building a batch and its anchor
landing write proofs and one batch row, never the events.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_event_membership_in_proofs"
down_revision: str | None = "0013_wallet_signed_access_grants"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (event table, its column in event_proofs)
EVENTS = (("supply_events", "event_id"), ("epcis_events", "epcis_event_id"))


def upgrade() -> None:
    # Proofs of an orphaned batch are deleted with it, so an event has one proof row.
    with op.batch_alter_table("event_proofs", schema=None) as batch_op:
        for _, ref in EVENTS:
            batch_op.drop_constraint(f"uq_event_proofs_{ref}", type_="unique")
            batch_op.drop_index(f"ix_event_proofs_{ref}")
            batch_op.create_unique_constraint(f"uq_event_proofs_{ref}", [ref])
    for name, _ in EVENTS:
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.drop_index(f"ix_{name}_status")
            batch_op.drop_index(f"ix_{name}_batch_id")
            batch_op.drop_constraint(f"fk_{name}_batch_id_anchor_batches", type_="foreignkey")
            batch_op.drop_column("status")
            batch_op.drop_column("batch_id")


def downgrade() -> None:
    for name, ref in EVENTS:
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.add_column(sa.Column("batch_id", sa.Integer(), nullable=True))
            batch_op.add_column(
                sa.Column("status", sa.String(16), nullable=False, server_default="pending")
            )
        op.execute(
            f"UPDATE {name} SET batch_id = (SELECT p.batch_id FROM event_proofs p "  # noqa: S608
            f"WHERE p.{ref} = {name}.id)"
        )
        op.execute(
            f"UPDATE {name} SET status = COALESCE((SELECT CASE WHEN b.status IN "  # noqa: S608
            "('anchored', 'final') THEN b.status ELSE 'batched' END FROM anchor_batches b "
            f"WHERE b.id = {name}.batch_id), 'pending')"
        )
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.alter_column("status", server_default=None)
            batch_op.create_foreign_key(
                f"fk_{name}_batch_id_anchor_batches", "anchor_batches", ["batch_id"], ["id"]
            )
            batch_op.create_index(f"ix_{name}_batch_id", ["batch_id"], unique=False)
            batch_op.create_index(f"ix_{name}_status", ["status"], unique=False)
    with op.batch_alter_table("event_proofs", schema=None) as batch_op:
        for _, ref in EVENTS:
            batch_op.drop_constraint(f"uq_event_proofs_{ref}", type_="unique")
            batch_op.create_unique_constraint(f"uq_event_proofs_{ref}", [ref, "batch_id"])
            batch_op.create_index(f"ix_event_proofs_{ref}", [ref], unique=False)
