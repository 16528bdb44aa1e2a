"""one relay_writes table with a typed effect replaces shipment_writes and passport_writes

Every row moves over: the write's subject (shipment or passport id)
and its effect as the kind and fields of ``backend.relayer.effects.Effect``.

Revision ID: c8e1f3a5b7d9
Revises: 0002
Create Date: 2026-12-02 05:50:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

import backend.db.base
from alembic import op

revision: str = "c8e1f3a5b7d9"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# shipment_writes.action → effect kind, and the effect's fields from its ``effects`` list.
SHIPMENT_KINDS = {
    "create": "shipment_created",
    "milestones": "milestones_recorded",
    "correction": "milestone_corrected",
    "overdue": "overdue_flagged",
}
# passport_writes.action (the relay purpose) → effect kind and the name of its field.
PASSPORT_KINDS = {
    "passport_issue": ("passport_versioned", "version"),
    "passport_amend": ("passport_versioned", "version"),
    "passport_recall": ("passport_status_set", "status"),
    "passport_revoke": ("passport_status_set", "status"),
    "passport_attest": ("attestation_made", "attestation_id"),
    "passport_attestation_revoke": ("attestation_revoked", "attestation_id"),
}


def _table(name: str, *columns: sa.Column[Any]) -> sa.TableClause:
    return sa.table(name, sa.column("id"), sa.column("relay_id"), sa.column("org_id"), *columns)


RELAY_WRITES = _table(
    "relay_writes",
    sa.column("kind"),
    sa.column("subject"),
    sa.column("effect", sa.JSON()),
    sa.column("created_at"),
)
SHIPMENT_WRITES = _table(
    "shipment_writes",
    sa.column("action"),
    sa.column("shipment_id"),
    sa.column("effects", sa.JSON()),
    sa.column("created_at"),
)
PASSPORT_WRITES = _table(
    "passport_writes",
    sa.column("action"),
    sa.column("passport_id"),
    sa.column("effect"),
    sa.column("created_at"),
)


def _shipment_effect(action: str, subject: str, effects: list[str]) -> dict[str, Any]:
    fields: dict[str, Any] = {"subject": subject}
    if action == "milestones":
        fields["record_hashes"] = list(effects)
    elif action == "correction":
        fields["corrected_index"] = int(effects[0])
        fields["signer"] = effects[1]
    elif action == "overdue":
        fields["milestone"] = int(effects[0])
    return fields


def _shipment_effects(kind: str, fields: dict[str, Any]) -> list[str]:
    if kind == "milestones_recorded":
        return list(fields["record_hashes"])
    if kind == "milestone_corrected":
        return [str(fields["corrected_index"]), fields["signer"]]
    if kind == "overdue_flagged":
        return [str(fields["milestone"])]
    return []


def _create_old_tables() -> None:
    for name, subject, effect in (
        ("shipment_writes", "shipment_id", sa.Column("effects", sa.JSON(), nullable=False)),
        (
            "passport_writes",
            "passport_id",
            sa.Column("effect", sa.String(length=66), nullable=False),
        ),
    ):
        op.create_table(
            name,
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("relay_id", sa.Integer(), nullable=False),
            sa.Column("org_id", sa.Integer(), nullable=False),
            sa.Column("action", sa.String(length=32), nullable=False),
            sa.Column(subject, sa.String(length=66), nullable=False),
            effect,
            sa.Column("created_at", backend.db.base.UTCDateTime(timezone=True), nullable=False),
            sa.ForeignKeyConstraint(
                ["org_id"], ["organisations.id"], name=op.f(f"fk_{name}_org_id_organisations")
            ),
            sa.ForeignKeyConstraint(
                ["relay_id"], ["relay_requests.id"], name=op.f(f"fk_{name}_relay_id_relay_requests")
            ),
            sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
            sa.UniqueConstraint("relay_id", name=op.f(f"uq_{name}_relay_id")),
        )
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f"ix_{name}_org_id"), ["org_id"], unique=False)
            batch_op.create_index(batch_op.f(f"ix_{name}_{subject}"), [subject], unique=False)


def upgrade() -> None:
    op.create_table(
        "relay_writes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("relay_id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=66), nullable=False),
        sa.Column("effect", sa.JSON(), nullable=False),
        sa.Column("created_at", backend.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_relay_writes_org_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["relay_id"],
            ["relay_requests.id"],
            name=op.f("fk_relay_writes_relay_id_relay_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_relay_writes")),
        sa.UniqueConstraint("relay_id", name=op.f("uq_relay_writes_relay_id")),
    )
    with op.batch_alter_table("relay_writes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_relay_writes_org_id"), ["org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_relay_writes_subject"), ["subject"], unique=False)

    bind = op.get_bind()
    rows: list[dict[str, Any]] = []
    for w in bind.execute(sa.select(SHIPMENT_WRITES)).mappings():
        rows.append(
            {
                "relay_id": w["relay_id"],
                "org_id": w["org_id"],
                "kind": SHIPMENT_KINDS[w["action"]],
                "subject": w["shipment_id"],
                "effect": _shipment_effect(w["action"], w["shipment_id"], w["effects"]),
                "created_at": w["created_at"],
            }
        )
    for w in bind.execute(sa.select(PASSPORT_WRITES)).mappings():
        kind, field = PASSPORT_KINDS[w["action"]]
        value: Any = int(w["effect"]) if field == "version" else w["effect"]
        rows.append(
            {
                "relay_id": w["relay_id"],
                "org_id": w["org_id"],
                "kind": kind,
                "subject": w["passport_id"],
                "effect": {"subject": w["passport_id"], field: value},
                "created_at": w["created_at"],
            }
        )
    rows.sort(key=lambda r: r["relay_id"])
    if rows:
        op.bulk_insert(RELAY_WRITES, rows)
    op.drop_table("shipment_writes")
    op.drop_table("passport_writes")


def downgrade() -> None:
    _create_old_tables()
    bind = op.get_bind()
    purposes = dict(
        bind.execute(
            sa.text(
                "SELECT relay_writes.relay_id, relay_requests.purpose FROM relay_writes "
                "JOIN relay_requests ON relay_requests.id = relay_writes.relay_id"
            )
        ).all()
    )
    shipments: list[dict[str, Any]] = []
    passports: list[dict[str, Any]] = []
    shipment_actions = {kind: action for action, kind in SHIPMENT_KINDS.items()}
    for w in bind.execute(sa.select(RELAY_WRITES)).mappings():
        common = {"relay_id": w["relay_id"], "org_id": w["org_id"], "created_at": w["created_at"]}
        if w["kind"] in shipment_actions:
            shipments.append(
                {
                    **common,
                    "action": shipment_actions[w["kind"]],
                    "shipment_id": w["subject"],
                    "effects": _shipment_effects(w["kind"], w["effect"]),
                }
            )
        else:
            field = next(f for k, f in PASSPORT_KINDS.values() if k == w["kind"])
            passports.append(
                {
                    **common,
                    "action": purposes[w["relay_id"]],
                    "passport_id": w["subject"],
                    "effect": str(w["effect"][field]),
                }
            )
    if shipments:
        op.bulk_insert(SHIPMENT_WRITES, shipments)
    if passports:
        op.bulk_insert(PASSPORT_WRITES, passports)
    op.drop_table("relay_writes")
