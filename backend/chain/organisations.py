"""Domain verbs over ``OrganisationRegistry``: organisations, GS1 prefixes, signer keys.

Writes return :class:`TxResult`; every write also has a ``*_calldata`` twin for
callers that queue calls on the relayer. Reads return dataclasses (``None`` for
unknown records). :func:`parse_event` turns a decoded registry log into one of
the ``*Event`` dataclasses, so an indexer or verifier can rebuild the key and
prefix history from ``get_logs`` alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntFlag
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_hash.auto import keccak

from backend.chain import eip712
from backend.chain.client import ChainClient, DecodedEvent, TxResult
from backend.chain.typed_data.organisations import ADD_KEY, KEY_CONSENT, REVOKE_KEY

CONTRACT = "OrganisationRegistry"
REGISTRAR_ROLE = keccak(b"REGISTRAR_ROLE")
#: Namespace of organisation ids derived from a service slug (see :func:`org_id_for`).
ORG_ID_NAMESPACE = b"waymark.org:"


class Role(IntFlag):
    """Key and organisation role bits (``OrganisationRegistry.ROLE_*``)."""

    ADMIN = 1 << 0
    ISSUER = 1 << 1
    SELLER = 1 << 2
    SUPPLIER = 1 << 3
    CARRIER = 1 << 4
    WAREHOUSE = 1 << 5
    CUSTOMS_BROKER = 1 << 6
    CERTIFIER = 1 << 7
    ALLIANCE_MEMBER = 1 << 8
    CONSIGNEE = 1 << 9
    ARBITER = 1 << 10
    INSURER = 1 << 11

    @classmethod
    def parse(cls, names: list[str] | tuple[str, ...]) -> Role:
        """``["issuer", "customs_broker"]`` → ``Role.ISSUER | Role.CUSTOMS_BROKER``."""
        out = cls(0)
        for name in names:
            out |= cls[name.upper()]
        return out

    def names(self) -> list[str]:
        """Lower-case names of the set bits, in bit order."""
        return [r.name.lower() for r in Role if r.name and r in self]


ALL_ROLES = Role((1 << 12) - 1)
NO_ROLES = Role(0)


def org_id_for(slug: str) -> bytes:
    """The on-chain id of the service organisation ``slug``: ``keccak256("waymark.org:" ‖ slug)``.

    Derived, not assigned, so a key can be queued for an organisation whose
    registration is still in the relayer's queue.
    """
    return keccak(ORG_ID_NAMESPACE + slug.encode())


@dataclass(frozen=True)
class OrganisationInput:
    """What the registrar submits."""

    legal_name: str
    country: str
    web_domain: str = ""
    roles: Role = NO_ROLES

    def as_tuple(self) -> tuple[Any, ...]:
        return (self.legal_name, self.country.encode("ascii"), self.web_domain, int(self.roles))


@dataclass(frozen=True)
class OrganisationInfo:
    """A registered organisation."""

    org_id: bytes
    legal_name: str
    country: str
    web_domain: str
    roles: Role
    registered_at: int
    registrar: str


@dataclass(frozen=True)
class KeyGrant:
    """A key to add to an organisation with its roles."""

    org_id: bytes
    key: str
    roles: Role

    def as_tuple(self) -> tuple[Any, ...]:
        return (self.org_id, self.key, int(self.roles))

    def message(self) -> dict[str, Any]:
        return {"orgId": self.org_id, "key": self.key, "roles": int(self.roles)}


@dataclass(frozen=True)
class KeyInfo:
    """A signer key's record: valid in ``[added_at, revoked_at)`` blocks (``revoked_at`` 0: open)."""

    key: str
    org_id: bytes
    roles: Role
    added_at: int
    revoked_at: int

    @property
    def revoked(self) -> bool:
        return self.revoked_at != 0


# -- events ------------------------------------------------------------------


@dataclass(frozen=True)
class ChainPosition:
    """Where a registry log sits on chain."""

    block_number: int
    log_index: int
    tx_hash: str


@dataclass(frozen=True)
class OrganisationRegisteredEvent:
    org_id: bytes
    registrar: str
    legal_name: str
    country: str
    web_domain: str
    roles: Role
    at: ChainPosition


@dataclass(frozen=True)
class OrganisationRolesGrantedEvent:
    org_id: bytes
    registrar: str
    granted: Role
    roles: Role
    at: ChainPosition


@dataclass(frozen=True)
class PrefixAssignedEvent:
    org_id: bytes
    registrar: str
    prefix: str
    at: ChainPosition


@dataclass(frozen=True)
class PrefixReleasedEvent:
    org_id: bytes
    registrar: str
    prefix: str
    at: ChainPosition


@dataclass(frozen=True)
class KeyAddedEvent:
    org_id: bytes
    key: str
    by: str
    roles: Role
    valid_from: int
    at: ChainPosition


@dataclass(frozen=True)
class KeyRevokedEvent:
    org_id: bytes
    key: str
    by: str
    valid_until: int
    at: ChainPosition


RegistryEvent = (
    OrganisationRegisteredEvent
    | OrganisationRolesGrantedEvent
    | PrefixAssignedEvent
    | PrefixReleasedEvent
    | KeyAddedEvent
    | KeyRevokedEvent
)


def parse_event(ev: DecodedEvent) -> RegistryEvent | None:
    """The typed form of a registry log (``None`` for any other event)."""
    a = ev.args
    at = ChainPosition(ev.block_number, ev.log_index, ev.tx_hash)
    if ev.name == "OrganisationRegistered":
        return OrganisationRegisteredEvent(
            bytes(a["orgId"]),
            a["registrar"],
            a["legalName"],
            bytes(a["country"]).decode("ascii"),
            a["webDomain"],
            Role(a["roles"]),
            at,
        )
    if ev.name == "OrganisationRolesGranted":
        return OrganisationRolesGrantedEvent(
            bytes(a["orgId"]), a["registrar"], Role(a["granted"]), Role(a["roles"]), at
        )
    if ev.name == "PrefixAssigned":
        return PrefixAssignedEvent(bytes(a["orgId"]), a["registrar"], a["prefix"], at)
    if ev.name == "PrefixReleased":
        return PrefixReleasedEvent(bytes(a["orgId"]), a["registrar"], a["prefix"], at)
    if ev.name == "KeyAdded":
        return KeyAddedEvent(
            bytes(a["orgId"]), a["key"], a["by"], Role(a["roles"]), int(a["validFrom"]), at
        )
    if ev.name == "KeyRevoked":
        return KeyRevokedEvent(bytes(a["orgId"]), a["key"], a["by"], int(a["validUntil"]), at)
    return None


class OrganisationRegistryClient:
    """Register organisations, assign prefixes, add and revoke keys, and read them back."""

    def __init__(self, chain: ChainClient, address: str) -> None:
        self.chain = chain
        self.address = address
        self.contract = chain.contract(CONTRACT, address)
        self._domain: eip712.Domain | None = None

    def as_account(self, account: LocalAccount) -> OrganisationRegistryClient:
        """The same registry, sending from ``account`` (an organisation admin key)."""
        return OrganisationRegistryClient(self.chain.with_account(account), self.address)

    # -- registrar ---------------------------------------------------------

    def is_registrar(self, account: str) -> bool:
        return bool(self.chain.call(self.contract, "hasRole", REGISTRAR_ROLE, account))

    def register(
        self,
        org_id: bytes,
        org: OrganisationInput,
        first_admin: str | None = None,
        prefixes: tuple[str, ...] = (),
    ) -> TxResult:
        """Register ``org`` with its first admin key (optional) and GS1 prefixes, atomically."""
        args = self._register_args(org_id, org, first_admin, prefixes)
        return self.chain.transact(self.contract, *args)

    def register_calldata(
        self,
        org_id: bytes,
        org: OrganisationInput,
        first_admin: str | None = None,
        prefixes: tuple[str, ...] = (),
    ) -> str:
        return self.chain.encode(
            self.contract, *self._register_args(org_id, org, first_admin, prefixes)
        )

    @staticmethod
    def _register_args(
        org_id: bytes, org: OrganisationInput, first_admin: str | None, prefixes: tuple[str, ...]
    ) -> tuple[Any, ...]:
        admin = first_admin or "0x" + "00" * 20
        return ("registerOrganisation", org_id, org.as_tuple(), admin, list(prefixes))

    def grant_roles(self, org_id: bytes, roles: Role) -> TxResult:
        return self.chain.transact(self.contract, "grantOrganisationRoles", org_id, int(roles))

    def assign_prefix(self, org_id: bytes, prefix: str) -> TxResult:
        return self.chain.transact(self.contract, "assignPrefix", org_id, prefix)

    def release_prefix(self, org_id: bytes, prefix: str) -> TxResult:
        return self.chain.transact(self.contract, "releasePrefix", org_id, prefix)

    # -- keys --------------------------------------------------------------

    def domain(self) -> eip712.Domain:
        """The EIP-712 domain read from ``eip712Domain()`` (cached: it is immutable)."""
        if self._domain is None:
            self._domain = self.chain.eip712_domain(self.contract)
        return self._domain

    def nonce(self, account: str) -> int:
        return int(self.chain.call(self.contract, "nonces", account))

    def sign_key_consent(self, key: str | bytes, grant: KeyGrant) -> bytes:
        """The new key's consent to ``grant`` (``key`` is that key's private key)."""
        return eip712.sign(key, self.domain(), KEY_CONSENT, grant.message())

    def sign_add_key(self, key: str | bytes, grant: KeyGrant, admin: str, deadline: int) -> bytes:
        message = {
            **grant.message(),
            "admin": admin,
            "nonce": self.nonce(admin),
            "deadline": deadline,
        }
        return eip712.sign(key, self.domain(), ADD_KEY, message)

    def sign_revoke_key(self, key: str | bytes, target: str, admin: str, deadline: int) -> bytes:
        message = {"key": target, "admin": admin, "nonce": self.nonce(admin), "deadline": deadline}
        return eip712.sign(key, self.domain(), REVOKE_KEY, message)

    def add_key(self, grant: KeyGrant, consent: bytes = b"") -> TxResult:
        """Add as the sending account (an admin key of the organisation, or a registrar)."""
        return self.chain.transact(self.contract, "addKey", grant.as_tuple(), consent)

    def add_key_calldata(self, grant: KeyGrant, consent: bytes = b"") -> str:
        return self.chain.encode(self.contract, "addKey", grant.as_tuple(), consent)

    def add_key_signed(
        self, grant: KeyGrant, consent: bytes, admin: str, deadline: int, signature: bytes
    ) -> TxResult:
        return self.chain.transact(
            self.contract, "addKeyWithSig", grant.as_tuple(), consent, admin, deadline, signature
        )

    def revoke_key(self, key: str) -> TxResult:
        return self.chain.transact(self.contract, "revokeKey", key)

    def revoke_key_calldata(self, key: str) -> str:
        return self.chain.encode(self.contract, "revokeKey", key)

    def revoke_key_signed(self, key: str, admin: str, deadline: int, signature: bytes) -> TxResult:
        return self.chain.transact(
            self.contract, "revokeKeyWithSig", key, admin, deadline, signature
        )

    # -- reads -------------------------------------------------------------

    def organisation(self, org_id: bytes, block: int | str = "latest") -> OrganisationInfo | None:
        name, country, domain, roles, registered_at, registrar = self.chain.call(
            self.contract, "organisation", org_id, block=block
        )
        if registered_at == 0:
            return None
        return OrganisationInfo(
            org_id=org_id,
            legal_name=name,
            country=bytes(country).decode("ascii"),
            web_domain=domain,
            roles=Role(roles),
            registered_at=int(registered_at),
            registrar=registrar,
        )

    def key(self, key: str, block: int | str = "latest") -> KeyInfo | None:
        org_id, roles, added_at, revoked_at = self.chain.call(
            self.contract, "keyOf", key, block=block
        )
        if bytes(org_id) == b"\x00" * 32:
            return None
        return KeyInfo(key, bytes(org_id), Role(roles), int(added_at), int(revoked_at))

    def is_active(self, key: str, role: Role) -> bool:
        return bool(self.chain.call(self.contract, "isActive", key, int(role)))

    def was_active_at(self, key: str, role: Role, block_number: int) -> bool:
        return bool(self.chain.call(self.contract, "wasActiveAt", key, int(role), block_number))

    def active_org_of(self, key: str, role: Role) -> bytes | None:
        org_id = bytes(self.chain.call(self.contract, "activeOrgOf", key, int(role)))
        return None if org_id == b"\x00" * 32 else org_id

    def owner_of_prefix(self, prefix: str) -> bytes | None:
        org_id = bytes(self.chain.call(self.contract, "ownerOfPrefix", prefix))
        return None if org_id == b"\x00" * 32 else org_id

    def owner_of_gtin(self, gtin14: str) -> tuple[bytes, int] | None:
        """(owner org id, prefix length) of a GTIN-14, or ``None`` if no prefix covers it."""
        org_id, length = self.chain.call(self.contract, "ownerOfGtin", gtin14)
        return None if int(length) == 0 else (bytes(org_id), int(length))

    def events(self, from_block: int, to_block: int) -> list[RegistryEvent]:
        """The registry's events in the inclusive block range, typed, in chain order."""
        logs = self.chain.get_logs([self.address], from_block, to_block)
        return [p for p in (parse_event(ev) for ev in logs) if p is not None]
