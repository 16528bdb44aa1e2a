"""Shipment and passport read models, manifests, documents and relayed writes.

The minimal ``shipments``/``milestones``/``passports`` tables of 0001 gain the
full read-model columns. They only ever held data derived from the chain, so
they are emptied and the indexer cursor is reset: the indexer rebuilds every
read model (anchors included, idempotently) from the deployment block.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 00:57:42.704682
"""

from collections.abc import Sequence

import sqlalchemy as sa

import backend.db.base
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for name in ("milestones", "shipments", "passports", "indexed_blocks", "chain_cursors"):
        op.execute(sa.table(name).delete())
    op.create_table(
        "milestone_corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shipment_id", sa.String(length=66), nullable=False),
        sa.Column("index", sa.Integer(), nullable=False),
        sa.Column("corrected_index", sa.Integer(), nullable=False),
        sa.Column("corrected_record_hash", sa.String(length=66), nullable=False),
        sa.Column("signer", sa.String(length=42), nullable=False),
        sa.Column("reason_code", sa.Integer(), nullable=False),
        sa.Column("evidence_hash", sa.String(length=66), nullable=False),
        sa.Column("record_hash", sa.String(length=66), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_milestone_corrections")),
        sa.UniqueConstraint("tx_hash", "log_index", name=op.f("uq_milestone_corrections_tx_hash")),
    )
    with op.batch_alter_table("milestone_corrections", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_milestone_corrections_block_number"), ["block_number"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_milestone_corrections_record_hash"), ["record_hash"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_milestone_corrections_shipment_id"), ["shipment_id"], unique=False
        )

    op.create_table(
        "passport_attestations",
        sa.Column("id", sa.String(length=66), nullable=False),
        sa.Column("passport_id", sa.String(length=66), nullable=False),
        sa.Column("certifier", sa.String(length=42), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("document_hash", sa.String(length=66), nullable=False),
        sa.Column("claim", sa.String(length=66), nullable=False),
        sa.Column("valid_until", sa.BigInteger(), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column("revoked_reason_code", sa.Integer(), nullable=True),
        sa.Column("revoked_reason", sa.Text(), nullable=True),
        sa.Column("revoked_block", sa.BigInteger(), nullable=True),
        sa.Column("revoked_tx_hash", sa.String(length=66), nullable=True),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_passport_attestations")),
    )
    with op.batch_alter_table("passport_attestations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_passport_attestations_block_number"), ["block_number"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_passport_attestations_certifier"), ["certifier"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_passport_attestations_passport_id"), ["passport_id"], unique=False
        )

    op.create_table(
        "passport_status_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("passport_id", sa.String(length=66), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("by", sa.String(length=42), nullable=False),
        sa.Column("reason_code", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_passport_status_changes")),
        sa.UniqueConstraint(
            "tx_hash", "log_index", name=op.f("uq_passport_status_changes_tx_hash")
        ),
    )
    with op.batch_alter_table("passport_status_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_passport_status_changes_block_number"), ["block_number"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_passport_status_changes_passport_id"), ["passport_id"], unique=False
        )

    op.create_table(
        "passport_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("passport_id", sa.String(length=66), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("document_hash", sa.String(length=66), nullable=False),
        sa.Column("uri", sa.Text(), nullable=False),
        sa.Column("origin_country", sa.String(length=2), nullable=False),
        sa.Column("recycled_content_bps", sa.Integer(), nullable=False),
        sa.Column("carbon_grams_co2e", sa.BigInteger(), nullable=False),
        sa.Column("water_litres", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_passport_versions")),
        sa.UniqueConstraint(
            "passport_id", "version", name=op.f("uq_passport_versions_passport_id")
        ),
    )
    with op.batch_alter_table("passport_versions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_passport_versions_block_number"), ["block_number"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_passport_versions_document_hash"), ["document_hash"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_passport_versions_passport_id"), ["passport_id"], unique=False
        )

    op.create_table(
        "shipment_overdue_flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shipment_id", sa.String(length=66), nullable=False),
        sa.Column("milestone", sa.SmallInteger(), nullable=False),
        sa.Column("planned_by", sa.BigInteger(), nullable=False),
        sa.Column("flagged_at", sa.BigInteger(), nullable=False),
        sa.Column("flagged_by", sa.String(length=42), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipment_overdue_flags")),
        sa.UniqueConstraint("tx_hash", "log_index", name=op.f("uq_shipment_overdue_flags_tx_hash")),
    )
    with op.batch_alter_table("shipment_overdue_flags", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_shipment_overdue_flags_block_number"), ["block_number"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_shipment_overdue_flags_shipment_id"), ["shipment_id"], unique=False
        )

    op.create_table(
        "passport_documents",
        sa.Column("document_hash", sa.String(length=66), nullable=False),
        sa.Column("passport_id", sa.String(length=66), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("created_at", backend.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_passport_documents_org_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("document_hash", name=op.f("pk_passport_documents")),
    )
    with op.batch_alter_table("passport_documents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_passport_documents_org_id"), ["org_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_passport_documents_passport_id"), ["passport_id"], unique=False
        )

    op.create_table(
        "shipment_manifests",
        sa.Column("shipment_id", sa.String(length=66), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("manifest_hash", sa.String(length=66), nullable=False),
        sa.Column("transport_mode", sa.String(length=8), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("created_at", backend.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_shipment_manifests_org_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("shipment_id", name=op.f("pk_shipment_manifests")),
    )
    with op.batch_alter_table("shipment_manifests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shipment_manifests_org_id"), ["org_id"], unique=False)

    op.create_table(
        "passport_writes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("relay_id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("passport_id", sa.String(length=66), nullable=False),
        sa.Column("effect", sa.String(length=66), nullable=False),
        sa.Column("created_at", backend.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_passport_writes_org_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["relay_id"],
            ["relay_requests.id"],
            name=op.f("fk_passport_writes_relay_id_relay_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_passport_writes")),
        sa.UniqueConstraint("relay_id", name=op.f("uq_passport_writes_relay_id")),
    )
    with op.batch_alter_table("passport_writes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_passport_writes_org_id"), ["org_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_passport_writes_passport_id"), ["passport_id"], unique=False
        )

    op.create_table(
        "shipment_manifest_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shipment_id", sa.String(length=66), nullable=False),
        sa.Column("passport_id", sa.String(length=66), nullable=False),
        sa.Column("gtin", sa.String(length=14), nullable=True),
        sa.Column("lot", sa.String(length=20), nullable=True),
        sa.Column("serial", sa.String(length=20), nullable=True),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipment_manifests.shipment_id"],
            name=op.f("fk_shipment_manifest_lines_shipment_id_shipment_manifests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipment_manifest_lines")),
    )
    with op.batch_alter_table("shipment_manifest_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_shipment_manifest_lines_passport_id"), ["passport_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_shipment_manifest_lines_shipment_id"), ["shipment_id"], unique=False
        )

    op.create_table(
        "shipment_writes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("relay_id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("shipment_id", sa.String(length=66), nullable=False),
        sa.Column("effects", sa.JSON(), nullable=False),
        sa.Column("created_at", backend.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_shipment_writes_org_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["relay_id"],
            ["relay_requests.id"],
            name=op.f("fk_shipment_writes_relay_id_relay_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipment_writes")),
        sa.UniqueConstraint("relay_id", name=op.f("uq_shipment_writes_relay_id")),
    )
    with op.batch_alter_table("shipment_writes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shipment_writes_org_id"), ["org_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_shipment_writes_shipment_id"), ["shipment_id"], unique=False
        )

    with op.batch_alter_table("milestones", schema=None) as batch_op:
        batch_op.add_column(sa.Column("index", sa.Integer(), nullable=False))
        batch_op.add_column(sa.Column("counterparty", sa.String(length=42), nullable=True))
        batch_op.add_column(sa.Column("status", sa.String(length=32), nullable=False))
        batch_op.add_column(sa.Column("custodian", sa.String(length=42), nullable=True))
        batch_op.add_column(sa.Column("location", sa.String(length=5), nullable=False))
        batch_op.add_column(sa.Column("measured_weight_grams", sa.BigInteger(), nullable=False))
        batch_op.add_column(sa.Column("evidence_hash", sa.String(length=66), nullable=False))
        batch_op.add_column(sa.Column("reason_code", sa.Integer(), nullable=False))
        batch_op.add_column(sa.Column("record_hash", sa.String(length=66), nullable=False))
        batch_op.add_column(sa.Column("late", sa.Boolean(), nullable=False))
        batch_op.add_column(sa.Column("planned_by", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("weight_reference_grams", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("weight_measured_grams", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("corrected_by_index", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_milestones_record_hash"), ["record_hash"], unique=False
        )

    with op.batch_alter_table("passports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("gtin", sa.String(length=14), nullable=True))
        batch_op.add_column(sa.Column("lot", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("serial", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False))
        batch_op.add_column(sa.Column("status", sa.String(length=16), nullable=False))
        batch_op.add_column(sa.Column("reason_code", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("log_index", sa.Integer(), nullable=False))
        batch_op.create_index(batch_op.f("ix_passports_gtin"), ["gtin"], unique=False)
        batch_op.create_index(batch_op.f("ix_passports_issuer"), ["issuer"], unique=False)

    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("origin", sa.String(length=5), nullable=False))
        batch_op.add_column(sa.Column("destination", sa.String(length=5), nullable=False))
        batch_op.add_column(sa.Column("declared_weight_grams", sa.BigInteger(), nullable=False))
        batch_op.add_column(sa.Column("piece_count", sa.BigInteger(), nullable=False))
        batch_op.add_column(sa.Column("weight_tolerance_bps", sa.Integer(), nullable=False))
        batch_op.add_column(sa.Column("manifest_hash", sa.String(length=66), nullable=False))
        batch_op.add_column(sa.Column("carriers", sa.JSON(), nullable=False))
        batch_op.add_column(sa.Column("warehouse", sa.String(length=42), nullable=True))
        batch_op.add_column(sa.Column("customs_broker", sa.String(length=42), nullable=True))
        batch_op.add_column(sa.Column("sla", sa.JSON(), nullable=False))
        batch_op.add_column(sa.Column("custodian", sa.String(length=42), nullable=True))
        batch_op.add_column(
            sa.Column("last_measured_weight_grams", sa.BigInteger(), nullable=False)
        )
        batch_op.add_column(sa.Column("overdue_flags", sa.Integer(), nullable=False))
        batch_op.add_column(sa.Column("history_length", sa.Integer(), nullable=False))
        batch_op.add_column(sa.Column("delivered_at", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("log_index", sa.Integer(), nullable=False))
        batch_op.create_index(batch_op.f("ix_shipments_seller"), ["seller"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shipments_seller"))
        batch_op.drop_column("log_index")
        batch_op.drop_column("delivered_at")
        batch_op.drop_column("history_length")
        batch_op.drop_column("overdue_flags")
        batch_op.drop_column("last_measured_weight_grams")
        batch_op.drop_column("custodian")
        batch_op.drop_column("sla")
        batch_op.drop_column("customs_broker")
        batch_op.drop_column("warehouse")
        batch_op.drop_column("carriers")
        batch_op.drop_column("manifest_hash")
        batch_op.drop_column("weight_tolerance_bps")
        batch_op.drop_column("piece_count")
        batch_op.drop_column("declared_weight_grams")
        batch_op.drop_column("destination")
        batch_op.drop_column("origin")

    with op.batch_alter_table("passports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_passports_issuer"))
        batch_op.drop_index(batch_op.f("ix_passports_gtin"))
        batch_op.drop_column("log_index")
        batch_op.drop_column("reason")
        batch_op.drop_column("reason_code")
        batch_op.drop_column("status")
        batch_op.drop_column("version")
        batch_op.drop_column("serial")
        batch_op.drop_column("lot")
        batch_op.drop_column("gtin")

    with op.batch_alter_table("milestones", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_milestones_record_hash"))
        batch_op.drop_column("corrected_by_index")
        batch_op.drop_column("weight_measured_grams")
        batch_op.drop_column("weight_reference_grams")
        batch_op.drop_column("planned_by")
        batch_op.drop_column("late")
        batch_op.drop_column("record_hash")
        batch_op.drop_column("reason_code")
        batch_op.drop_column("evidence_hash")
        batch_op.drop_column("measured_weight_grams")
        batch_op.drop_column("location")
        batch_op.drop_column("custodian")
        batch_op.drop_column("status")
        batch_op.drop_column("counterparty")
        batch_op.drop_column("index")

    with op.batch_alter_table("shipment_writes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shipment_writes_shipment_id"))
        batch_op.drop_index(batch_op.f("ix_shipment_writes_org_id"))

    op.drop_table("shipment_writes")
    with op.batch_alter_table("shipment_manifest_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shipment_manifest_lines_shipment_id"))
        batch_op.drop_index(batch_op.f("ix_shipment_manifest_lines_passport_id"))

    op.drop_table("shipment_manifest_lines")
    with op.batch_alter_table("passport_writes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_passport_writes_passport_id"))
        batch_op.drop_index(batch_op.f("ix_passport_writes_org_id"))

    op.drop_table("passport_writes")
    with op.batch_alter_table("shipment_manifests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shipment_manifests_org_id"))

    op.drop_table("shipment_manifests")
    with op.batch_alter_table("passport_documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_passport_documents_passport_id"))
        batch_op.drop_index(batch_op.f("ix_passport_documents_org_id"))

    op.drop_table("passport_documents")
    with op.batch_alter_table("shipment_overdue_flags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shipment_overdue_flags_shipment_id"))
        batch_op.drop_index(batch_op.f("ix_shipment_overdue_flags_block_number"))

    op.drop_table("shipment_overdue_flags")
    with op.batch_alter_table("passport_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_passport_versions_passport_id"))
        batch_op.drop_index(batch_op.f("ix_passport_versions_document_hash"))
        batch_op.drop_index(batch_op.f("ix_passport_versions_block_number"))

    op.drop_table("passport_versions")
    with op.batch_alter_table("passport_status_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_passport_status_changes_passport_id"))
        batch_op.drop_index(batch_op.f("ix_passport_status_changes_block_number"))

    op.drop_table("passport_status_changes")
    with op.batch_alter_table("passport_attestations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_passport_attestations_passport_id"))
        batch_op.drop_index(batch_op.f("ix_passport_attestations_certifier"))
        batch_op.drop_index(batch_op.f("ix_passport_attestations_block_number"))

    op.drop_table("passport_attestations")
    with op.batch_alter_table("milestone_corrections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_milestone_corrections_shipment_id"))
        batch_op.drop_index(batch_op.f("ix_milestone_corrections_record_hash"))
        batch_op.drop_index(batch_op.f("ix_milestone_corrections_block_number"))

    op.drop_table("milestone_corrections")
