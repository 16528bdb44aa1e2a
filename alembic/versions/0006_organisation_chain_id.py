"""organisations carry their OrganisationRegistry id, so registry keys map back to them

Revision ID: 0006_organisation_chain_id
Revises: b7e2d4f6a8c1
Create Date: 2026-12-02 02:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from eth_utils import keccak

from alembic import op

revision: str = "0006_organisation_chain_id"
down_revision: str | None = "b7e2d4f6a8c1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _chain_id(slug: str) -> str:
    # backend.chain.organisations.org_id_for, frozen here as of this revision.
    return "0x" + keccak(b"waymark.org:" + slug.encode()).hex()


def upgrade() -> None:
    with op.batch_alter_table("organisations") as batch:
        batch.add_column(sa.Column("chain_org_id", sa.String(66), nullable=True))
    orgs = sa.table("organisations", sa.column("id"), sa.column("slug"), sa.column("chain_org_id"))
    bind = op.get_bind()
    for org_id, slug in bind.execute(sa.select(orgs.c.id, orgs.c.slug)).all():
        bind.execute(
            orgs.update().where(orgs.c.id == org_id).values(chain_org_id=_chain_id(slug))
        )
    with op.batch_alter_table("organisations") as batch:
        batch.alter_column("chain_org_id", existing_type=sa.String(66), nullable=False)
        batch.create_unique_constraint("uq_organisations_chain_org_id", ["chain_org_id"])


def downgrade() -> None:
    with op.batch_alter_table("organisations") as batch:
        batch.drop_constraint("uq_organisations_chain_org_id", type_="unique")
        batch.drop_column("chain_org_id")
