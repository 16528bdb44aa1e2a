"""A key the indexer records while a write is being judged still counts as the registry's.

The key rule reads the registry's keys, then the service's own, then which of those
the registry holds for anyone. Each statement sees the latest commit (PostgreSQL's read
committed, and SQLite's reads outside a write), so a key indexed between the first
read and the later ones used to fall between them:
not among the organisation's registry keys (first read), yet on chain (later read), so
not "on its way" either, and a valid signer got a 403 "not a key of this organisation
(nor on its way there)" for that instant (seen in the live-app test under load).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from eth_account import Account
from sqlalchemy import Engine, event, insert

from backend.chain.organisations import Role
from backend.db.base import utcnow
from backend.db.engine import make_sessionmaker
from backend.orgs.authority import org_ids_of, signer_keys
from backend.orgs.models import Organisation, RegistryKey, SignerKey

ROLES = Role.ADMIN | Role.SELLER


def _org_with_key(engine: Engine, slug: str) -> tuple[int, str, str]:
    """(service id, registry id, key address) of an organisation whose key the
    service registered and whose on-chain addition has not been indexed yet."""
    key = Account.create().address
    with make_sessionmaker(engine)() as session:
        org = Organisation(slug=slug, name=slug.title(), roles=int(ROLES))
        session.add(org)
        session.flush()
        session.add(SignerKey(org_id=org.id, address=key, valid_from=utcnow()))
        session.commit()
        return org.id, org.chain_org_id, key


@contextmanager
def indexed_after_the_first_registry_read(engine: Engine, row: dict[str, Any]) -> Iterator[None]:
    """The indexer commits ``row`` into ``registry_keys`` (from its own connection) right
    after the first statement that reads that table."""
    fired: list[str] = []

    def land(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if fired or "registry_keys" not in statement:
            return
        fired.append(statement)
        with engine.begin() as indexer:
            indexer.execute(insert(RegistryKey).values(**row))

    event.listen(engine, "after_cursor_execute", land)
    try:
        yield
    finally:
        event.remove(engine, "after_cursor_execute", land)
    assert fired, "no statement read registry_keys"


def _row(key: str, chain_org: str) -> dict[str, Any]:
    return {
        "key": key,
        "org_id": chain_org,
        "roles": int(ROLES),
        "added_by": key,
        "added_block": 11,
        "block_number": 11,
        "tx_hash": "0x" + "ab" * 32,
        "log_index": 0,
    }


def test_a_key_indexed_between_the_reads_is_the_registrys_key_of_its_organisation(
    db_engine: Engine,
) -> None:
    org_id, chain_org, key = _org_with_key(db_engine, "skew-window")
    with (
        indexed_after_the_first_registry_read(db_engine, _row(key, chain_org)),
        make_sessionmaker(db_engine)() as session,
    ):
        window = signer_keys(session=session, org_id=org_id)[key]
    assert not window.unregistered
    assert window.roles == int(ROLES)
    assert window.added_block == 11
    window.require_active(key, int(utcnow().timestamp()) + 1, Role.SELLER)


def test_a_key_indexed_between_the_reads_maps_to_its_organisation(db_engine: Engine) -> None:
    org_id, chain_org, key = _org_with_key(db_engine, "skew-owner")
    with (
        indexed_after_the_first_registry_read(db_engine, _row(key, chain_org)),
        make_sessionmaker(db_engine)() as session,
    ):
        owners = org_ids_of(session, [key])
    assert owners == {key.lower(): org_id}
