"""Wallet sign-in (EIP-4361): every way to sign in as someone else is refused."""

from __future__ import annotations

import time
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from fastapi.testclient import TestClient

from backend.chain import OrganisationRegistryClient
from backend.common.types import hex_bytes
from backend.errors import Unauthenticated
from backend.fieldapp import service
from backend.fieldapp.service import Site
from tests.backend.factories import make_org
from tests.backend.shipments.factories import Service
from tests.context import context
from tests.helpers import BAD_ADDRESSES

ORIGIN = {"Origin": "http://testserver"}


def _message(api: TestClient, address: str, chain_id: int | None = None) -> str:
    chain = context(api).chain
    resp = api.post(
        "/app/api/sign-in/message",
        json={"address": address, "chainId": chain_id or chain.chain_id},
        headers=ORIGIN,
    )
    assert resp.status_code == 200, resp.text
    return str(resp.json()["message"])


def _sign(key: LocalAccount, text: str) -> str:
    return "0x" + key.sign_message(encode_defunct(text=text)).signature.hex()


def _sign_in(api: TestClient, text: str, signature: str) -> Any:
    return api.post(
        "/app/api/sign-in", json={"message": text, "signature": signature}, headers=ORIGIN
    )


def test_registered_key_signs_in_with_its_organisations_roles(svc: Service) -> None:
    acme = make_org(svc.api, "acme", name="Acme Freight")
    svc.settle()
    text = _message(svc.api, acme.signer.address)
    resp = _sign_in(svc.api, text, _sign(acme.signer, text))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["address"] == acme.signer.address
    assert body["org"] == "acme"
    assert "carrier" in body["roles"]
    cookie = resp.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Path=/app" in cookie
    assert svc.api.get("/app/api/me").json()["org_name"] == "Acme Freight"


def test_message_names_this_site_and_the_deployments_chain(svc: Service) -> None:
    text = _message(svc.api, Account.create().address)
    assert text.startswith("testserver wants you to sign in with your Ethereum account:\n")
    assert "\nURI: http://testserver/app\n" in text
    assert f"\nChain ID: {svc.chain.chain_id}\n" in text


@pytest.mark.parametrize(("address", "fault"), BAD_ADDRESSES, ids=[f for _, f in BAD_ADDRESSES])
def test_a_malformed_address_is_422_naming_it_and_the_fault(
    svc: Service, address: str, fault: str
) -> None:
    resp = svc.api.post(
        "/app/api/sign-in/message",
        json={"address": address, "chainId": svc.chain.chain_id},
        headers=ORIGIN,
    )
    assert resp.status_code == 422, resp.text
    reasons = {f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in resp.json()["errors"]}
    # The schema's length bound (42 characters) speaks first for an over-long one.
    said = (
        "String should have at most 42 characters"
        if len(address) > 42
        else f"Value error, address {fault}"
    )
    assert f"body.address: {said}" in reasons


def test_wallet_on_another_chain_is_told_to_switch_network(svc: Service) -> None:
    resp = svc.api.post(
        "/app/api/sign-in/message",
        json={"address": Account.create().address, "chainId": 1},
        headers=ORIGIN,
    )
    assert resp.status_code == 422
    assert "wrong network: the wallet is on chain 1" in resp.json()["detail"]


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        ("testserver wants", "evil.example wants", "not this site"),
        ("URI: http://testserver/app", "URI: http://evil.example/app", "not http://testserver"),
        ("Chain ID: ", "Chain ID: 1", "wrong network"),
        ("Nonce: ", "Nonce: ffff", "not issued by this service"),
        ("Issued At: 2", "Issued At: 1", "not issued by this service"),
    ],
)
def test_a_message_edited_after_issue_is_refused(
    svc: Service, old: str, new: str, reason: str
) -> None:
    acme = make_org(svc.api, "acme")
    svc.settle()
    text = _message(svc.api, acme.signer.address).replace(old, new, 1)
    resp = _sign_in(svc.api, text, _sign(acme.signer, text))
    assert resp.status_code == 401, resp.text
    assert reason in resp.json()["detail"]
    assert svc.api.get("/app/api/me").status_code == 401


def test_replayed_message_is_refused(svc: Service) -> None:
    acme = make_org(svc.api, "acme")
    svc.settle()
    text = _message(svc.api, acme.signer.address)
    signature = _sign(acme.signer, text)
    assert _sign_in(svc.api, text, signature).status_code == 200
    svc.api.cookies.clear()
    again = _sign_in(svc.api, text, signature)
    assert again.status_code == 401
    assert "already used" in again.json()["detail"]


def test_expired_message_is_refused(svc: Service) -> None:
    acme = make_org(svc.api, "acme")
    svc.settle()
    text = _message(svc.api, acme.signer.address)
    later = int(time.time()) + service.NONCE_TTL + 1
    with context(svc.api).sessions() as session, pytest.raises(Unauthenticated, match="expired"):
        service.sign_in(
            session=session,
            chain=svc.chain,
            site=Site.from_base_url("http://testserver"),
            chain_id=svc.chain.chain_id,
            text=text,
            signature=hex_bytes(_sign(acme.signer, text)),
            now=later,
        )


def test_another_keys_signature_is_refused(svc: Service) -> None:
    acme = make_org(svc.api, "acme")
    other = make_org(svc.api, "other")
    svc.settle()
    text = _message(svc.api, acme.signer.address)
    resp = _sign_in(svc.api, text, _sign(other.signer, text))
    assert resp.status_code == 401
    assert f"not {acme.signer.address}'s" in resp.json()["detail"]
    # Nor may the other key take a nonce issued for acme's key with its own address.
    swapped = text.replace(acme.signer.address, other.signer.address)
    resp = _sign_in(svc.api, swapped, _sign(other.signer, swapped))
    assert resp.status_code == 401
    assert "not issued by this service" in resp.json()["detail"]


def test_malformed_signature_is_refused_without_a_traceback(svc: Service) -> None:
    acme = make_org(svc.api, "acme")
    svc.settle()
    text = _message(svc.api, acme.signer.address)
    for signature in ("0x", "0x" + "00" * 65, "0x" + "ff" * 65, "0x1234"):
        resp = _sign_in(svc.api, text, signature)
        assert resp.status_code == 401, resp.text


def test_key_of_no_organisation_is_told_it_is_not_registered(svc: Service) -> None:
    stranger = Account.create()
    text = _message(svc.api, stranger.address)
    resp = _sign_in(svc.api, text, _sign(stranger, text))
    assert resp.status_code == 403
    assert resp.json()["detail"].startswith(f"key not registered: {stranger.address}")


def test_key_revoked_on_chain_ends_its_session(svc: Service) -> None:
    acme = make_org(svc.api, "acme")
    svc.settle()
    text = _message(svc.api, acme.signer.address)
    assert _sign_in(svc.api, text, _sign(acme.signer, text)).status_code == 200
    assert svc.api.get("/app/api/me").status_code == 200
    address = context(svc.api).loaded().deployment.address("OrganisationRegistry")
    OrganisationRegistryClient(svc.chain, address).revoke_key(acme.signer.address)
    svc.settle()
    assert svc.api.get("/app/api/me").status_code == 401


def test_forged_or_foreign_cookie_is_refused(svc: Service) -> None:
    acme = make_org(svc.api, "acme")
    svc.settle()
    forged = f"{acme.signer.address}.1~AAAAAA~AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    svc.api.cookies.set(service.SESSION_COOKIE, forged, path="/app")
    assert svc.api.get("/app/api/me").status_code == 401
    # A dashboard session cookie's signature does not open the app (its own salt).
    dashboard = context(svc.api).session_signer.sign(f"{acme.signer.address}.1").decode()
    svc.api.cookies.set(service.SESSION_COOKIE, dashboard, path="/app")
    assert svc.api.get("/app/api/me").status_code == 401


def test_cross_site_sign_in_is_refused(svc: Service) -> None:
    resp = svc.api.post(
        "/app/api/sign-in/message",
        json={"address": Account.create().address, "chainId": svc.chain.chain_id},
        headers={"Origin": "http://evil.example"},
    )
    assert resp.status_code == 403


# ------------------------------------------------------------------ ERC-1271


def test_contract_wallet_signs_in_through_erc1271_and_owner_rotation_revokes(
    svc: Service,
) -> None:
    owner = Account.from_key(keccak(text="app-wallet-owner"))
    wallet = svc.chain.deploy("OwnedSigningWallet", owner.address).address
    acme = make_org(svc.api, "acme")
    reg = svc.api.post("/v1/orgs/acme/signers", json={"address": wallet}, headers=acme.admin)
    assert reg.status_code == 201, reg.text
    svc.settle()
    text = _message(svc.api, wallet)
    foreign = _sign_in(svc.api, text, _sign(acme.signer, text))
    assert foreign.status_code == 401
    resp = _sign_in(svc.api, text, _sign(owner, text))
    assert resp.status_code == 200, resp.text
    assert resp.json()["address"] == wallet
    assert resp.json()["org"] == "acme"
    # The wallet's owner key changes: a message its old owner signed no longer counts.
    svc.api.cookies.clear()
    text = _message(svc.api, wallet)
    signed_before = _sign(owner, text)
    svc.chain.send_value(owner.address, 10**18)
    svc.chain.with_account(owner).transact(
        svc.chain.contract("OwnedSigningWallet", wallet), "setOwner", acme.signer.address
    )
    assert _sign_in(svc.api, text, signed_before).status_code == 401
