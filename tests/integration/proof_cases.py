"""The proof cases of issue 14, built on a private anvil node, for every verifier to run.

The eight of the issue, plus a delegate's event with the brand's signed grant
(VALID) and with a grant the delegate signed itself (INVALID), and a carrier's
event on the brand's shipment with its milestones (VALID), with a milestone the
registry never recorded (INVALID) and on a stranger's shipment (INVALID); and
contract wallets (ERC-1271) as the brand's keys: a 2-of-2 wallet's event (VALID),
the same with one key's half (INVALID), and a wallet that accepts everything
claiming the brand's key (INVALID) or speaking for itself (INVALID); and the open
anchor registry: events signed by the brand's key but anchored by a stranger, with
the bundle naming the pinned anchorer (INVALID: the pinned anchorer never anchored
that root) or the stranger (INVALID at the trust checks). The node is pruned
(``anvil --prune-history``), so the wallets are asked at the head.

``proof_cases`` (module fixture, see ``tests/integration/conftest.py``) yields
:class:`ProofCase` objects: a bundle, the trust manifest to check it with, the
node's URL, the verdict a correct verifier gives and the check ids that must
fail (docs/qr.md, "Checks"). A verifier is plugged in as a :data:`Runner`: a
function ``(bundle, manifest, rpc_url) -> {"verdict": ..., "checks": [...]}``;
``tests/integration/test_proof_cases.py`` runs the Python one, and the static
page's runner can be parametrised over the same cases.

Everything is real: contracts deployed on anvil, organisations, keys and GS1
prefixes registered in OrganisationRegistry, passports issued, amended and
recalled in ProductPassportRegistry, EIP-712 signed events anchored as Merkle
roots in AnchorRegistry, a second contract set deployed by a forger, and a
reorg made with ``evm_snapshot`` / ``evm_revert`` (the anvil reorg drill of
``tests/integration/test_anchoring_anvil.py``).
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_hash.auto import keccak

from backend.anchoring import merkle
from backend.chain import AnchorRegistryClient, ChainClient, eip712
from backend.chain.deployments import Deployment, deploy_all
from backend.chain.organisations import (
    KeyGrant,
    OrganisationInput,
    OrganisationRegistryClient,
    Role,
    org_id_for,
)
from backend.chain.passports import PassportContent, PassportRegistryClient
from backend.chain.shipments import ShipmentRegistryClient
from backend.chain.typed_data.events import (
    SUBJECT_DELEGATION,
    SUPPLY_EVENT,
    events_domain,
    location_bytes,
)
from backend.chain.typed_data.shipments import MilestoneType
from backend.gs1.keys import key as gs1_key
from backend.passports.canonical import document_hash
from backend.paths import PROJECT_ROOT
from backend.qr.bundle.verify import BUNDLE_FORMAT, PINNED, VERIFICATION_STEPS
from tests.backend.wallets import (
    WalletKey,
    accept_all_wallet,
    as_signer,
    two_key_wallet,
)
from tests.contracts.shipment_factory import Parties, ShipmentDriver

SAMPLE = PROJECT_ROOT / "backend" / "passports" / "samples" / "bamboo_tableware.json"
GTIN = "08936045870013"
PREFIX = "8936045"
BRAND = "Lang Tre Homeware JSC"

#: Every case ``build_cases`` returns, by name (for ``pytest.mark.parametrize``).
CASE_NAMES = (
    "genuine",
    "forger_registry",
    "forged_document",
    "recalled",
    "superseded",
    "unauthorised_org",
    "revoked_key",
    "reorged_root",
    "delegated",
    "forged_delegation",
    "shipment_party",
    "forged_milestone",
    "stranger_shipment",
    "wallet",
    "wallet_half_signed",
    "accept_all_as_brand_key",
    "accept_all_as_itself",
    "stranger_anchor",
    "stranger_anchorer_claimed",
)

Runner = Callable[[dict[str, Any], dict[str, Any], str], dict[str, Any]]


@dataclass(frozen=True)
class ProofCase:
    name: str
    bundle: dict[str, Any]
    manifest: dict[str, Any]
    rpc_url: str
    verdict: str
    failing: frozenset[str] = field(default_factory=frozenset)
    #: Words every expected failing check's detail must name (an address), if any.
    names: str | None = None

    def check(self, result: dict[str, Any]) -> None:
        """Assert a runner's ``result`` is this case's verdict, failing the expected checks."""
        failed = {c["id"] for c in result["checks"] if not c["ok"]}
        assert result["verdict"] == self.verdict, (self.name, result)
        assert self.failing <= failed, (self.name, self.failing, failed, result)
        if self.verdict == "VALID":
            assert not failed, (self.name, result)
        if self.names is not None:
            for check in result["checks"]:
                if not check["ok"] and check["id"] in self.failing:
                    assert self.names.lower() in check["detail"].lower(), (self.name, check)


class CaseBuilder:
    """One deployment with a brand, its passports and signed, anchored events."""

    def __init__(self, chain: ChainClient, deployment: Deployment, rpc_url: str) -> None:
        self.chain = chain
        self.dep = deployment
        self.rpc_url = rpc_url
        self.orgs = OrganisationRegistryClient(chain, deployment.address("OrganisationRegistry"))
        self.passports = PassportRegistryClient(
            chain, deployment.address("ProductPassportRegistry")
        )
        self.anchors = AnchorRegistryClient(chain, deployment.address("AnchorRegistry"))
        self.domain = events_domain(chain.chain_id, self.anchors.address)

    @property
    def manifest(self) -> dict[str, Any]:
        return json.loads(json.dumps(self.dep.to_json()))  # type: ignore[no-any-return]

    def register(self, slug: str, name: str, prefixes: tuple[str, ...], roles: Role) -> bytes:
        org = org_id_for(slug)
        self.orgs.register(org, OrganisationInput(name, "VN", "", roles), None, prefixes)
        return org

    def add_key(self, org: bytes, roles: Role = Role.ISSUER) -> LocalAccount:
        account: LocalAccount = Account.create()
        grant = KeyGrant(org, account.address, roles)
        self.orgs.add_key(grant, self.orgs.sign_key_consent(account.key, grant))
        return account

    def add_wallet(
        self, org: bytes, wallet: str, *owners: LocalAccount, roles: Role = Role.ISSUER
    ) -> None:
        """Add contract wallet ``wallet`` as a key, its consent signed by all its ``owners``."""
        grant = KeyGrant(org, wallet, roles)
        consent = b"".join(self.orgs.sign_key_consent(o.key, grant) for o in owners)
        self.orgs.add_key(grant, consent or b"\x00" * 65)

    def issue(self, lot: str, *, carbon: int = 1) -> tuple[str, dict[str, Any]]:
        document = json.loads(SAMPLE.read_text())
        document["identity"]["lot"] = lot
        path = gs1_key(GTIN, lot, None).path
        self.passports.issue(
            path,
            PassportContent(
                document_hash(document), "https://example.org/p.json", "VN", 0, carbon, 1
            ),
        )
        return path, document

    def event(
        self, signer: LocalAccount, path: str, kind: int = 3, *, also: tuple[LocalAccount, ...] = ()
    ) -> dict[str, Any]:
        """An event ``signer`` signed (``also``: further keys whose signatures follow, as a
        multi-key wallet's signature is its keys' signatures one after another)."""
        message = {
            "eventId": os.urandom(32),
            "subject": keccak(path.encode()),
            "kind": kind,
            "occurredAt": 1_763_769_600 + kind,
            "location": location_bytes("VNHPH"),
            "payloadHash": keccak(b"payload %d" % kind),
        }
        digest = eip712.digest(self.domain, SUPPLY_EVENT, message)
        return {
            "digest": "0x" + digest.hex(),
            "signer": signer.address,
            "signature": "0x"
            + b"".join(
                eip712.sign(k.key, self.domain, SUPPLY_EVENT, message) for k in (signer, *also)
            ).hex(),
            "typed_data": eip712.typed_data_payload(self.domain, SUPPLY_EVENT, message),
            "authorisation": {"basis": "issuer"},
        }

    def delegation(
        self, signer: LocalAccount, issuer: str, path: str, delegate: str
    ) -> dict[str, Any]:
        """A ``SubjectDelegation`` for one passport, signed by ``signer`` in the events domain."""
        message = {
            "issuer": issuer,
            "subject": keccak(path.encode()),
            "delegate": delegate,
            "salt": os.urandom(32),
        }
        return {
            "typed_data": eip712.typed_data_payload(self.domain, SUBJECT_DELEGATION, message),
            "signature": "0x"
            + eip712.sign(signer.key, self.domain, SUBJECT_DELEGATION, message).hex(),
        }

    def shipment(
        self, seller: LocalAccount, carrier: LocalAccount, label: str
    ) -> tuple[str, list[dict[str, Any]]]:
        """A shipment ``seller`` created, picked up by ``carrier`` and cleared for export."""
        registry = ShipmentRegistryClient(self.chain, self.dep.address("ShipmentRegistry"))
        driver = ShipmentDriver(registry, Parties(seller=seller, carrier_a=carrier))
        sid = driver.create(label)
        milestones = []
        for kind, tx in (
            (
                MilestoneType.PICKED_UP,
                driver.transfer(sid, MilestoneType.PICKED_UP, seller, carrier),
            ),
            (
                MilestoneType.EXPORT_CLEARED,
                driver.record(sid, MilestoneType.EXPORT_CLEARED, driver.parties.broker),
            ),
        ):
            logged = tx.event("MilestoneRecorded").args
            milestones.append(
                {
                    "shipment_id": "0x" + sid.hex(),
                    "milestone": kind.name,
                    "record_hash": "0x" + bytes(logged["recordHash"]).hex(),
                    "signer": logged["signer"],
                    "tx_hash": tx.tx_hash,
                    "block_number": tx.block_number,
                }
            )
        return "0x" + sid.hex(), milestones

    def anchor(self, events: list[dict[str, Any]]) -> None:
        """Anchor the events as one Merkle batch and fill in their proofs."""
        leaves = [merkle.leaf_hash(bytes.fromhex(e["digest"][2:])) for e in events]
        tree = merkle.build(leaves)
        tx = self.anchors.anchor_root(tree.root, len(events))
        for event, leaf in zip(events, leaves, strict=True):
            event["leaf"] = "0x" + leaf.hex()
            event["proof"] = ["0x" + p.hex() for p in tree.proof(leaf)]
            event["root"] = "0x" + tree.root.hex()
            event["anchor"] = {"tx_hash": tx.tx_hash, "block_number": tx.block_number}

    def bundle(
        self,
        path: str,
        document: dict[str, Any],
        issuer: str,
        events: list[dict[str, Any]],
        *,
        version: int = 1,
    ) -> dict[str, Any]:
        return {
            "format": BUNDLE_FORMAT,
            "chain_id": self.chain.chain_id,
            "contracts": {n: self.dep.address(n) for n in PINNED},
            "anchorer": self.dep.anchor_account,
            "subject": {"gs1_path": path, "passport_id": "0x" + keccak(path.encode()).hex()},
            "passport": {
                "version": version,
                "issuer": issuer,
                "document": document,
                "canonical_hash": "0x" + document_hash(document).hex(),
            },
            "delegations": [],
            "events": copy.deepcopy(events),
            "milestones": [],
            "verification": {"steps": list(VERIFICATION_STEPS)},
        }


def build_cases(chain: ChainClient, rpc_url: str) -> list[ProofCase]:
    """Deploy, issue, sign and anchor everything the eight cases need; return them."""
    genuine = CaseBuilder(chain, deploy_all(chain), rpc_url)
    manifest = genuine.manifest
    brand = genuine.register("case-brand", BRAND, (PREFIX,), Role.ISSUER)
    issuer = genuine.add_key(brand)
    stranger_org = genuine.register("case-stranger", "Stranger Trading Ltd", (), Role.CARRIER)
    stranger = genuine.add_key(stranger_org, Role.CARRIER)
    short_lived = genuine.add_key(brand)

    brand_chain = chain.with_account(issuer)
    chain.send_value(issuer.address, 10**18)
    as_brand = CaseBuilder(brand_chain, genuine.dep, rpc_url)

    # genuine: a passport and two events signed by the brand's key
    path, document = as_brand.issue("CASE-OK")
    ok_events = [genuine.event(issuer, path, 0), genuine.event(issuer, path, 3)]
    genuine.anchor(ok_events)
    ok = genuine.bundle(path, document, issuer.address, ok_events)

    # superseded: version 1 of a passport now at version 2
    s_path, s_doc = as_brand.issue("CASE-SUPERSEDED")
    amended = {**s_doc, "notes": "amended"}
    as_brand.passports.amend(
        keccak(s_path.encode()),
        1,
        PassportContent(document_hash(amended), "https://example.org/p2.json", "VN", 0, 2, 1),
    )
    superseded = genuine.bundle(s_path, s_doc, issuer.address, [])

    # recalled
    r_path, r_doc = as_brand.issue("CASE-RECALLED")
    as_brand.passports.recall(keccak(r_path.encode()), 2, "bamboo fibres shed into food")
    recalled = genuine.bundle(r_path, r_doc, issuer.address, [])

    # forged document: the bundle's document and its own hash changed, the chain's not
    forged_doc = copy.deepcopy(document)
    forged_doc["identity"]["product_name"] = "Bamboo tableware, certified organic"
    forged = genuine.bundle(path, forged_doc, issuer.address, ok_events)

    # unauthorised organisation: a stranger's event about the passport, anchored by the
    # operator (as events about a not-yet-issued passport id are), claiming issuer basis
    squat = [genuine.event(stranger, path, 5)]
    genuine.anchor(squat)
    unauthorised = genuine.bundle(path, document, issuer.address, squat)

    # a brand key revoked before the block its event's batch was anchored in
    late = [genuine.event(short_lived, path, 7)]
    genuine.orgs.revoke_key(short_lived.address)
    genuine.anchor(late)
    revoked_key = genuine.bundle(path, document, issuer.address, late)

    # a forger's own contract set on the same chain: same brand name and prefix, the same
    # passport path with the forged document, its own anchored events
    forger = CaseBuilder(chain, deploy_all(chain), rpc_url)
    f_brand = forger.register("case-brand", BRAND, (PREFIX,), Role.ISSUER)
    f_issuer = forger.add_key(f_brand)
    chain.send_value(f_issuer.address, 10**18)
    as_forger = CaseBuilder(chain.with_account(f_issuer), forger.dep, rpc_url)
    as_forger.passports.issue(
        path,
        PassportContent(document_hash(forged_doc), "https://example.org/f.json", "VN", 0, 1, 1),
    )
    f_events = [forger.event(f_issuer, path, 0)]
    forger.anchor(f_events)
    foreign = forger.bundle(path, forged_doc, f_issuer.address, f_events)

    # a delegate: the brand's key signed a SubjectDelegation naming the delegate's slug
    delegate_org = genuine.register("case-delegate", "Delegate Packing Co", (), Role.CARRIER)
    packer = genuine.add_key(delegate_org, Role.CARRIER)
    by_delegate = [genuine.event(packer, path, 4)]
    by_delegate[0]["authorisation"] = {"basis": "delegate", "delegation": 0}
    genuine.anchor(by_delegate)
    delegated = genuine.bundle(path, document, issuer.address, by_delegate)
    delegated["delegations"] = [genuine.delegation(issuer, issuer.address, path, "case-delegate")]
    # the same event, with a "delegation" the delegate granted itself
    self_granted = genuine.bundle(path, document, issuer.address, by_delegate)
    self_granted["delegations"] = [
        genuine.delegation(packer, packer.address, path, "case-delegate")
    ]

    # a carrier of the brand's own shipment speaks for the passport as a shipment party
    carrier_org = genuine.register("case-carrier", "Case Carrier Lines", (), Role.CARRIER)
    carrier = genuine.add_key(carrier_org, Role.CARRIER)
    sid, milestones = genuine.shipment(issuer, carrier, "case-ship")
    carried = [genuine.event(carrier, path, 6)]
    carried[0]["authorisation"] = {"basis": "shipment_party", "shipment_id": sid}
    genuine.anchor(carried)
    by_carrier = genuine.bundle(path, document, issuer.address, carried)
    by_carrier["milestones"] = milestones
    # the same bundle with a milestone the registry never recorded
    forged_milestone = copy.deepcopy(by_carrier)
    forged_milestone["milestones"][1]["record_hash"] = "0x" + "77" * 32
    # a carrier of a stranger's shipment claims to speak for the brand's passport
    s_sid, _ = genuine.shipment(stranger, carrier, "case-stranger-ship")
    hired = [genuine.event(carrier, path, 8)]
    hired[0]["authorisation"] = {"basis": "shipment_party", "shipment_id": s_sid}
    genuine.anchor(hired)
    stranger_shipment = genuine.bundle(path, document, issuer.address, hired)

    # contract wallets (ERC-1271) as the brand's keys, judged at the anchoring block:
    # a 2-of-2 wallet's 130-byte signature, and the same with one key's half only
    pair = two_key_wallet(chain)
    genuine.add_wallet(brand, pair.address, pair.first, pair.second)
    first = as_signer(WalletKey(pair.address, bytes(pair.first.key)))
    jointly = [genuine.event(first, path, 10, also=(pair.second,))]
    genuine.anchor(jointly)
    by_wallet = genuine.bundle(path, document, issuer.address, jointly)
    half_signed = copy.deepcopy(by_wallet)
    half_signed["events"][0]["signature"] = jointly[0]["signature"][: 2 + 130]
    # a wallet that accepts everything, a stranger's key: it cannot sign as the brand's
    # key, and what it signs as itself is only a stranger's event
    yes = accept_all_wallet(chain)
    genuine.add_wallet(stranger_org, yes, roles=Role.CARRIER)
    junk = bytes(stranger.key)
    as_brand_key = [genuine.event(as_signer(WalletKey(issuer.address, junk)), path, 12)]
    as_itself = [genuine.event(as_signer(WalletKey(yes, junk)), path, 13)]
    genuine.anchor([*as_brand_key, *as_itself])
    yes_as_brand = genuine.bundle(path, document, issuer.address, as_brand_key)
    yes_as_itself = genuine.bundle(path, document, issuer.address, as_itself)

    # the open registry: a stranger anchors a root of events the brand's key signed but
    # the operator never anchored; the bundle names the pinned anchorer, or the stranger
    outsider: LocalAccount = Account.create()
    chain.send_value(outsider.address, 10**18)
    as_outsider = CaseBuilder(chain.with_account(outsider), genuine.dep, rpc_url)
    unvouched = [genuine.event(issuer, path, 14)]
    as_outsider.anchor(unvouched)
    stranger_anchor = genuine.bundle(path, document, issuer.address, unvouched)
    claimed = {**genuine.bundle(path, document, issuer.address, unvouched)}
    claimed["anchorer"] = outsider.address

    # reorg: a batch anchored on a fork that lost (snapshot, anchor, revert, mine past it)
    snap = chain.snapshot()
    orphan_events = [genuine.event(issuer, path, 9)]
    genuine.anchor(orphan_events)
    orphaned = genuine.bundle(path, document, issuer.address, orphan_events)
    chain.revert(snap)
    chain.mine(3)

    def case(
        name: str, bundle: dict[str, Any], verdict: str, *failing: str, names: str | None = None
    ) -> ProofCase:
        return ProofCase(name, bundle, manifest, rpc_url, verdict, frozenset(failing), names)

    return [
        case("genuine", ok, "VALID"),
        case("forger_registry", foreign, "INVALID", "trust.contracts"),
        case("forged_document", forged, "INVALID", "passport.on_chain_hash"),
        case("recalled", recalled, "RECALLED", "passport.status"),
        case("superseded", superseded, "SUPERSEDED", "passport.current_version"),
        case("unauthorised_org", unauthorised, "INVALID", "event.authorised"),
        case("revoked_key", revoked_key, "INVALID", "event.signer_key"),
        case("reorged_root", orphaned, "INVALID", "event.anchored"),
        case("delegated", delegated, "VALID"),
        case("forged_delegation", self_granted, "INVALID", "event.authorised"),
        case("shipment_party", by_carrier, "VALID"),
        case("forged_milestone", forged_milestone, "INVALID", "milestone.recorded"),
        case("stranger_shipment", stranger_shipment, "INVALID", "event.authorised"),
        case("wallet", by_wallet, "VALID"),
        case("wallet_half_signed", half_signed, "INVALID", "event.signature"),
        case("accept_all_as_brand_key", yes_as_brand, "INVALID", "event.signature"),
        case("accept_all_as_itself", yes_as_itself, "INVALID", "event.authorised"),
        case(
            "stranger_anchor",
            stranger_anchor,
            "INVALID",
            "event.anchored",
            names=genuine.dep.anchor_account,
        ),
        case(
            "stranger_anchorer_claimed",
            claimed,
            "INVALID",
            "trust.anchorer",
            names=outsider.address,
        ),
    ]
