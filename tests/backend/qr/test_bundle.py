"""verify_bundle checks a proof bundle against the chain alone (no database, no API)."""

from __future__ import annotations

import copy
import json
import os
from typing import Any

import pytest
from eth_account import Account
from eth_hash.auto import keccak

from backend.anchoring import merkle
from backend.chain import AnchorRegistryClient, ChainClient, eip712
from backend.chain.organisations import (
    KeyGrant,
    OrganisationInput,
    OrganisationRegistryClient,
    Role,
    org_id_for,
)
from backend.chain.passports import PassportContent, PassportRegistryClient
from backend.chain.typed_data.events import SUPPLY_EVENT, events_domain, location_bytes
from backend.gs1.keys import key as gs1_key
from backend.gs1.keys import passport_id
from backend.passports.canonical import document_hash
from backend.paths import PROJECT_ROOT
from backend.qr.bundle import BUNDLE_FORMAT, VERIFICATION_STEPS, verify_bundle
from tests.conftest import deployment_for

SAMPLE = PROJECT_ROOT / "backend" / "passports" / "samples" / "bamboo_tableware.json"


def _bundle(chain: ChainClient) -> dict[str, Any]:
    """Issue a passport and anchor three signed events about it, then write the bundle."""
    dep = deployment_for(chain)
    registry = PassportRegistryClient(chain, dep.address("ProductPassportRegistry"))
    anchors = AnchorRegistryClient(chain, dep.address("AnchorRegistry"))
    document = json.loads(SAMPLE.read_text())
    ident = document["identity"]
    pid = passport_id(ident["gtin"], ident.get("lot"), ident.get("serial"))
    if registry.passport(pid) is None:
        orgs = OrganisationRegistryClient(chain, dep.address("OrganisationRegistry"))
        brand = org_id_for("bundle-brand")
        orgs.register(
            brand, OrganisationInput("Bundle Brand", "VN", "", Role.ISSUER), None, ("8936045",)
        )
        orgs.add_key(KeyGrant(brand, chain.address, Role.ISSUER))
        registry.issue(
            gs1_key(ident["gtin"], ident.get("lot"), ident.get("serial")).path,
            PassportContent(document_hash(document), "https://example.org/p.json", "VN", 0, 1, 1),
        )
    signer = Account.create()
    domain = events_domain(chain.chain_id, anchors.address)
    events = []
    for kind in (0, 3, 5):
        message = {
            "eventId": os.urandom(32),
            "subject": pid,
            "kind": kind,
            "occurredAt": 1_763_769_600 + kind,
            "location": location_bytes("USLAX"),
            "payloadHash": keccak(b"payload %d" % kind),
        }
        digest = eip712.digest(domain, SUPPLY_EVENT, message)
        events.append((message, digest, eip712.sign(signer.key, domain, SUPPLY_EVENT, message)))
    tree = merkle.build([merkle.leaf_hash(d) for _, d, _ in events])
    tx = anchors.anchor_root(tree.root, len(events))
    return {
        "format": BUNDLE_FORMAT,
        "chain_id": chain.chain_id,
        "contracts": {
            "AnchorRegistry": anchors.address,
            "ProductPassportRegistry": registry.address,
        },
        "subject": {"passport_id": "0x" + pid.hex()},
        "passport": {
            "version": 1,
            "issuer": chain.address,
            "document": document,
            "canonical_hash": "0x" + document_hash(document).hex(),
        },
        "events": [
            {
                "digest": "0x" + d.hex(),
                "signer": signer.address,
                "signature": "0x" + sig.hex(),
                "typed_data": eip712.typed_data_payload(domain, SUPPLY_EVENT, m),
                "leaf": "0x" + merkle.leaf_hash(d).hex(),
                "proof": ["0x" + p.hex() for p in tree.proof(merkle.leaf_hash(d))],
                "root": "0x" + tree.root.hex(),
                "anchor": {"tx_hash": tx.tx_hash, "block_number": tx.block_number},
            }
            for m, d, sig in events
        ],
        "verification": {"steps": list(VERIFICATION_STEPS)},
    }


@pytest.fixture
def bundle(tester: ChainClient) -> dict[str, Any]:
    return _bundle(tester)


def test_bundle_verifies_against_the_chain(tester: ChainClient, bundle: dict[str, Any]) -> None:
    report = verify_bundle(bundle, rpc_of(tester))
    assert report.ok, report.failures()
    assert report.passport_status == "active"
    # chain id, document, version, issuer, then 5 checks per event
    assert len(report.checks) == 4 + 5 * 3


def test_bundle_verifies_on_anvil(anvil_chain: ChainClient) -> None:
    snap = anvil_chain.snapshot()
    try:
        report = verify_bundle(_bundle(anvil_chain), anvil_chain.rpc)
    finally:
        anvil_chain.revert(snap)
    assert report.ok, report.failures()


def rpc_of(chain: ChainClient) -> Any:
    """JSON-RPC as a third party would call it; eth-tester wants a sender on eth_call."""

    def call(method: str, params: list[Any]) -> Any:
        if method == "eth_call":
            params = [{"from": chain.address, **params[0]}, *params[1:]]
        return chain.rpc(method, params)

    return call


def _failed(report: Any) -> set[str]:
    return {c.name.split(": ")[-1] for c in report.failures()}


def test_altered_document_fails_both_hash_checks(
    tester: ChainClient, bundle: dict[str, Any]
) -> None:
    forged = copy.deepcopy(bundle)
    forged["passport"]["document"]["product"]["name"] = "Something else"
    assert _failed(verify_bundle(forged, rpc_of(tester))) == {
        "document hash",
        "passport version on chain",
    }
    # Recomputing the claimed hash does not help: the chain still holds the original.
    forged["passport"]["canonical_hash"] = (
        "0x" + document_hash(forged["passport"]["document"]).hex()
    )
    assert _failed(verify_bundle(forged, rpc_of(tester))) == {"passport version on chain"}


@pytest.mark.parametrize(
    ("mutate", "failed"),
    [
        (
            lambda e: e["typed_data"]["message"].update(kind=4),
            {"digest", "signature", "merkle proof", "AnchorRegistry.verify"},
        ),
        (lambda e: e.update(signer=Account.create().address), {"signature"}),
        (
            lambda e: (
                e["proof"].reverse() if len(e["proof"]) > 1 else e["proof"].append("0x" + "11" * 32)
            ),
            {"merkle proof", "AnchorRegistry.verify"},
        ),
        (
            lambda e: e.update(root="0x" + "22" * 32),
            {"merkle proof", "AnchorRegistry.verify", "anchor transaction"},
        ),
        (lambda e: e["anchor"].update(block_number=1), {"anchor transaction"}),
        (
            lambda e: e["typed_data"]["domain"].update(chainId=1),
            {"digest", "signature", "merkle proof", "AnchorRegistry.verify"},
        ),
    ],
    ids=["message", "signer", "proof", "root", "block", "domain"],
)
def test_tampered_event_fails_the_matching_check(
    tester: ChainClient, bundle: dict[str, Any], mutate: Any, failed: set[str]
) -> None:
    forged = copy.deepcopy(bundle)
    mutate(forged["events"][0])
    assert _failed(verify_bundle(forged, rpc_of(tester))) == failed


def test_bundle_for_another_chain_stops_at_the_chain_id(
    tester: ChainClient, bundle: dict[str, Any]
) -> None:
    report = verify_bundle({**bundle, "chain_id": 1}, rpc_of(tester))
    assert not report.ok
    assert [c.name for c in report.checks] == ["chain id"]
