"""Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Engine, inspect, text

from backend.db import migrate
from backend.db.engine import make_engine
from backend.models import Base
from backend.passports.effects import (
    AttestationMade,
    AttestationRevoked,
    PassportStatusSet,
    PassportVersioned,
)
from backend.relayer.effects import load
from backend.shipments.effects import (
    MilestoneCorrected,
    MilestonesRecorded,
    OverdueFlagged,
    ShipmentCreated,
)


def test_migrated_schema_matches_models(db_engine: Engine) -> None:
    assert migrate.schema_diff(db_engine, Base.metadata) == []
    tables = set(inspect(db_engine).get_table_names())
    assert set(Base.metadata.tables) <= tables


def test_downgrade_to_base_and_upgrade_again_round_trips(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    migrate.upgrade(engine)
    migrate.downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(engine)
    assert migrate.schema_diff(engine, Base.metadata) == []
    engine.dispose()


def test_sqlite_runs_in_wal_mode_with_busy_timeout(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'w.sqlite3'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    engine.dispose()


def test_relay_writes_migration_keeps_every_write_and_its_effect(tmp_path: Path) -> None:
    """The shipment and passport write records become typed effects, and back."""
    engine = make_engine(f"sqlite:///{tmp_path / 'r.sqlite3'}")
    migrate.upgrade(engine, "0002")
    sid, pid, att = "0x" + "11" * 32, "0x" + "22" * 32, "0x" + "33" * 32
    signer = "0x" + "44" * 20
    writes = [
        ("shipment_writes", "create", sid, "[]"),
        ("shipment_writes", "milestones", sid, '["0x' + "aa" * 32 + '"]'),
        ("shipment_writes", "correction", sid, f'["3", "{signer}"]'),
        ("shipment_writes", "overdue", sid, '["2"]'),
        ("passport_writes", "passport_issue", pid, "1"),
        ("passport_writes", "passport_amend", pid, "2"),
        ("passport_writes", "passport_recall", pid, "recalled"),
        ("passport_writes", "passport_attest", pid, att),
        ("passport_writes", "passport_attestation_revoke", pid, att),
    ]
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO organisations (id, slug, name, created_at) "
                "VALUES (1, 'acme', 'Acme', '2026-01-01 00:00:00')"
            )
        )
        for n, (table, action, subject, effect) in enumerate(writes, start=1):
            conn.execute(
                text(
                    "INSERT INTO relay_requests (id, purpose, org_id, to_address, data, status, "
                    "attempts, created_at, updated_at) VALUES (:id, :purpose, 1, :to, '0x', "
                    "'queued', 0, '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                ),
                {"id": n, "purpose": action if table == "passport_writes" else "s", "to": signer},
            )
            column = "shipment_id, effects" if table == "shipment_writes" else "passport_id, effect"
            conn.execute(
                text(
                    f"INSERT INTO {table} (relay_id, org_id, action, {column}, created_at) "  # noqa: S608
                    "VALUES (:n, 1, :action, :subject, :effect, '2026-01-01 00:00:00')"
                ),
                {"n": n, "action": action, "subject": subject, "effect": effect},
            )
    migrate.upgrade(engine, "c8e1f3a5b7d9")
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT relay_id, kind, subject, effect FROM relay_writes ORDER BY relay_id")
        ).all()
    effects = [load(kind, json.loads(fields)) for _, kind, _, fields in rows]
    assert [r.relay_id for r in rows] == list(range(1, len(writes) + 1))
    assert [r.subject for r in rows] == [sid] * 4 + [pid] * 5
    assert effects == [
        ShipmentCreated(subject=sid),
        MilestonesRecorded(subject=sid, record_hashes=["0x" + "aa" * 32]),
        MilestoneCorrected(subject=sid, corrected_index=3, signer=signer),
        OverdueFlagged(subject=sid, milestone=2),
        PassportVersioned(subject=pid, version=1),
        PassportVersioned(subject=pid, version=2),
        PassportStatusSet(subject=pid, status="recalled"),
        AttestationMade(subject=pid, attestation_id=att),
        AttestationRevoked(subject=pid, attestation_id=att),
    ]
    migrate.downgrade(engine, "0002")
    with engine.connect() as conn:
        back = conn.execute(
            text(
                "SELECT relay_id, action, shipment_id, effects FROM shipment_writes UNION ALL "
                "SELECT relay_id, action, passport_id, effect FROM passport_writes ORDER BY 1"
            )
        ).all()

    def plain(table: str, effect: str) -> object:
        return json.loads(effect) if table == "shipment_writes" else effect

    assert [(n, a, s, plain(t, e)) for n, (t, a, s, e) in enumerate(writes, start=1)] == [
        (n, a, s, plain(t, e)) for (t, *_), (n, a, s, e) in zip(writes, back, strict=True)
    ]
    engine.dispose()


def test_pages_stored_whole_before_templates_are_marked_to_be_computed_again(
    db_engine: Engine,
) -> None:
    """A page stored as its own gzip body before ``0016_page_templates`` has no template:
    the upgrade marks it, so no scan finds a row with nothing to send, and it is
    computed in the new form."""
    if db_engine.dialect.name != "postgresql":
        return  # the same upgrade on SQLite: test_downgrade_to_base_and_upgrade_again_round_trips
    migrate.downgrade(db_engine, "0015_passport_page_in_one_row")
    pid = "0x" + "ab" * 32
    with db_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO passport_pages (passport_id, path, generation, source_block, stale, "
                "body, etag) VALUES (:pid, '/01/09506000134352/21/A1', 3, 0, false, :b, 'W/\"x\"')"
            ),
            {"pid": pid, "b": b"\x1f\x8b old gzip page"},
        )
    migrate.upgrade(db_engine)
    with db_engine.begin() as conn:
        row = conn.execute(
            text(
                "SELECT stale, generation, template_id, etag FROM passport_pages "
                "WHERE passport_id = :pid"
            ),
            {"pid": pid},
        ).one()
        conn.execute(text("DELETE FROM passport_pages WHERE passport_id = :pid"), {"pid": pid})
    assert tuple(row) == (True, 4, None, None)
    assert migrate.schema_diff(db_engine, Base.metadata) == []
