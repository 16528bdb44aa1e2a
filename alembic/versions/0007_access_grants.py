"""access grants: brand-issued, revocable rights to read restricted passport sections

Revision ID: 0007_access_grants
Revises: 0006_credentials
Create Date: 2026-12-02 03:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import backend.db.base

revision: str = "0007_access_grants"
down_revision: str | None = "0006_credentials"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "access_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issuer_org_id", sa.Integer(), nullable=False),
        sa.Column("grantee_org_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=32), nullable=False),
        sa.Column("passport_id", sa.String(length=66), nullable=False),
        sa.Column("created_at", backend.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", backend.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["issuer_org_id"],
            ["organisations.id"],
            name=op.f("fk_access_grants_issuer_org_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["grantee_org_id"],
            ["organisations.id"],
            name=op.f("fk_access_grants_grantee_org_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_grants")),
    )
    for column in ("issuer_org_id", "grantee_org_id", "passport_id"):
        op.create_index(op.f(f"ix_access_grants_{column}"), "access_grants", [column], unique=False)


def downgrade() -> None:
    for column in ("issuer_org_id", "grantee_org_id", "passport_id"):
        op.drop_index(op.f(f"ix_access_grants_{column}"), table_name="access_grants")
    op.drop_table("access_grants")
