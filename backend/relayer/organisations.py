"""Organisations and signer keys on chain: relayed ``OrganisationRegistry`` writes.

The operator's relayer holds the registrar role. When the operator creates an
organisation, its registration (verified name, country, web domain, roles and
GS1 prefixes, one atomic call) is queued on the relayer in the same database
transaction; every signer key the organisation registers is added with its
roles, and revoking (or rotating) a signer revokes the key on chain. The
registry then answers, without Waymark, which organisation a key speaks for
and who owns a GTIN.

Calls are simulated before they are queued, so a prefix that overlaps another
organisation's or a key that already belongs to one answers 409 with the
decoded error; behind an earlier registry write of the same organisation still
in flight, only a revert no queued write can cure is refused (the contract
checks again when the relayer sends it).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.chain import ChainClient
from backend.chain.errors import revert_class
from backend.chain.organisations import (
    CONTRACT,
    KeyGrant,
    OrganisationInput,
    OrganisationRegistryClient,
    Role,
    org_id_for,
)
from backend.common.types import to_hex
from backend.errors import InvalidInput
from backend.orgs.models import Organisation, RegistryKey, SignerKey
from backend.orgs.schemas import OrgRole
from backend.relayer.models import RelayRequest, RelayStatus
from backend.relayer.service import RelayHandler
from backend.relayer.signed import (
    IN_FLIGHT,
    PURPOSE_ORG_KEY_ADD,
    PURPOSE_ORG_KEY_REVOKE,
    PURPOSE_ORG_REGISTER,
    REGISTRAR_PURPOSES,
    EffectHandler,
    submit,
)

PURPOSE_REGISTER = PURPOSE_ORG_REGISTER
PURPOSE_KEY_ADD = PURPOSE_ORG_KEY_ADD
PURPOSE_KEY_REVOKE = PURPOSE_ORG_KEY_REVOKE
PURPOSES = REGISTRAR_PURPOSES


def role_bits(roles: Iterable[OrgRole]) -> Role:
    return Role.parse([r.value for r in roles])


def role_names(bits: int) -> list[str]:
    """The API names of role ``bits`` (admin, which every organisation holds, left out)."""
    return [n for n in Role(bits).names() if n != "admin"]


def chain_org_id(org: Organisation) -> str:
    return to_hex(org_id_for(org.slug))


def in_flight(session: Session, org_id: int) -> bool:
    """Whether a registry write of the organisation is queued or sent but not yet mined."""
    return (
        session.scalar(
            select(RelayRequest.id)
            .where(
                RelayRequest.org_id == org_id,
                RelayRequest.purpose.in_(PURPOSES),
                RelayRequest.status.in_(IN_FLIGHT),
            )
            .limit(1)
        )
        is not None
    )


class RelayedRegistrar:
    """Queues the registry calls that mirror the service's organisation writes
    (``backend.orgs.service.ChainRegistrar``)."""

    def __init__(self, registry: OrganisationRegistryClient) -> None:
        self.registry = registry

    @classmethod
    def for_deployment(cls, chain: ChainClient, address: str) -> RelayedRegistrar:
        return cls(OrganisationRegistryClient(chain, address))

    def _queue(self, session: Session, org: Organisation, purpose: str, data: str) -> RelayRequest:
        return submit(
            session=session,
            chain=self.registry.chain,
            to=self.registry.address,
            data=data,
            purpose=purpose,
            org_id=org.id,
            behind=in_flight(session, org.id),
        )

    def register(self, session: Session, org: Organisation, prefixes: list[str]) -> None:
        data = self.registry.register_calldata(
            org_id_for(org.slug),
            OrganisationInput(org.name, org.country, org.web_domain, Role(org.roles)),
            None,
            tuple(prefixes),
        )
        self._queue(session, org, PURPOSE_REGISTER, data)

    def key_roles(self, org: Organisation, roles: list[OrgRole] | None) -> Role:
        """The roles a new key gets: ``roles`` (within the organisation's) or all of them."""
        if roles is None:
            return Role(org.roles)
        bits = role_bits(roles)
        extra = bits & ~Role(org.roles)
        if extra:
            raise InvalidInput(
                f"roles {', '.join(role_names(extra))} are not roles of organisation "
                f"{org.slug!r} ({', '.join(role_names(org.roles)) or 'none'})"
            )
        return bits

    def add_key(self, session: Session, org: Organisation, signer: SignerKey, roles: Role) -> None:
        if not org.roles:
            return  # registered before the registry: not on chain
        # A key belongs to one organisation for ever: a key the registry already
        # holds is a 409 now, even when the simulation below is skipped because
        # the organisation's registration is still in flight.
        held = self.registry.key(signer.address)
        if held is not None:
            raise revert_class("OrgKeyAlreadyRegistered")(
                {"key": signer.address, "orgId": held.org_id}
            )
        grant = KeyGrant(org_id_for(org.slug), signer.address, roles)
        request = self._queue(session, org, PURPOSE_KEY_ADD, self.registry.add_key_calldata(grant))
        # The key counts while this addition is on its way (``pending_key_ids``).
        request.ref_id = signer.id

    def revoke_key(self, session: Session, org: Organisation, signer: SignerKey) -> None:
        if not org.roles:
            return
        data = self.registry.revoke_key_calldata(signer.address)
        self._queue(session, org, PURPOSE_KEY_REVOKE, data).ref_id = signer.id


def pending_key_ids(session: Session, key_ids: Collection[int]) -> set[int]:
    """Signer keys whose ``addKey`` is queued, sent or mined (not failed): on their way
    to the registry read model (``backend.orgs.authority``'s pending-key source)."""
    found: set[int] = set()
    ids = sorted(set(key_ids))
    for i in range(0, len(ids), 500):
        found.update(
            ref
            for ref in session.scalars(
                select(RelayRequest.ref_id).where(
                    RelayRequest.purpose == PURPOSE_KEY_ADD,
                    RelayRequest.ref_id.in_(ids[i : i + 500]),
                    RelayRequest.status != RelayStatus.FAILED,
                )
            )
            if ref is not None
        )
    return found


def _none(_session: Session, _request: RelayRequest) -> None:
    return None


def _revocation(session: Session, request: RelayRequest) -> tuple[str, int] | None:
    """Where the key of a ``revokeKey`` request was revoked, once indexed."""
    key = registry_key_of(session, request)
    if key is None or key.revoked_block is None or key.revoked_tx_hash is None:
        return None
    return key.revoked_tx_hash, key.revoked_block


def registry_key_of(session: Session, request: RelayRequest) -> RegistryKey | None:
    signer = session.get(SignerKey, request.ref_id) if request.ref_id is not None else None
    return session.get(RegistryKey, signer.address) if signer is not None else None


def org_relay_handlers(chain: ChainClient) -> dict[str, RelayHandler]:
    """A second registration or a key another organisation (or an earlier call) already
    holds fails the request with the decoded error, never "done": the service's
    record would otherwise claim a key the registry gives to someone else. (A
    revert caused by this request's own earlier, mined attempt is recognised by
    the relayer from its receipts.) A key revoked on chain by its organisation's
    admin before the service's ``revokeKey`` landed is done: the registry's
    revocation is the effect."""
    return {
        PURPOSE_REGISTER: EffectHandler(chain, _none),
        PURPOSE_KEY_ADD: EffectHandler(chain, _none),
        PURPOSE_KEY_REVOKE: EffectHandler(chain, _revocation, frozenset({"OrgKeyAlreadyRevoked"})),
    }


__all__ = ["CONTRACT", "RelayedRegistrar", "org_relay_handlers", "pending_key_ids"]
