"""OrganisationRegistry: organisations, GS1 prefixes and signer keys, tried as an attacker would."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from backend.chain import ChainClient
from backend.chain.deployments import Deployment
from backend.chain.organisations import (
    KeyAddedEvent,
    KeyGrant,
    KeyRevokedEvent,
    OrganisationInput,
    OrganisationRegisteredEvent,
    OrganisationRegistryClient,
    PrefixAssignedEvent,
    PrefixReleasedEvent,
    Role,
    org_id_for,
)
from backend.chain.typed_data.organisations import TYPEHASH_CONSTANTS
from tests.helpers import reverts

BRAND = org_id_for("brand")
OTHER = org_id_for("other")
CERTIFIER = org_id_for("certifier")
BRAND_ORG = OrganisationInput(
    "Bamboo Home Goods Ltd", "VN", "bamboo.example", Role.ISSUER | Role.SELLER
)
OTHER_ORG = OrganisationInput("Other Trading Co", "CN", "", Role.ISSUER | Role.CARRIER)
GTIN = "08936045870013"  # prefix 8936045 (7 digits) after indicator 0
FAR = 2**40


def gtin14(body: str) -> str:
    """``body`` (13 digits) with its GS1 check digit."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def _funded(chain: ChainClient) -> LocalAccount:
    acct: LocalAccount = Account.create()
    chain.send_value(acct.address, 10**18)
    return acct


@pytest.fixture
def registry(chain: ChainClient, deployment: Deployment) -> OrganisationRegistryClient:
    return OrganisationRegistryClient(chain, deployment.address("OrganisationRegistry"))


@pytest.fixture
def brand_admin(registry: OrganisationRegistryClient) -> LocalAccount:
    """The brand registered with prefix 8936045 and a funded first admin key."""
    admin = _funded(registry.chain)
    registry.register(BRAND, BRAND_ORG, admin.address)
    registry.assign_prefix(BRAND, "8936045")
    return admin


@pytest.fixture
def other_admin(registry: OrganisationRegistryClient) -> LocalAccount:
    admin = _funded(registry.chain)
    registry.register(OTHER, OTHER_ORG, admin.address)
    registry.assign_prefix(OTHER, "6901234")
    return admin


def _grant(
    registry: OrganisationRegistryClient, org_id: bytes, roles: Role
) -> tuple[KeyGrant, bytes]:
    """A new key, its grant and its consent signature."""
    key = Account.create()
    grant = KeyGrant(org_id, key.address, roles)
    return grant, registry.sign_key_consent(key.key, grant)


# -- typed data and domain ---------------------------------------------------------


@pytest.mark.parametrize("constant", sorted(TYPEHASH_CONSTANTS))
def test_python_type_string_hashes_to_contract_typehash(
    registry: OrganisationRegistryClient, constant: str
) -> None:
    assert registry.chain.call(registry.contract, constant) == TYPEHASH_CONSTANTS[constant].typehash


def test_domain_is_named_after_the_contract_and_versioned(
    registry: OrganisationRegistryClient,
) -> None:
    domain = registry.domain()
    assert domain.name == "Waymark OrganisationRegistry"
    assert domain.version == registry.chain.call(registry.contract, "VERSION") == "2.0.0"


def test_role_bits_match_contract(registry: OrganisationRegistryClient) -> None:
    for role in Role:
        assert registry.chain.call(registry.contract, f"ROLE_{role.name}") == int(role)


def test_relayer_is_registrar(registry: OrganisationRegistryClient) -> None:
    assert registry.is_registrar(registry.chain.address)


# -- organisations ----------------------------------------------------------------


def test_register_records_verified_identity_and_first_admin(
    registry: OrganisationRegistryClient,
) -> None:
    admin = Account.create()
    tx = registry.register(BRAND, BRAND_ORG, admin.address)
    org = registry.organisation(BRAND)
    assert org is not None
    assert (org.legal_name, org.country, org.web_domain) == (
        "Bamboo Home Goods Ltd",
        "VN",
        "bamboo.example",
    )
    assert org.roles == Role.ISSUER | Role.SELLER | Role.ADMIN
    assert org.registered_at == tx.block_number
    assert org.registrar == registry.chain.address
    key = registry.key(admin.address)
    assert key is not None
    assert (key.org_id, key.roles, key.added_at, key.revoked_at) == (
        BRAND,
        Role.ADMIN,
        tx.block_number,
        0,
    )
    assert [e.name for e in tx.events] == ["OrganisationRegistered", "KeyAdded"]


def test_register_by_non_registrar_reverts(registry: OrganisationRegistryClient) -> None:
    stranger = _funded(registry.chain)
    with reverts("AccessControlUnauthorizedAccount", account=stranger.address):
        registry.as_account(stranger).register(OTHER, OTHER_ORG)


def test_register_twice_reverts(registry: OrganisationRegistryClient) -> None:
    registry.register(BRAND, BRAND_ORG)
    with reverts("OrgAlreadyRegistered", orgId=BRAND):
        registry.register(BRAND, OTHER_ORG)


@pytest.mark.parametrize(
    ("org", "error", "args"),
    [
        (OrganisationInput("", "VN"), "OrgNameInvalid", {"length": 0}),
        (OrganisationInput("x" * 201, "VN"), "OrgNameInvalid", {"length": 201}),
        (OrganisationInput("Acme", "vn"), "OrgCountryInvalid", {"country": b"vn"}),
        (OrganisationInput("Acme", "V1"), "OrgCountryInvalid", {"country": b"V1"}),
        (OrganisationInput("Acme", "VN", "d" * 254), "OrgDomainInvalid", {"length": 254}),
        (OrganisationInput("Acme", "VN", "", Role(1 << 12)), "OrgRolesInvalid", {"roles": 1 << 12}),
    ],
)
def test_register_rejects_bad_identity(
    registry: OrganisationRegistryClient,
    org: OrganisationInput,
    error: str,
    args: dict[str, object],
) -> None:
    with reverts(error, orgId=BRAND, **args):
        registry.register(BRAND, org)


def test_register_zero_id_reverts(registry: OrganisationRegistryClient) -> None:
    with reverts("OrgIdZero"):
        registry.register(b"\x00" * 32, BRAND_ORG)


def test_roles_are_granted_by_the_registrar_only_and_never_removed(
    registry: OrganisationRegistryClient, brand_admin: LocalAccount
) -> None:
    with reverts("AccessControlUnauthorizedAccount", account=brand_admin.address):
        registry.as_account(brand_admin).grant_roles(BRAND, Role.CERTIFIER)
    tx = registry.grant_roles(BRAND, Role.CARRIER)
    assert tx.event("OrganisationRolesGranted").args["roles"] == int(
        Role.ADMIN | Role.ISSUER | Role.SELLER | Role.CARRIER
    )
    with reverts("OrgRolesInvalid", orgId=BRAND, roles=0):
        registry.grant_roles(BRAND, Role(0))
    with reverts("OrgUnknown", orgId=OTHER):
        registry.grant_roles(OTHER, Role.CARRIER)


# -- prefixes ------------------------------------------------------------------


def test_owner_of_gtin_finds_the_prefix_after_the_indicator_digit(
    registry: OrganisationRegistryClient, brand_admin: LocalAccount
) -> None:
    assert registry.owner_of_gtin(GTIN) == (BRAND, 7)
    assert registry.owner_of_gtin(gtin14("1893604587001")) == (BRAND, 7)  # another indicator digit
    assert registry.owner_of_gtin(gtin14("0690123400002")) is None
    assert registry.owner_of_prefix("8936045") == BRAND
    assert registry.owner_of_prefix("893604") is None


@pytest.mark.parametrize(
    "prefix",
    ["6", "12345", "1234567890123", "12345a", "12 345", "\uff11\uff12\uff13\uff14\uff15\uff16"],
)
def test_prefix_must_be_6_to_12_digits(registry: OrganisationRegistryClient, prefix: str) -> None:
    registry.register(BRAND, BRAND_ORG)
    with reverts("OrgPrefixInvalid", prefix=prefix):
        registry.assign_prefix(BRAND, prefix)


@pytest.mark.parametrize(
    "gtin", ["08936045870012", "0893604587001", "089360458700134", "0893604587001X"]
)
def test_owner_of_gtin_rejects_malformed_gtin(
    registry: OrganisationRegistryClient, gtin: str
) -> None:
    with reverts("OrgGtinInvalid", gtin=gtin):
        registry.owner_of_gtin(gtin)


def test_prefix_for_unknown_org_reverts(registry: OrganisationRegistryClient) -> None:
    with reverts("OrgUnknown", orgId=OTHER):
        registry.assign_prefix(OTHER, "6901234")


def test_prefix_assignment_by_non_registrar_reverts(
    registry: OrganisationRegistryClient, brand_admin: LocalAccount
) -> None:
    with reverts("AccessControlUnauthorizedAccount", account=brand_admin.address):
        registry.as_account(brand_admin).assign_prefix(BRAND, "8936046")


@pytest.mark.parametrize(
    ("prefix", "existing"),
    [("8936045", "8936045"), ("89360451", "8936045"), ("893604512345", "8936045")],
)
def test_prefix_equal_to_or_extending_anothers_reverts(
    registry: OrganisationRegistryClient, brand_admin: LocalAccount, prefix: str, existing: str
) -> None:
    """Another organisation cannot take the brand's prefix or carve a longer one out of it."""
    registry.register(OTHER, OTHER_ORG)
    with reverts("OrgPrefixOverlaps", prefix=prefix, ownerOrgId=BRAND, existing=existing):
        registry.assign_prefix(OTHER, prefix)


def test_prefix_that_assigned_prefixes_extend_reverts(
    registry: OrganisationRegistryClient, brand_admin: LocalAccount
) -> None:
    """A shorter prefix covering the brand's GTINs cannot be assigned to anyone."""
    registry.register(OTHER, OTHER_ORG)
    registry.assign_prefix(BRAND, "8936044")
    with reverts("OrgPrefixExtended", prefix="893604", count=2):
        registry.assign_prefix(OTHER, "893604")


def test_sibling_prefixes_do_not_overlap(
    registry: OrganisationRegistryClient, brand_admin: LocalAccount
) -> None:
    registry.register(OTHER, OTHER_ORG)
    registry.assign_prefix(OTHER, "8936046")
    registry.assign_prefix(OTHER, "89360441")
    assert registry.owner_of_gtin(gtin14("0893604600001")) == (OTHER, 7)
    assert registry.owner_of_gtin(GTIN) == (BRAND, 7)


def test_released_prefix_can_be_assigned_again(
    registry: OrganisationRegistryClient, brand_admin: LocalAccount
) -> None:
    registry.register(OTHER, OTHER_ORG)
    registry.assign_prefix(BRAND, "89360461")
    with reverts("OrgPrefixNotAssigned", prefix="8936045", orgId=OTHER):
        registry.release_prefix(OTHER, "8936045")
    registry.release_prefix(BRAND, "89360461")
    # The extension count of 893604 went back down, so the shorter prefix is free again
    # once the brand's 7-digit prefix is released as well.
    registry.release_prefix(BRAND, "8936045")
    assert registry.owner_of_gtin(GTIN) is None
    registry.assign_prefix(OTHER, "893604")
    assert registry.owner_of_gtin(GTIN) == (OTHER, 6)


# -- keys ------------------------------------------------------------------------


def test_admin_adds_consenting_key_valid_from_this_block(
    registry: OrganisationRegistryClient, brand_admin: LocalAccount
) -> None:
    grant, consent = _grant(registry, BRAND, Role.ISSUER)
    tx = registry.as_account(brand_admin).add_key(grant, consent)
    ev = tx.event("KeyAdded").args
    assert (ev["orgId"], ev["key"], ev["by"], ev["roles"], ev["validFrom"]) == (
        BRAND,
        grant.key,
        brand_admin.address,
        int(Role.ISSUER),
        tx.block_number,
    )
    assert registry.is_active(grant.key, Role.ISSUER)
    assert registry.active_org_of(grant.key, Role.ISSUER) == BRAND
    assert not registry.is_active(grant.key, Role.CERTIFIER)
    assert registry.active_org_of(grant.key, Role.CERTIFIER) is None
    # Key not yet added: not valid at any earlier block.
    assert registry.was_active_at(grant.key, Role.ISSUER, tx.block_number)
    assert not registry.was_active_at(grant.key, Role.ISSUER, tx.block_number - 1)


def test_key_of_another_party_cannot_be_claimed_without_its_consent(
    registry: OrganisationRegistryClient, brand_admin: LocalAccount, other_admin: LocalAccount
) -> None:
    """An organisation admin cannot squat a brand's key address (or any address it does not hold)."""
    brand_key = Account.create()
    grant = KeyGrant(OTHER, brand_key.address, Role.ISSUER)
    with reverts("OrgKeyConsentInvalid", key=brand_key.address):
        registry.as_account(other_admin).add_key(grant, b"")
    # A consent given to the brand does not work for another organisation.
    consent = registry.sign_key_consent(
        brand_key.key, KeyGrant(BRAND, brand_key.address, Role.ISSUER)
    )
    with reverts("OrgKeyConsentInvalid", key=brand_key.address):
        registry.as_account(other_admin).add_key(grant, consent)


def test_admin_of_one_org_cannot_add_keys_to_another(
    registry: OrganisationRegistryClient, brand_admin: LocalAccount, other_admin: LocalAccount
) -> None:
    grant, consent = _grant(registry, BRAND, Role.ISSUER)
    with reverts("OrgNotAdmin", orgId=BRAND, account=other_admin.address):
        registry.as_account(other_admin).add_key(grant, consent)


def test_admin_cannot_give_keys_roles_the_registrar_did_not_grant(
    registry: OrganisationRegistryClient, brand_admin: LocalAccount
) -> None:
    """Self-declared certifiers: an organisation's admin cannot make its own key a certifier."""
    grant, consent = _grant(registry, BRAND, Role.ISSUER | Role.CERTIFIER)
    with reverts(
        "OrgKeyRolesInvalid",
        orgId=BRAND,
        key=grant.key,
        roles=int(Role.ISSUER | Role.CERTIFIER),
        orgRoles=int(BRAND_ORG.roles | Role.ADMIN),
    ):
        registry.as_account(brand_admin).add_key(grant, consent)
    zero, zero_consent = _grant(registry, BRAND, Role(0))
    with reverts("OrgKeyRolesInvalid", roles=0):
        registry.as_account(brand_admin).add_key(zero, zero_consent)


def test_key_belongs_to_one_org_for_ever(
    registry: OrganisationRegistryClient, brand_admin: LocalAccount, other_admin: LocalAccount
) -> None:
    key = Account.create()
    grant = KeyGrant(BRAND, key.address, Role.ISSUER)
    registry.add_key(grant)  # the registrar vouches for it
    moved = KeyGrant(OTHER, key.address, Role.ISSUER)
    with reverts("OrgKeyAlreadyRegistered", key=key.address, orgId=BRAND):
        registry.as_account(other_admin).add_key(moved, registry.sign_key_consent(key.key, moved))
    registry.revoke_key(key.address)
    # A revoked key is never re-added, so its validity window stays a single interval.
    with reverts("OrgKeyAlreadyRegistered", key=key.address, orgId=BRAND):
        registry.add_key(grant)


def test_zero_key_reverts(registry: OrganisationRegistryClient, brand_admin: LocalAccount) -> None:
    with reverts("OrgKeyZero"):
        registry.add_key(KeyGrant(BRAND, "0x" + "00" * 20, Role.ISSUER))


def test_revoked_key_is_inactive_from_the_revocation_block(
    registry: OrganisationRegistryClient, brand_admin: LocalAccount
) -> None:
    grant, consent = _grant(registry, BRAND, Role.ISSUER)
    added = registry.as_account(brand_admin).add_key(grant, consent)
    registry.chain.mine(2)
    revoked = registry.as_account(brand_admin).revoke_key(grant.key)
    ev = revoked.event("KeyRevoked").args
    assert (ev["orgId"], ev["key"], ev["by"], ev["validUntil"]) == (
        BRAND,
        grant.key,
        brand_admin.address,
        revoked.block_number,
    )
    assert not registry.is_active(grant.key, Role.ISSUER)
    assert registry.active_org_of(grant.key, Role.ISSUER) is None
    assert registry.was_active_at(grant.key, Role.ISSUER, added.block_number)
    assert registry.was_active_at(grant.key, Role.ISSUER, revoked.block_number - 1)
    assert not registry.was_active_at(grant.key, Role.ISSUER, revoked.block_number)
    info = registry.key(grant.key)
    assert info is not None
    assert info.revoked
    assert info.revoked_at == revoked.block_number
    with reverts("OrgKeyAlreadyRevoked", key=grant.key, revokedAt=revoked.block_number):
        registry.revoke_key(grant.key)


def test_revoked_admin_can_no_longer_add_or_revoke(
    registry: OrganisationRegistryClient, brand_admin: LocalAccount
) -> None:
    grant, consent = _grant(registry, BRAND, Role.ISSUER)
    registry.as_account(brand_admin).add_key(grant, consent)
    registry.as_account(brand_admin).revoke_key(brand_admin.address)  # an admin may revoke itself
    other, other_consent = _grant(registry, BRAND, Role.ISSUER)
    with reverts("OrgNotAdmin", orgId=BRAND, account=brand_admin.address):
        registry.as_account(brand_admin).add_key(other, other_consent)
    with reverts("OrgNotAdmin", orgId=BRAND, account=brand_admin.address):
        registry.as_account(brand_admin).revoke_key(grant.key)


def test_non_admin_key_cannot_administer(
    registry: OrganisationRegistryClient, brand_admin: LocalAccount
) -> None:
    issuer = _funded(registry.chain)
    grant = KeyGrant(BRAND, issuer.address, Role.ISSUER)
    registry.as_account(brand_admin).add_key(grant, registry.sign_key_consent(issuer.key, grant))
    other, consent = _grant(registry, BRAND, Role.ISSUER)
    with reverts("OrgNotAdmin", orgId=BRAND, account=issuer.address):
        registry.as_account(issuer).add_key(other, consent)
    with reverts("OrgKeyUnknown", key=other.key):
        registry.revoke_key(other.key)


def test_validity_is_chain_time_only(
    registry: OrganisationRegistryClient, brand_admin: LocalAccount
) -> None:
    """Back-dating: no call takes a start time; a key is valid from the block that added it."""
    names = {
        i["name"]: [p["name"] for p in i["inputs"]]
        for i in registry.contract.abi
        if i.get("type") == "function" and i.get("stateMutability") == "nonpayable"
    }
    for fn in ("addKey", "addKeyWithSig", "registerOrganisation"):
        assert not any("from" in p.lower() or p.lower() == "at" for p in names[fn]), names[fn]
    head = registry.chain.block_number()
    grant, consent = _grant(registry, BRAND, Role.ISSUER)
    tx = registry.as_account(brand_admin).add_key(grant, consent)
    assert tx.block_number > head
    assert not registry.was_active_at(grant.key, Role.ISSUER, head)
    assert not registry.was_active_at(grant.key, Role.ISSUER, 0)


# -- delegated admin actions ------------------------------------------------------


def test_add_and_revoke_key_with_admin_signature(
    registry: OrganisationRegistryClient, brand_admin: LocalAccount
) -> None:
    admin = Account.create()  # never holds gas
    registry.add_key(KeyGrant(BRAND, admin.address, Role.ADMIN))
    grant, consent = _grant(registry, BRAND, Role.SELLER)
    deadline = FAR
    sig = registry.sign_add_key(admin.key, grant, admin.address, deadline)
    tx = registry.add_key_signed(grant, consent, admin.address, deadline, sig)
    assert tx.event("KeyAdded").args["by"] == admin.address
    # Replay of the same signature: the nonce moved on.
    with reverts("OrgSignatureInvalid", signer=admin.address):
        registry.add_key_signed(grant, consent, admin.address, deadline, sig)
    rsig = registry.sign_revoke_key(admin.key, grant.key, admin.address, deadline)
    tx = registry.revoke_key_signed(grant.key, admin.address, deadline, rsig)
    assert tx.event("KeyRevoked").args["by"] == admin.address


def test_signed_admin_action_after_deadline_reverts(
    registry: OrganisationRegistryClient, brand_admin: LocalAccount
) -> None:
    grant, consent = _grant(registry, BRAND, Role.SELLER)
    deadline = registry.chain.block()["timestamp"] - 1
    sig = registry.sign_add_key(brand_admin.key, grant, brand_admin.address, deadline)
    with reverts("OrgSignatureExpired", signer=brand_admin.address, deadline=deadline):
        registry.add_key_signed(grant, consent, brand_admin.address, deadline, sig)


def test_signature_by_someone_else_than_the_named_admin_reverts(
    registry: OrganisationRegistryClient, brand_admin: LocalAccount, other_admin: LocalAccount
) -> None:
    grant, consent = _grant(registry, BRAND, Role.SELLER)
    sig = registry.sign_add_key(other_admin.key, grant, brand_admin.address, FAR)
    with reverts("OrgSignatureInvalid", signer=brand_admin.address):
        registry.add_key_signed(grant, consent, brand_admin.address, FAR, sig)
    # A valid signature by a non-admin of the organisation is refused as such.
    sig = registry.sign_add_key(other_admin.key, grant, other_admin.address, FAR)
    with reverts("OrgNotAdmin", orgId=BRAND, account=other_admin.address):
        registry.add_key_signed(grant, consent, other_admin.address, FAR, sig)


# -- history from events -------------------------------------------------------------


def test_events_rebuild_key_and_prefix_history(
    registry: OrganisationRegistryClient,
) -> None:
    start = registry.chain.block_number() + 1
    admin = _funded(registry.chain)
    registry.register(BRAND, BRAND_ORG, admin.address)
    registry.assign_prefix(BRAND, "8936045")
    grant, consent = _grant(registry, BRAND, Role.ISSUER)
    added = registry.as_account(admin).add_key(grant, consent)
    revoked = registry.revoke_key(grant.key)
    registry.release_prefix(BRAND, "8936045")
    events = registry.events(start, registry.chain.block_number())
    kinds = [type(e) for e in events]
    assert kinds == [
        OrganisationRegisteredEvent,
        KeyAddedEvent,
        PrefixAssignedEvent,
        KeyAddedEvent,
        KeyRevokedEvent,
        PrefixReleasedEvent,
    ]
    key_events = [e for e in events if isinstance(e, KeyAddedEvent | KeyRevokedEvent)]
    window = {e.key: (e.valid_from, None) for e in key_events if isinstance(e, KeyAddedEvent)}
    for e in key_events:
        if isinstance(e, KeyRevokedEvent):
            window[e.key] = (window[e.key][0], e.valid_until)
    assert window[grant.key] == (added.block_number, revoked.block_number)
    assert window[admin.address] == (events[1].at.block_number, None)
    first = events[0]
    assert isinstance(first, OrganisationRegisteredEvent)
    assert (first.legal_name, first.country, first.web_domain) == (
        BRAND_ORG.legal_name,
        "VN",
        "bamboo.example",
    )
