"""Follow ``OrganisationRegistry`` into a read model: organisations, roles, keys, prefixes.

The chain is the authority on who an organisation is and which keys speak for
it; the ``organisations`` table is only the operator's account record. These
handlers turn the registry's events into ``registry_*`` rows (idempotent on
the log's position), and :func:`rollback` forgets everything at or above a
reorg's fork, reopening keys and prefixes whose revocation or release it
removed and recomputing roles from the surviving grants.

The indexer calls them through ``ContractHandlers`` wired in
:mod:`backend.main`; this module depends on nothing above ``orgs``.
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from backend.chain import DecodedEvent
from backend.chain.organisations import (
    KeyAddedEvent,
    KeyRevokedEvent,
    OrganisationRegisteredEvent,
    OrganisationRolesGrantedEvent,
    PrefixAssignedEvent,
    PrefixReleasedEvent,
    parse_event,
)
from backend.common.types import to_hex
from backend.orgs.models import RegistryKey, RegistryOrganisation, RegistryPrefix, RegistryRoleGrant

CONTRACT = "OrganisationRegistry"


class Block(Protocol):
    """The indexer's block reference (only its number is used)."""

    @property
    def number(self) -> int: ...


def on_event(session: Session, ev: DecodedEvent, block: Block) -> None:
    """Apply one registry log to the read model (a repeat of the same log changes nothing)."""
    parsed = parse_event(ev)
    if isinstance(parsed, OrganisationRegisteredEvent):
        org_id = to_hex(parsed.org_id)
        if session.get(RegistryOrganisation, org_id) is None:
            session.add(
                RegistryOrganisation(
                    org_id=org_id,
                    legal_name=parsed.legal_name,
                    country=parsed.country,
                    web_domain=parsed.web_domain,
                    registered_roles=int(parsed.roles),
                    roles=int(parsed.roles),
                    registrar=parsed.registrar,
                    block_number=block.number,
                    tx_hash=ev.tx_hash,
                    log_index=ev.log_index,
                )
            )
    elif isinstance(parsed, OrganisationRolesGrantedEvent):
        if _seen(session, RegistryRoleGrant, ev):
            return
        org_id = to_hex(parsed.org_id)
        session.add(
            RegistryRoleGrant(
                org_id=org_id,
                granted=int(parsed.granted),
                block_number=block.number,
                tx_hash=ev.tx_hash,
                log_index=ev.log_index,
            )
        )
        org = session.get(RegistryOrganisation, org_id)
        if org is not None:
            org.roles = int(parsed.roles)
    elif isinstance(parsed, KeyAddedEvent):
        if session.get(RegistryKey, parsed.key) is None:
            session.add(
                RegistryKey(
                    key=parsed.key,
                    org_id=to_hex(parsed.org_id),
                    roles=int(parsed.roles),
                    added_by=parsed.by,
                    added_block=block.number,
                    block_number=block.number,
                    tx_hash=ev.tx_hash,
                    log_index=ev.log_index,
                )
            )
    elif isinstance(parsed, KeyRevokedEvent):
        key = session.get(RegistryKey, parsed.key)
        if key is not None and key.revoked_block is None:
            key.revoked_block = block.number
            key.revoked_by = parsed.by
            key.revoked_tx_hash = ev.tx_hash
    elif isinstance(parsed, PrefixAssignedEvent):
        if not _seen(session, RegistryPrefix, ev):
            session.add(
                RegistryPrefix(
                    prefix=parsed.prefix,
                    org_id=to_hex(parsed.org_id),
                    block_number=block.number,
                    tx_hash=ev.tx_hash,
                    log_index=ev.log_index,
                )
            )
    elif isinstance(parsed, PrefixReleasedEvent):
        session.execute(
            update(RegistryPrefix)
            .where(
                RegistryPrefix.prefix == parsed.prefix,
                RegistryPrefix.org_id == to_hex(parsed.org_id),
                RegistryPrefix.released_block.is_(None),
            )
            .values(released_block=block.number)
            .execution_options(synchronize_session=False)
        )


def _seen(session: Session, model: Any, ev: DecodedEvent) -> bool:
    return (
        session.scalar(
            select(model.id).where(model.tx_hash == ev.tx_hash, model.log_index == ev.log_index)
        )
        is not None
    )


def rollback(session: Session, fork: int) -> None:
    """Forget the registry's history at or above ``fork``."""
    for model in (RegistryKey, RegistryPrefix, RegistryRoleGrant, RegistryOrganisation):
        session.execute(
            delete(model)
            .where(model.block_number >= fork)
            .execution_options(synchronize_session=False)
        )
    session.execute(
        update(RegistryKey)
        .where(RegistryKey.revoked_block >= fork)
        .values(revoked_block=None, revoked_by=None, revoked_tx_hash=None)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(RegistryPrefix)
        .where(RegistryPrefix.released_block >= fork)
        .values(released_block=None)
        .execution_options(synchronize_session=False)
    )
    for org in session.scalars(select(RegistryOrganisation)):
        roles = org.registered_roles
        for granted in session.scalars(
            select(RegistryRoleGrant.granted).where(RegistryRoleGrant.org_id == org.org_id)
        ):
            roles |= granted
        org.roles = roles


EVENTS = (
    "OrganisationRegistered",
    "OrganisationRolesGranted",
    "PrefixAssigned",
    "PrefixReleased",
    "KeyAdded",
    "KeyRevoked",
)
