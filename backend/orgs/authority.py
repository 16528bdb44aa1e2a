"""Which organisation holds a signer key, in which roles, valid now: the registry's word.

The indexed ``OrganisationRegistry`` read model (``registry_keys``, filled by
:mod:`backend.orgs.registry`) is the one source every write path asks. The
service's own signer table (``signer_keys``) keeps the operator's label and
receipt-time window of each key it registered, but decides nothing by itself:

* a key the registry holds for the organisation counts with the registry's
  roles and revocation, whether or not the service registered it (an
  organisation admin may add keys on chain directly, ``waymark org add-key``);
* a key of the service's table the registry does not hold counts only while
  its on-chain addition is on its way (queued, sent, or mined but not yet
  indexed), as a *pending-key source* registered by the relayer reports; with
  no source registered no key is pending (fail closed);
* a key the registry holds for another organisation never counts for this one.

The service's own revocation still applies on top (it can only narrow a key's
window): a key revoked in either place signs nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from eth_utils import to_checksum_address
from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from backend.chain.organisations import Role
from backend.errors import Forbidden
from backend.orgs.models import Organisation, RegistryKey, SignerKey

KEY_RULE = "key validity rule"
CHUNK = 500

#: signer key ids (``signer_keys.id``) → those whose on-chain addition is on its way.
PendingSource = Callable[[Session, Collection[int]], set[int]]
_PENDING: dict[str, PendingSource] = {}


def register_pending_source(name: str, source: PendingSource) -> None:
    """Let the relayer report keys whose ``addKey`` is still on its way (idempotent by name)."""
    _PENDING[name] = source


def _pending(session: Session, key_ids: Collection[int]) -> set[int]:
    out: set[int] = set()
    if key_ids:
        for source in _PENDING.values():
            out |= source(session, key_ids)
    return out


@dataclass(frozen=True)
class KeyWindow:
    """A signer key as the write paths judge it.

    ``valid_from`` / ``revoked_at``: the service's receipt-time window (unix
    seconds; a key only the registry knows has ``valid_from`` 0).
    ``roles`` / ``added_block`` / ``revoked_block``: the registry's record
    (``roles`` None while the key's addition is on its way). ``unregistered``:
    a key only the service's table knows, neither on chain nor on its way.
    """

    key_id: int | None
    valid_from: int
    revoked_at: int | None
    revoked_block: int | None = None
    roles: int | None = None
    added_block: int | None = None
    unregistered: bool = False

    def require_active(
        self, address: str, now: int, role: Role | None = None, *, needed_by: str = ""
    ) -> None:
        """403 naming the rule unless the key is active at ``now`` (the receipt time)
        and, once on chain, holds ``role`` there (one of them, if ``role`` names several).

        ``needed_by`` names the write that needs the role, for the refusal.
        """
        if self.unregistered:
            raise Forbidden(
                f"{KEY_RULE}: signer {address} is not a key of this organisation in "
                "OrganisationRegistry (nor on its way there); the registry decides which "
                "organisation a key speaks for"
            )
        if now < self.valid_from:
            raise Forbidden(
                f"{KEY_RULE}: signer {address} is not valid before {_iso(self.valid_from)}; "
                "a key is judged at receipt time, never by a time the signer claims"
            )
        if self.revoked_block is not None:
            raise Forbidden(
                f"{KEY_RULE}: signer {address} was revoked in OrganisationRegistry at block "
                f"{self.revoked_block}"
            )
        if self.revoked_at is not None and now >= self.revoked_at:
            raise Forbidden(
                f"{KEY_RULE}: signer {address} was revoked at {_iso(self.revoked_at)}; "
                "a key is judged at receipt time, never by a time the signer claims"
            )
        if role is not None and self.roles is not None and not Role(self.roles) & role:
            held = ", ".join(Role(self.roles).names()) or "none"
            wanted = role.names()
            which = (
                f"the role {wanted[0]}"
                if len(wanted) == 1
                else f"any of the roles {', '.join(wanted)}"
            )
            needs = f", which {needed_by} needs" if needed_by else ""
            raise Forbidden(
                f"{KEY_RULE}: signer {address} does not hold {which} in "
                f"OrganisationRegistry{needs} (it holds: {held})"
            )


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def _ts(when: datetime | None) -> int | None:
    return int(when.timestamp()) if when is not None else None


def signer_keys(*, session: Session, org_id: int) -> dict[str, KeyWindow]:
    """EIP-55 address → :class:`KeyWindow` of every key that may speak for the org
    (revoked and unregistered ones included, so refusals can say why)."""
    chain_org = session.scalar(select(Organisation.chain_org_id).where(Organisation.id == org_id))
    out = _registry_windows(session, org_id, chain_org)
    own = session.execute(
        select(SignerKey.id, SignerKey.address, SignerKey.valid_from, SignerKey.revoked_at).where(
            SignerKey.org_id == org_id
        )
    ).all()
    rest = [row for row in own if row.address not in out]
    if not rest:
        return out
    elsewhere = _on_chain(session, [row.address for row in rest])
    if elsewhere:
        # Each statement sees the latest commit: a key the indexer recorded after
        # the first read is the registry's now, not "neither on chain nor on its
        # way" (tests/backend/orgs/test_key_read_skew.py).
        out.update(_registry_windows(session, org_id, chain_org, sorted(elsewhere)))
    rest = [row for row in rest if row.address not in out]
    pending = _pending(session, [row.id for row in rest if row.address not in elsewhere])
    for sid, address, vf, rv in rest:
        out[address] = KeyWindow(sid, int(vf.timestamp()), _ts(rv), unregistered=sid not in pending)
    return out


def _registry_windows(
    session: Session, org_id: int, chain_org: str | None, keys: list[str] | None = None
) -> dict[str, KeyWindow]:
    """The registry's keys of the organisation (of ``keys`` only, when given), each with
    the service's own window where the service registered it."""
    query = (
        select(
            RegistryKey.key,
            RegistryKey.roles,
            RegistryKey.added_block,
            RegistryKey.revoked_block,
            SignerKey.id,
            SignerKey.valid_from,
            SignerKey.revoked_at,
        )
        .outerjoin(
            SignerKey, and_(SignerKey.address == RegistryKey.key, SignerKey.org_id == org_id)
        )
        .where(RegistryKey.org_id == chain_org)
    )
    if keys is not None:
        query = query.where(RegistryKey.key.in_(keys))
    return {
        key: KeyWindow(sid, _ts(vf) or 0, _ts(rv), revoked, roles, added)
        for key, roles, added, revoked, sid, vf, rv in session.execute(query)
    }


def _registry_orgs(session: Session, keys: Sequence[str]) -> dict[str, int]:
    """lower-case address → the service organisation whose key the registry holds."""
    out: dict[str, int] = {}
    for i in range(0, len(keys), CHUNK):
        out.update(
            (key.lower(), org)
            for key, org in session.execute(
                select(RegistryKey.key, Organisation.id)
                .join(Organisation, Organisation.chain_org_id == RegistryKey.org_id)
                .where(RegistryKey.key.in_(keys[i : i + CHUNK]))
            )
        )
    return out


def _on_chain(session: Session, addresses: Iterable[str]) -> set[str]:
    """The addresses the registry holds for any organisation."""
    items = sorted(set(addresses))
    found: set[str] = set()
    for i in range(0, len(items), CHUNK):
        found.update(
            session.scalars(
                select(RegistryKey.key).where(RegistryKey.key.in_(items[i : i + CHUNK]))
            )
        )
    return found


def org_ids_of(session: Session, addresses: Iterable[str]) -> dict[str, int]:
    """lower-case address → the service organisation whose key it is on chain (revoked
    or not: a key belongs to one organisation for ever), or, for a key not on chain
    yet, the one that registered it while its addition is on its way."""
    wanted = sorted({to_checksum_address(a) for a in addresses if a})
    out = _registry_orgs(session, wanted)
    rest = [a for a in wanted if a.lower() not in out]
    if not rest:
        return out
    elsewhere = _on_chain(session, rest)
    if elsewhere:  # recorded by the indexer after the first read: the registry's word now
        out.update(_registry_orgs(session, sorted(elsewhere)))
    candidates: dict[int, tuple[str, int]] = {}
    for i in range(0, len(rest), CHUNK):
        for sid, address, org in session.execute(
            select(SignerKey.id, SignerKey.address, SignerKey.org_id).where(
                SignerKey.address.in_(rest[i : i + CHUNK])
            )
        ):
            if address not in elsewhere:
                candidates[sid] = (address, org)
    for sid in _pending(session, list(candidates)):
        address, org = candidates[sid]
        out[address.lower()] = org
    return out
