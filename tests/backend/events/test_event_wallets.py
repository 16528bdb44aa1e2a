"""Signed supply events from contract wallets (ERC-1271).

An event names its signer; a wallet registered as an organisation's key signs
through whatever its ``isValidSignature`` accepts (a 2-of-2 wallet's 130-byte
signature included), which is stored whole, anchored and proven: a third party
checks the proof against the chain, asking the wallet at the anchoring block.
One owner's half, a stranger's key, a wallet that answers yes to everything
speaking for another key, an owner key rotated out and a wallet revoked in the
registry are refused before anything is stored.
"""

from __future__ import annotations

from typing import Any

from eth_account import Account
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from backend.chain import ChainClient
from backend.events.models import SupplyEvent
from backend.qr.bundle.verify import Verdict, verify_proof
from tests.backend.factories import Org, domain_of, make_org, signed_event
from tests.backend.qr.third_party import rpc_of, trust_of
from tests.backend.wallets import (
    WalletKey,
    accept_all_wallet,
    as_signer,
    owned_wallet,
    register_key,
    revoke_in_registry,
    rotate_owner,
    two_key_wallet,
)
from tests.context import context, workers


def _settle(api: TestClient) -> None:
    workers(api).relay.relayer.drive()
    workers(api).indexer.step()


def _stored(api: TestClient) -> int:
    with context(api).sessions() as session:
        return int(session.scalar(select(func.count()).select_from(SupplyEvent)) or 0)


def _refused(api: TestClient, org: Org, body: dict[str, Any], status: int, says: str) -> None:
    before = _stored(api)
    resp = api.post("/v1/events", json=body, headers=org.writer)
    assert resp.status_code == status, resp.text
    assert says in resp.json()["detail"], resp.text
    assert _stored(api) == before


def test_two_key_wallet_event_is_stored_whole_anchored_and_proven_at_the_anchoring_block(
    api: TestClient, tester: ChainClient
) -> None:
    acme = make_org(api, "acme")
    wallet = two_key_wallet(tester)
    register_key(api, lambda: _settle(api), acme, wallet.address)
    first = as_signer(WalletKey(wallet.address, bytes(wallet.first.key)))
    body = signed_event(domain_of(api), first, also=(wallet.second,), named=True)
    assert len(body["signature"]) == 2 + 2 * 130
    # One key's half is not the wallet's signature; unnamed, a wallet's signature has no signer.
    half = {**body, "signature": body["signature"][: 2 + 130]}
    _refused(api, acme, half, 422, f"contract wallet {wallet.address} does not accept it")
    unnamed = {k: v for k, v in body.items() if k != "signer"}
    _refused(api, acme, unnamed, 422, "a contract wallet's signature needs the signer named")

    resp = api.post("/v1/events", json=body, headers=acme.writer)
    assert resp.status_code == 202, resp.text
    assert resp.json()["signer"] == wallet.address
    (listed,) = api.get("/v1/events", headers=acme.writer).json()
    assert (listed["signer"], listed["signature"]) == (wallet.address, body["signature"])

    workers(api).anchor.run_until_idle()
    workers(api).indexer.step()
    proof = api.get(f"/v1/proofs/{body['eventId']}").json()
    assert proof["event"]["signature"] == body["signature"]
    report = verify_proof(proof, rpc_of(tester), trust_of(tester))
    assert report.verdict is Verdict.VALID, report.failures()
    (signed,) = [c for c in report.checks if c.id == "event.signature"]
    block = proof["anchor"]["block_number"]
    assert f"ERC-1271 isValidSignature at block {block}" in signed.detail
    # Altered, the wallet's signature is refused by the wallet itself.
    proof["event"]["signature"] = body["signature"][:-2] + "00"
    report = verify_proof(proof, rpc_of(tester), trust_of(tester))
    assert report.verdict is Verdict.INVALID
    assert {c.id for c in report.failures()} == {"event.signature"}


def test_wallet_event_by_a_stranger_rotated_out_owner_or_revoked_wallet_is_refused(
    api: TestClient, tester: ChainClient
) -> None:
    acme = make_org(api, "acme")
    wallet = owned_wallet(tester)
    register_key(api, lambda: _settle(api), acme, wallet.address)
    dom = domain_of(api)
    stranger = Account.create()
    forged = signed_event(dom, wallet.signed_by(stranger), named=True)
    _refused(api, acme, forged, 422, f"signature is not signer {wallet.address}'s")
    rotated = rotate_owner(tester, wallet)
    stale = signed_event(dom, wallet.signer, named=True)
    _refused(api, acme, stale, 422, "does not accept it")
    fresh = signed_event(dom, rotated.signer, named=True)
    assert api.post("/v1/events", json=fresh, headers=acme.writer).status_code == 202
    revoke_in_registry(tester, wallet.address)
    _settle(api)
    again = signed_event(dom, rotated.signer, named=True)
    _refused(api, acme, again, 403, wallet.address)


def test_wallet_that_accepts_everything_speaks_only_for_itself(
    api: TestClient, tester: ChainClient
) -> None:
    acme = make_org(api, "acme")
    mallory = make_org(api, "mallory")
    yes = accept_all_wallet(tester)
    register_key(api, lambda: _settle(api), mallory, yes)
    dom = domain_of(api)
    junk = bytes(mallory.signer.key)
    # Named as acme's plain key, its "signature" is only mallory's key's.
    claimed = signed_event(dom, as_signer(WalletKey(acme.signer.address, junk)), named=True)
    _refused(api, acme, claimed, 422, f"it was made by {mallory.signer.address}")
    _refused(api, mallory, claimed, 422, f"it was made by {mallory.signer.address}")
    # Speaking for itself it is mallory's key, and no key of acme's.
    itself = signed_event(dom, as_signer(WalletKey(yes, junk)), named=True)
    _refused(api, acme, itself, 403, f"{yes} is not a signer key of this organisation")
    resp = api.post("/v1/events", json=itself, headers=mallory.writer)
    assert resp.status_code == 202, resp.text
    assert resp.json()["signer"] == yes


def test_owner_rotated_out_after_the_anchoring_does_not_unmake_the_proof(
    api: TestClient, tester: ChainClient
) -> None:
    """The proof asks the wallet at the anchoring block (eth-tester keeps every state):
    what its owner then signed stays proven after the wallet changes hands."""
    acme = make_org(api, "acme")
    wallet = owned_wallet(tester)
    register_key(api, lambda: _settle(api), acme, wallet.address)
    body = signed_event(domain_of(api), wallet.signer, named=True)
    assert api.post("/v1/events", json=body, headers=acme.writer).status_code == 202
    workers(api).anchor.run_until_idle()
    workers(api).indexer.step()
    rotate_owner(tester, wallet)
    proof = api.get(f"/v1/proofs/{body['eventId']}").json()
    report = verify_proof(proof, rpc_of(tester), trust_of(tester))
    assert report.verdict is Verdict.VALID, report.failures()
    (signed,) = [c for c in report.checks if c.id == "event.signature"]
    assert f"at block {proof['anchor']['block_number']}" in signed.detail
    # The same signature is no longer the wallet's at the head.
    unanchored = {**proof, "anchor": None}
    report = verify_proof(unanchored, rpc_of(tester), trust_of(tester))
    (signed,) = [c for c in report.checks if c.id == "event.signature"]
    assert not signed.ok
    assert (
        "does not accept it (0xffffffff) (ERC-1271 isValidSignature at the head)" in signed.detail
    )
