"""Contract wallets (ERC-1271) as the factories see a signer, for every domain's wallet tests.

A factory signs with ``signer.key`` and names ``signer.address``; a :class:`WalletKey`
pairs a wallet's address with one of its owner keys, so the same factories make a
wallet's signed bodies. The drivers deploy the test wallets of ``contracts/test/``,
register them as an organisation's signer keys, rotate an owner and revoke a key in
``OrganisationRegistry``, the way the attacks need them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from eth_account import Account
from eth_account.signers.local import LocalAccount
from fastapi.testclient import TestClient

from backend.chain import ChainClient, OrganisationRegistryClient
from backend.common.types import hex_bytes, to_hex
from tests.backend.factories import Org
from tests.conftest import deployment_for


@dataclass(frozen=True)
class WalletKey:
    """A contract wallet as the factories see a signer: the wallet's address, an owner's key."""

    address: str
    key: bytes


def as_signer(wallet: WalletKey) -> LocalAccount:
    """``wallet`` where a factory takes a key (it reads ``address`` and ``key`` only)."""
    return cast(LocalAccount, wallet)


def register_key(api: TestClient, settle: Callable[[], None], org: Org, address: str) -> None:
    """Register ``address`` as a signer key of ``org`` and let the registry see it."""
    resp = api.post(f"/v1/orgs/{org.slug}/signers", json={"address": address}, headers=org.admin)
    assert resp.status_code == 201, resp.text
    settle()


@dataclass(frozen=True)
class OwnedWallet:
    """An ``OwnedSigningWallet`` and the key that owns it now."""

    address: str
    owner: LocalAccount

    @property
    def signer(self) -> LocalAccount:
        return as_signer(WalletKey(self.address, bytes(self.owner.key)))

    def signed_by(self, key: LocalAccount) -> LocalAccount:
        """The wallet named as signer, ``key`` signing (a stranger or a rotated-out owner)."""
        return as_signer(WalletKey(self.address, bytes(key.key)))


def owned_wallet(chain: ChainClient) -> OwnedWallet:
    owner = Account.create()
    return OwnedWallet(chain.deploy("OwnedSigningWallet", owner.address).address, owner)


def rotate_owner(chain: ChainClient, wallet: OwnedWallet) -> OwnedWallet:
    """The owner hands the wallet to a new key: what the old key signs no longer counts."""
    new_owner = Account.create()
    chain.send_value(wallet.owner.address, 10**18)
    chain.with_account(wallet.owner).transact(
        chain.contract("OwnedSigningWallet", wallet.address), "setOwner", new_owner.address
    )
    return OwnedWallet(wallet.address, new_owner)


@dataclass(frozen=True)
class TwoKeyWallet:
    """A 2-of-2 ``TwoKeyWallet``: its signature is both keys' (130 bytes)."""

    address: str
    first: LocalAccount
    second: LocalAccount

    def joint(self, make: Callable[[LocalAccount], dict[str, Any]]) -> tuple[dict, dict]:
        """``make``'s body signed by both keys, and the same body with the first key's alone.

        ``make(signer)`` builds a body naming the wallet; it is called once per key over
        the same message, and the two signatures are joined first key first.
        """
        one = make(as_signer(WalletKey(self.address, bytes(self.first.key))))
        two = make(as_signer(WalletKey(self.address, bytes(self.second.key))))
        both = hex_bytes(one["signature"]) + hex_bytes(two["signature"])
        return {**one, "signature": to_hex(both)}, one


def two_key_wallet(chain: ChainClient) -> TwoKeyWallet:
    first, second = Account.create(), Account.create()
    address = chain.deploy("TwoKeyWallet", first.address, second.address).address
    return TwoKeyWallet(address, first, second)


def accept_all_wallet(chain: ChainClient) -> str:
    """A wallet that says yes to every hash and signature (it may only speak for itself)."""
    return str(chain.deploy("AcceptAllWallet").address)


def revoke_in_registry(chain: ChainClient, address: str) -> None:
    """Revoke ``address`` in ``OrganisationRegistry`` directly (the registrar's call)."""
    registry = OrganisationRegistryClient(
        chain, deployment_for(chain).address("OrganisationRegistry")
    )
    registry.revoke_key(address)
