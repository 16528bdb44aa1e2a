"""Contract wallets (ERC-1271) as passport issuers and certifiers.

The same rule as for shipments: a wallet registered as an organisation's key
issues, amends, recalls, revokes and attests through whatever its
``isValidSignature`` accepts (a 2-of-2 wallet's 130-byte signature included);
one owner's half, a stranger's key, a wallet that answers yes to everything
speaking for another address, an owner key rotated out and a wallet revoked in
the registry are refused before anything is queued.
"""

from __future__ import annotations

from eth_account import Account
from sqlalchemy import func, select

from backend.chain.passports import PassportRegistryClient, claim_type
from backend.common.types import to_hex
from backend.relayer.models import RelayRequest
from tests.backend.factories import Org
from tests.backend.passports.api_factories import (
    amend_body,
    attest_body,
    issue_body,
    revoke_attestation_body,
    sample_document,
    status_body,
)
from tests.backend.passports.conftest import Orgs
from tests.backend.shipments.factories import Service, post
from tests.backend.wallets import (
    OwnedWallet,
    TwoKeyWallet,
    WalletKey,
    accept_all_wallet,
    as_signer,
    owned_wallet,
    register_key,
    revoke_in_registry,
    rotate_owner,
    two_key_wallet,
)
from tests.context import context

HOUR = 3600


def _two_key(svc: Service, org: Org) -> TwoKeyWallet:
    wallet = two_key_wallet(svc.chain)
    register_key(svc.api, svc.settle, org, wallet.address)
    return wallet


def _owned(svc: Service, org: Org) -> OwnedWallet:
    wallet = owned_wallet(svc.chain)
    register_key(svc.api, svc.settle, org, wallet.address)
    return wallet


def _queued(svc: Service) -> int:
    with context(svc.api).sessions() as session:
        return int(session.scalar(select(func.count()).select_from(RelayRequest)) or 0)


def _refused(svc: Service, path: str, body: dict, org: Org, status: int, says: str) -> None:
    before = _queued(svc)
    resp = svc.api.post(path, json=body, headers=org.writer)
    assert resp.status_code == status, resp.text
    assert says in resp.json()["detail"], resp.text
    assert _queued(svc) == before


def _final(svc: Service, path: str, body: dict, org: Org) -> dict:
    accepted = post(svc, path, body, org)
    svc.settle()
    assert svc.relay(accepted["relay_id"], org.writer)["status"] == "final"
    return dict(accepted)


def _view(svc: Service, pid: bytes) -> dict:
    resp = svc.api.get(f"/v1/passports/{to_hex(pid)}")
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


# -- what a wallet may do ---------------------------------------------------------------


def test_two_key_wallet_issues_amends_recalls_and_revokes_with_130_byte_signatures(
    svc: Service, reg: PassportRegistryClient, orgs: Orgs
) -> None:
    brand = orgs.brand
    wallet = _two_key(svc, brand)
    deadline = svc.now() + HOUR
    doc = sample_document()
    both, half = wallet.joint(lambda s: issue_body(reg, s, doc, deadline=deadline))
    assert len(both["signature"]) == 2 + 2 * 130
    not_its = f"contract wallet {wallet.address} does not accept it"
    _refused(svc, "/v1/passports", half, brand, 422, not_its)
    _final(svc, "/v1/passports", both, brand)
    pid = bytes.fromhex(str(both["passportId"])[2:])
    assert _view(svc, pid)["issuer"] == wallet.address
    # The credential's evidence carries the wallet's whole signature and the message it
    # signed (its nonce found through the wallet's ERC-1271 answer at the recording block).
    resp = svc.api.get(f"/v1/passports/{to_hex(pid)}/credential")
    assert resp.status_code == 200, resp.text
    signed = resp.json()["evidence"][0]["issuerSignature"]
    assert signed["signature"] == both["signature"]
    assert signed["typedData"]["message"]["nonce"] == both["nonce"]

    amended = sample_document(description="Bowl set, amended glaze data")
    both, half = wallet.joint(lambda s: amend_body(reg, s, amended, 1, deadline=deadline))
    versions = f"/v1/passports/{to_hex(pid)}/versions"
    _refused(svc, versions, half, brand, 422, not_its)
    _final(svc, versions, both, brand)
    assert _view(svc, pid)["version"] == 2

    for action, revoke in (("recall", False), ("revoke", True)):
        both, half = wallet.joint(
            lambda s, r=revoke: status_body(reg, s, pid, revoke=r, deadline=deadline)
        )
        path = f"/v1/passports/{to_hex(pid)}/{action}"
        _refused(svc, path, half, brand, 422, not_its)
        _final(svc, path, both, brand)
    assert _view(svc, pid)["status"] == "revoked"


def test_wallet_certifier_attests_and_withdraws_its_attestation(
    svc: Service, reg: PassportRegistryClient, orgs: Orgs
) -> None:
    body = issue_body(reg, orgs.brand.signer, sample_document(), deadline=svc.now() + HOUR)
    _final(svc, "/v1/passports", body, orgs.brand)
    pid = bytes.fromhex(str(body["passportId"])[2:])
    doc_hash = bytes.fromhex(str(body["content"]["documentHash"])[2:])
    certifier = _two_key(svc, orgs.certifier)
    now = svc.now()
    both, half = certifier.joint(
        lambda s: attest_body(
            reg, s, pid, doc_hash, claim_type("fsc"), valid_until=now + 10_000, deadline=now + HOUR
        )
    )
    path = f"/v1/passports/{to_hex(pid)}/attestations"
    _refused(svc, path, half, orgs.certifier, 422, "does not accept it")
    attestation = _final(svc, path, both, orgs.certifier)["subject"]
    (made,) = _view(svc, pid)["attestations"]
    assert (made["id"], made["certifier"], made["status"]) == (
        attestation,
        certifier.address,
        "valid",
    )
    aid = bytes.fromhex(attestation[2:])
    both, half = certifier.joint(
        lambda s: revoke_attestation_body(reg, s, aid, deadline=now + HOUR)
    )
    path = f"/v1/passports/attestations/{attestation}/revoke"
    _refused(svc, path, half, orgs.certifier, 422, "does not accept it")
    _final(svc, path, both, orgs.certifier)
    assert _view(svc, pid)["attestations"][0]["status"] == "revoked"


# -- attacks ------------------------------------------------------------------------------


def test_wallet_signature_its_owner_did_not_make_is_refused(
    svc: Service, reg: PassportRegistryClient, orgs: Orgs
) -> None:
    wallet = _owned(svc, orgs.brand)
    stranger = Account.create()
    forged = issue_body(
        reg, wallet.signed_by(stranger), sample_document(), deadline=svc.now() + HOUR
    )
    _refused(
        svc,
        "/v1/passports",
        forged,
        orgs.brand,
        422,
        f"signature is not issuer {wallet.address}'s: contract wallet",
    )


def test_wallet_that_accepts_everything_speaks_only_for_itself(
    svc: Service, reg: PassportRegistryClient, orgs: Orgs
) -> None:
    brand, mallory = orgs.brand, orgs.other
    yes = accept_all_wallet(svc.chain)
    register_key(svc.api, svc.settle, mallory, yes)
    wallet = _owned(svc, brand)
    deadline = svc.now() + HOUR
    # Mallory's wallet "signs" as the brand's plain key and as the brand's wallet.
    junk = bytes(mallory.signer.key)
    for claimed, says in (
        (brand.signer.address, f"it was made by {mallory.signer.address}"),
        (wallet.address, f"contract wallet {wallet.address} does not accept it"),
    ):
        body = issue_body(
            reg, as_signer(WalletKey(claimed, junk)), sample_document(), deadline=deadline
        )
        for org in (brand, mallory):
            _refused(svc, "/v1/passports", body, org, 422, says)
    # Speaking for itself it is only a key of an organisation that owns no prefix.
    itself = issue_body(reg, as_signer(WalletKey(yes, junk)), sample_document(), deadline=deadline)
    resp = svc.api.post("/v1/passports", json=itself, headers=mallory.writer)
    assert resp.status_code in (403, 409), resp.text
    resp = svc.api.post("/v1/passports", json=itself, headers=brand.writer)
    assert resp.status_code == 403, resp.text
    assert "is not a signer key of this organisation" in resp.json()["detail"]
    # Nor may it recall the brand's passport.
    body = issue_body(reg, brand.signer, sample_document(), deadline=deadline)
    _final(svc, "/v1/passports", body, brand)
    pid = bytes.fromhex(str(body["passportId"])[2:])
    recall = status_body(reg, as_signer(WalletKey(yes, junk)), pid, revoke=False, deadline=deadline)
    resp = svc.api.post(f"/v1/passports/{to_hex(pid)}/recall", json=recall, headers=mallory.writer)
    assert resp.status_code == 404, resp.text
    assert _view(svc, pid)["status"] == "active"


def test_owner_key_rotated_out_or_wallet_revoked_in_the_registry_is_refused(
    svc: Service, reg: PassportRegistryClient, orgs: Orgs
) -> None:
    brand = orgs.brand
    wallet = _owned(svc, brand)
    deadline = svc.now() + HOUR
    body = issue_body(reg, wallet.signer, sample_document(), deadline=deadline)
    _final(svc, "/v1/passports", body, brand)
    pid = bytes.fromhex(str(body["passportId"])[2:])
    rotated = rotate_owner(svc.chain, wallet)
    stale = status_body(reg, wallet.signer, pid, revoke=False, deadline=deadline)
    recall = f"/v1/passports/{to_hex(pid)}/recall"
    _refused(svc, recall, stale, brand, 422, "does not accept it")
    fresh = status_body(reg, rotated.signer, pid, revoke=False, deadline=deadline)
    revoke_in_registry(svc.chain, wallet.address)
    svc.settle()
    _refused(svc, recall, fresh, brand, 403, wallet.address)
    assert _view(svc, pid)["status"] == "active"
