"""event proofs: the block of the indexed anchor each proof was verified against

Revision ID: 0009_proof_verified_block
Revises: 0006_epcis_capture
Create Date: 2026-12-02 06:00:00

Proofs of roots already indexed are verified here, as the indexer now does when
it records an ``Anchored`` event, so ``GET /v1/proofs`` reads rows only.
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from backend.anchoring import merkle

revision: str = "0009_proof_verified_block"
down_revision: str | None = "0006_epcis_capture"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("event_proofs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("verified_block", sa.BigInteger(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_event_proofs_verified_block"), ["verified_block"], unique=False
        )
    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT p.id, p.leaf, p.proof, a.root, MIN(a.block_number) AS block "
            "FROM event_proofs p JOIN anchor_batches b ON b.id = p.batch_id "
            "JOIN chain_anchors a ON a.root = b.root "
            "GROUP BY p.id, p.leaf, p.proof, a.root"
        )
    ).all()
    for r in rows:
        siblings = [bytes.fromhex(s[2:]) for s in json.loads(r.proof)]
        if merkle.verify(bytes.fromhex(r.root[2:]), bytes.fromhex(r.leaf[2:]), siblings):
            conn.execute(
                sa.text("UPDATE event_proofs SET verified_block = :b WHERE id = :i"),
                {"b": r.block, "i": r.id},
            )


def downgrade() -> None:
    with op.batch_alter_table("event_proofs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_proofs_verified_block"))
        batch_op.drop_column("verified_block")
