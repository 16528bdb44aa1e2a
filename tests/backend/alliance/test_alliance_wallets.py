"""Contract wallets (ERC-1271) as alliance members: registration proof and usage co-signature.

A wallet proves control of its address with whatever its ``isValidSignature``
accepts (a 2-of-2 wallet's 130-byte signature included) and co-signs its usage
report the same way; one owner's half, a stranger's key, a wallet that answers yes
to everything speaking for another address and an owner key rotated out are
refused before anything is stored or queued.
"""

from __future__ import annotations

from typing import Any

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount
from fastapi.testclient import TestClient

from backend.alliance.members import member_proof_text
from backend.chain import ChainClient
from backend.chain.alliance import UsageStatus
from tests.backend.alliance.support import (
    Member,
    action_done,
    deployment_of,
    pool_client,
)
from tests.backend.factories import Org, make_org
from tests.backend.wallets import (
    WalletKey,
    accept_all_wallet,
    as_signer,
    owned_wallet,
    rotate_owner,
    two_key_wallet,
)
from tests.contracts.alliance_support import DAY


def _proof(signer: LocalAccount, slug: str) -> dict[str, Any]:
    text = member_proof_text(signer.address, slug)
    signature = Account.sign_message(encode_defunct(text=text), signer.key).signature
    return {"address": signer.address, "signature": "0x" + bytes(signature).hex()}


def _register(api: TestClient, org: Org, body: dict[str, Any], status: int = 201) -> str:
    resp = api.post("/v1/alliance/members", json=body, headers=org.admin)
    assert resp.status_code == status, resp.text
    return str(resp.json()["detail"]) if status != 201 else ""


def _members(api: TestClient, org: Org) -> list[str]:
    resp = api.get("/v1/alliance/members", headers=org.admin)
    return [m["address"] for m in resp.json()["items"]]


def test_wallet_registers_as_member_and_co_signs_its_usage_with_a_130_byte_signature(
    api: TestClient, tester: ChainClient, pool: dict[str, Any]
) -> None:
    org = make_org(api, "wallet-member", scopes=("seller",))
    wallet = two_key_wallet(tester)
    both, half = wallet.joint(lambda s: _proof(s, org.slug))
    says = _register(api, org, half, 422)
    assert f"contract wallet {wallet.address} does not accept it" in says
    _register(api, org, both)
    assert _members(api, org) == [wallet.address]

    # The factory reports the wallet's usage (none booked, none used); it co-signs gasless.
    dep = deployment_of(api)
    pid, per = pool["id"], pool["period"]
    factory: Member = pool["factory"]
    tester.advance_time(9 * DAY)
    pool_client(factory.chain, dep).report_usage(pid, per, {wallet.address: 0})
    client = pool_client(tester, dep)
    deadline = int(tester.block()["timestamp"]) + DAY
    usage = client.usage_message(pid, per, member=wallet.address, used_units=0, deadline=deadline)

    def cosign(signer: LocalAccount) -> dict[str, Any]:
        signature = client.sign_usage(signer.key, usage)
        return {
            "member": wallet.address,
            "used_units": 0,
            "deadline": deadline,
            "signature": "0x" + signature.hex(),
        }

    both, half = wallet.joint(cosign)
    path = f"/v1/alliance/pools/{pid}/periods/{per}/cosign"
    resp = api.post(path, json=half, headers=org.writer)
    assert resp.status_code == 422, resp.text
    assert "does not accept it" in resp.json()["detail"]
    assert client.booking(pid, per, wallet.address).status == UsageStatus.REPORTED
    action_done(api, api.post(path, json=both, headers=org.writer), org.writer)
    assert client.booking(pid, per, wallet.address).status == UsageStatus.CONFIRMED


def test_member_proof_by_a_stranger_a_rotated_out_owner_or_an_accept_all_wallet_is_refused(
    api: TestClient, tester: ChainClient
) -> None:
    org = make_org(api, "wallet-member", scopes=("seller",))
    wallet = owned_wallet(tester)
    stranger = Account.create()
    says = _register(api, org, _proof(wallet.signed_by(stranger), org.slug), 422)
    assert f"contract wallet {wallet.address} does not accept it" in says
    rotated = rotate_owner(tester, wallet)
    says = _register(api, org, _proof(wallet.signer, org.slug), 422)
    assert "does not accept it" in says
    # A wallet that accepts everything proves control of itself only.
    yes = accept_all_wallet(tester)
    victim = Account.create()
    junk = bytes(stranger.key)
    says = _register(api, org, _proof(as_signer(WalletKey(victim.address, junk)), org.slug), 422)
    assert f"it was made by {stranger.address}" in says
    assert _members(api, org) == []
    _register(api, org, _proof(as_signer(WalletKey(yes, junk)), org.slug))
    _register(api, org, _proof(rotated.signer, org.slug))
    assert sorted(_members(api, org)) == sorted([yes, wallet.address])
