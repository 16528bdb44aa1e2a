"""Proof verification against a chain the caller names, with trust anchors the caller chose.

The one verifier in Python, used by ``waymark proof verify`` and by the tests
of the bundle endpoint (docs/qr.md, "Proof bundle", is the specification a
second, independent verifier implements too). Trust comes from outside the
bundle: a :class:`Trust` built from a deployment manifest gives the chain id,
the four registry addresses and the anchorer (the open ``AnchorRegistry`` keys
anchors by sender, so a root counts only as the pinned anchorer's), and every
address, anchorer or chain id the bundle states is only a claim compared with
them. Nothing here touches a database or the Waymark API, only
``rpc_call(method, params)``.

    CouldNotCheck          the bundle, the manifest or the node cannot be read
    └── NodeUnreachable    the JSON-RPC endpoint did not answer

``verify_bundle`` returns a :class:`Report` whose :attr:`Report.verdict` is one
of :class:`Verdict`; ``verify_proof`` checks a ``GET /v1/proofs/{ref}`` answer
with the same event checks.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from eth_abi import decode, encode
from eth_hash.auto import keccak
from eth_utils.abi import collapse_if_tuple

from backend.anchoring import merkle
from backend.chain.eip712 import Domain, SignatureInvalid, StructType, digest, recover
from backend.chain.errors import ChainUnavailable, ContractRevert
from backend.chain.organisations import ORG_ID_NAMESPACE
from backend.chain.typed_data.events import (
    DOMAIN_NAME,
    DOMAIN_VERSION,
    SUPPLY_EVENT,
    location_bytes,
)
from backend.common.types import hex_bytes, parse_address, parse_hex, parse_signature, to_hex
from backend.passports.canonical import document_hash

BUNDLE_FORMAT = "waymark-proof-bundle/3"
PINNED = ("AnchorRegistry", "ProductPassportRegistry", "ShipmentRegistry", "OrganisationRegistry")
ABI_DIR = Path(__file__).parent.parent / "abi"
PASSPORT_STATUSES = ("none", "active", "recalled", "revoked")
ZERO32 = bytes(32)

VERIFICATION_STEPS = (
    "Take the chain id, the registry addresses and the anchorer from a trust manifest you "
    "chose (deployments/<chainId>.json format), never from this bundle; chain_id, contracts "
    "and anchorer here must equal it.",
    "keccak256(subject.gs1_path) must equal subject.passport_id.",
    "keccak256(RFC 8785 JCS(passport.document)) must equal passport.canonical_hash and "
    "ProductPassportRegistry.versionOf(passport_id, passport.version).documentHash; "
    "passportOf(passport_id) must be at that version (else SUPERSEDED) and Active "
    "(else RECALLED / REVOKED), its issuer a key of the organisation owning the GTIN's "
    "prefix in OrganisationRegistry.",
    "Per event: the EIP-712 digest of typed_data in the pinned events domain, the "
    "signature, the Merkle proof to root, AnchorRegistry.verify(pinned anchorer, root, leaf, "
    "proof) true and the root's Anchored log by the pinned anchorer in anchor.tx_hash, in "
    "a canonical block with enough confirmations, the signer key active at that block, its "
    "organisation authorised for the passport.",
    "Per milestone: a MilestoneRecorded log with its record hash from the pinned "
    "ShipmentRegistry in a canonical block.",
)

RpcCall = Callable[[str, list[Any]], Any]
#: ``isValidSignature(bytes32,bytes)``, and the magic value a wallet answers to accept.
ERC1271_SELECTOR = keccak(b"isValidSignature(bytes32,bytes)")[:4]
EXECUTION_REVERTED = 3  # the JSON-RPC error code of a reverted eth_call


class CouldNotCheck(Exception):
    """The bundle, the trust manifest or the node could not be read: no verdict."""


class NodeUnreachable(CouldNotCheck):
    """The JSON-RPC endpoint did not answer."""


class RpcError(Exception):
    """The node answered a JSON-RPC error (a revert carries its ``data``)."""

    def __init__(self, code: int, message: str, data: str | None = None) -> None:
        super().__init__(f"{message} ({code})")
        self.code = code
        self.data = data


class Verdict(StrEnum):
    VALID = "VALID"
    INVALID = "INVALID"
    SUPERSEDED = "SUPERSEDED"
    RECALLED = "RECALLED"
    REVOKED = "REVOKED"
    UNCHECKED = "could not check"


#: ``waymark proof verify`` exit status per verdict (docs/qr.md).
EXIT_CODES = {
    Verdict.VALID: 0,
    Verdict.INVALID: 1,
    Verdict.UNCHECKED: 2,
    Verdict.SUPERSEDED: 3,
    Verdict.RECALLED: 4,
    Verdict.REVOKED: 5,
}
#: Checks whose failure gives a verdict of its own rather than INVALID.
SOFT_CHECKS = {"passport.current_version", "passport.status"}


@dataclass(frozen=True, slots=True)
class Trust:
    """The trust anchors: the chain id, the registry addresses and the anchorer whose
    anchors count (lower-case)."""

    chain_id: int
    contracts: dict[str, str]
    anchorer: str
    deploy_blocks: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_manifest(cls, manifest: Any) -> Trust:
        """From a deployment manifest (``deployments/<chainId>.json`` format)."""
        try:
            chain_id = int(manifest["chainId"])
            contracts = {
                name: parse_address(
                    manifest["contracts"][name]["address"], f"manifest {name}"
                ).lower()
                for name in PINNED
                if name in manifest["contracts"]
            }
            deploy_blocks = {
                name: int(manifest["contracts"][name].get("deploy_block") or 0)
                for name in contracts
            }
            anchorer = manifest.get("anchorer")
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise CouldNotCheck(f"trust manifest is not a deployment manifest: {exc}") from exc
        missing = [n for n in ("AnchorRegistry", "ProductPassportRegistry") if n not in contracts]
        if missing:
            raise CouldNotCheck(f"trust manifest names no {', '.join(missing)}")
        if anchorer is None:
            raise CouldNotCheck(
                "trust manifest names no anchorer (the account whose anchors count)"
            )
        try:
            pinned = parse_address(anchorer, "manifest anchorer").lower()
        except ValueError as exc:
            raise CouldNotCheck(f"trust manifest: {exc}") from exc
        return cls(chain_id, contracts, pinned, deploy_blocks)

    def address(self, name: str) -> str:
        try:
            return self.contracts[name]
        except KeyError as exc:
            raise CouldNotCheck(f"trust manifest names no {name}") from exc


@dataclass(frozen=True, slots=True)
class Check:
    id: str
    ok: bool
    detail: str = ""
    item: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "ok": self.ok, "item": self.item, "detail": self.detail}


@dataclass(slots=True)
class Report:
    """Every check performed and what the chain said about the passport."""

    checks: list[Check] = field(default_factory=list)
    passport_status: str | None = None
    current_version: int | None = None
    organisation: str | None = None
    problem: str | None = None  # set when the verdict is "could not check"

    @property
    def verdict(self) -> Verdict:
        if self.problem is not None or not self.checks:
            return Verdict.UNCHECKED
        failed = {c.id for c in self.failures()}
        if failed - SOFT_CHECKS:
            return Verdict.INVALID
        if "passport.status" in failed:
            return Verdict.REVOKED if self.passport_status == "revoked" else Verdict.RECALLED
        if "passport.current_version" in failed:
            return Verdict.SUPERSEDED
        return Verdict.VALID

    @property
    def ok(self) -> bool:
        return self.verdict is Verdict.VALID

    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    def add(self, check_id: str, ok: bool, detail: str = "", item: str | None = None) -> bool:
        self.checks.append(Check(check_id, bool(ok), detail, item))
        return bool(ok)

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.value,
            "checks": [c.to_json() for c in self.checks],
            "organisation": self.organisation,
            "passport_status": self.passport_status,
            "current_version": self.current_version,
            "problem": self.problem,
        }


# -- values ------------------------------------------------------------------------------


def _int(value: str | int) -> int:
    return value if isinstance(value, int) else int(value, 16)


def _addr(value: str | bytes) -> str:
    return value.lower() if isinstance(value, str) else to_hex(bytes(value))


# -- the chain, through the compiled ABIs ---------------------------------------------------


@cache
def abi(contract: str) -> list[dict[str, Any]]:
    """The compiled ABI of a pinned contract (``backend/qr/abi``, exported from the build)."""
    data: list[dict[str, Any]] = json.loads((ABI_DIR / f"{contract}.json").read_text())
    return data


def _item(contract: str, kind: str, name: str) -> dict[str, Any]:
    for item in abi(contract):
        if item.get("type") == kind and item.get("name") == name:
            return item
    raise LookupError(f"{contract} has no {kind} {name}")


def _signature(item: Mapping[str, Any]) -> str:
    return f"{item['name']}({','.join(collapse_if_tuple(i) for i in item['inputs'])})"


@cache
def selector(contract: str, fn: str) -> bytes:
    return keccak(_signature(_item(contract, "function", fn)).encode())[:4]


@cache
def topic(contract: str, event: str) -> bytes:
    return keccak(_signature(_item(contract, "event", event)).encode())


class Reverted(Exception):
    """An ``eth_call`` reverted."""


class Chain:
    """The pinned registries read through ``rpc_call``."""

    def __init__(self, rpc_call: RpcCall, trust: Trust) -> None:
        self.rpc = rpc_call
        self.trust = trust
        self._blocks: dict[int, Any] = {}

    def call(self, contract: str, fn: str, *args: Any) -> tuple[Any, ...]:
        item = _item(contract, "function", fn)
        ins = [collapse_if_tuple(i) for i in item["inputs"]]
        outs = [collapse_if_tuple(o) for o in item["outputs"]]
        data = selector(contract, fn) + encode(ins, list(args))
        to = self.trust.address(contract)
        try:
            raw = self.rpc("eth_call", [{"to": to, "data": to_hex(data)}, "latest"])
        except (RpcError, ContractRevert) as exc:
            raise Reverted(f"{contract}.{fn} reverted: {exc}") from exc
        if not hex_bytes(raw):
            raise Reverted(f"{contract}.{fn}: no code at {to}")
        return tuple(decode(outs, hex_bytes(raw)))

    def receipt(self, tx_hash: str) -> Any:
        try:
            return self.rpc("eth_getTransactionReceipt", [tx_hash])
        except (RpcError, ContractRevert):
            return None

    def canonical(self, receipt: Any) -> bool:
        """The receipt's block is the chain's block at that height now."""
        number = _int(receipt["blockNumber"])
        block = self._blocks.get(number)
        if block is None:
            block = self.rpc("eth_getBlockByNumber", [hex(number), False])
            self._blocks[number] = block
        return block is not None and hex_bytes(block["hash"]) == hex_bytes(receipt["blockHash"])

    def latest(self) -> int:
        return _int(self.rpc("eth_blockNumber", []))

    def wallet_accepts(
        self, wallet: str, digest_: bytes, signature: bytes, block: int | None
    ) -> tuple[str, str]:
        """(why contract ``wallet`` does not accept ``signature`` over ``digest_``, or "";
        where it was asked): ERC-1271 ``isValidSignature`` at ``block`` (the head when
        None), or at the head when the node keeps no state for ``block`` (a pruned node)."""
        if block is None:
            return self._wallet_answer(wallet, digest_, signature, "latest"), "at the head"
        try:
            why = self._wallet_answer(wallet, digest_, signature, hex(block))
        except RpcError as exc:
            where = f"at the head (the node keeps no state for block {block}: {exc})"
            return self._wallet_answer(wallet, digest_, signature, "latest"), where
        return why, f"at block {block}"

    def _wallet_answer(self, wallet: str, digest_: bytes, signature: bytes, at: str) -> str:
        if not hex_bytes(self.rpc("eth_getCode", [wallet, at]) or "0x"):
            return f"{wallet} holds no code"
        data = ERC1271_SELECTOR + encode(["bytes32", "bytes"], [digest_, signature])
        try:
            answer = hex_bytes(self.rpc("eth_call", [{"to": wallet, "data": to_hex(data)}, at]))
        except ContractRevert as exc:
            return f"its isValidSignature reverted: {exc}"
        except RpcError as exc:
            if exc.code != EXECUTION_REVERTED:
                raise  # the node cannot answer for that block
            return f"its isValidSignature reverted: {exc}"
        if answer[:32] != ERC1271_SELECTOR + bytes(28):
            return (
                f"contract wallet {wallet} does not accept it ({to_hex(answer[:4]) or 'no answer'})"
            )
        return ""

    def logs(self, contract: str, topics: list[Any]) -> list[Any]:
        query = {
            "address": self.trust.address(contract),
            # From the contract's deployment on: public nodes refuse open-ended ranges.
            "fromBlock": hex(self.trust.deploy_blocks.get(contract, 0)),
            "toBlock": "latest",
            "topics": topics,
        }
        return list(self.rpc("eth_getLogs", [query]) or [])


# -- checks ----------------------------------------------------------------------------


@dataclass(slots=True)
class _Context:
    chain: Chain
    report: Report
    passport_id: bytes
    owner_org: bytes = ZERO32
    delegations: list[Any] = field(default_factory=list)
    org_names: dict[bytes, str] = field(default_factory=dict)

    def org_name(self, org_id: bytes) -> str:
        if org_id not in self.org_names:
            try:
                (org,) = self.chain.call("OrganisationRegistry", "organisation", org_id)
                self.org_names[org_id] = str(org[0])
            except Reverted:
                self.org_names[org_id] = ""
        return self.org_names[org_id]

    def key(self, key: str) -> tuple[bytes, int, int, int]:
        """``keyOf(key)``: (orgId, roles, addedAt, revokedAt); zero org for an unknown key."""
        (record,) = self.chain.call("OrganisationRegistry", "keyOf", key)
        return bytes(record[0]), int(record[1]), int(record[2]), int(record[3])


def _check_trust(bundle: Mapping[str, Any], chain: Chain, report: Report) -> bool:
    trust = chain.trust
    node = _int(chain.rpc("eth_chainId", []))
    claimed = int(bundle["chain_id"])
    ok = report.add(
        "trust.chain_id",
        node == trust.chain_id == claimed,
        f"trust manifest chain {trust.chain_id}, node chain {node}, bundle chain {claimed}",
    )
    contracts = bundle.get("contracts") or {}
    if not isinstance(contracts, Mapping):
        raise ValueError("contracts must be an object")
    for name, address in contracts.items():
        pinned = trust.contracts.get(name)
        if name not in PINNED:
            continue
        same = pinned is not None and parse_address(address, f"contracts.{name}").lower() == pinned
        ok &= report.add(
            "trust.contracts",
            same,
            f"bundle names {name} at {address}; the trust manifest "
            + (f"pins {pinned}" if pinned else "names none"),
            name,
        )
    claimed_anchorer = parse_address(bundle["anchorer"], "anchorer").lower()
    ok &= report.add(
        "trust.anchorer",
        claimed_anchorer == trust.anchorer,
        f"bundle names anchorer {claimed_anchorer}; the trust manifest pins {trust.anchorer}",
    )
    return ok


def _check_passport(bundle: Mapping[str, Any], ctx: _Context) -> None:
    report, chain = ctx.report, ctx.chain
    subject, passport = bundle["subject"], bundle["passport"]
    gs1_path = subject["gs1_path"]
    if not isinstance(gs1_path, str) or not gs1_path.startswith("/01/") or len(gs1_path) < 18:
        raise ValueError("subject.gs1_path must be a GS1 Digital Link path /01/{gtin14}…")
    pid = ctx.passport_id
    report.add(
        "passport.id",
        keccak(gs1_path.encode()) == pid,
        f"keccak256({gs1_path!r}) = {to_hex(keccak(gs1_path.encode()))}; bundle says {to_hex(pid)}",
    )
    claimed = parse_hex(passport["canonical_hash"], "passport.canonical_hash", 32)
    document = passport["document"]
    if not isinstance(document, Mapping):
        raise ValueError("passport.document must be an object")
    computed = document_hash(document)
    report.add(
        "passport.document_hash",
        computed == claimed,
        f"keccak256(JCS(document)) = {to_hex(computed)}; bundle says {to_hex(claimed)}",
    )
    version = int(passport["version"])
    try:
        (on_chain,) = chain.call("ProductPassportRegistry", "versionOf", pid, version)
        chain_hash = bytes(on_chain[0])
        report.add(
            "passport.on_chain_hash",
            chain_hash == computed,
            f"versionOf(passport, {version}).documentHash = {to_hex(chain_hash)}; "
            f"the document hashes to {to_hex(computed)}",
        )
    except Reverted as exc:
        report.add("passport.on_chain_hash", False, f"no version {version} on chain: {exc}")
    try:
        (head,) = chain.call("ProductPassportRegistry", "passportOf", pid)
    except Reverted as exc:
        report.add("passport.status", False, f"passportOf reverted: {exc}")
        report.passport_status = "none"
        return
    issuer, current, status_code, reason_code = _addr(head[0]), int(head[1]), head[2], head[3]
    status = PASSPORT_STATUSES[status_code] if status_code < 4 else str(status_code)
    report.passport_status = status
    report.current_version = current
    report.add(
        "passport.current_version",
        current == version,
        f"bundle is version {version}; the passport's current version is {current}",
    )
    if status == "none":
        # Not a soft failure: nothing was issued under this id in the pinned registry.
        report.add("passport.issuer", False, "no passport with this id in the pinned registry")
    elif status != "active":
        report.add(
            "passport.status",
            False,
            f"{status}: reason code {reason_code}{_status_reason(chain, pid, status)}",
        )
    else:
        report.add("passport.status", True, "active")
    gtin = gs1_path[4:18]
    try:
        owner, _length = chain.call("OrganisationRegistry", "ownerOfGtin", gtin)
        ctx.owner_org = bytes(owner)
        key_org = ctx.key(issuer)[0] if issuer != "0x" + "00" * 20 else ZERO32
    except Reverted as exc:
        report.add("passport.issuer", False, str(exc))
        return
    name = ctx.org_name(ctx.owner_org) if ctx.owner_org != ZERO32 else ""
    report.organisation = name or None
    claimed_issuer = parse_address(passport["issuer"], "passport.issuer").lower()
    report.add(
        "passport.issuer",
        claimed_issuer == issuer and ctx.owner_org != ZERO32 and key_org == ctx.owner_org,
        f"passportOf.issuer {issuer} (bundle says {claimed_issuer}) is a key of organisation "
        f"{to_hex(key_org)} {ctx.org_name(key_org) if key_org != ZERO32 else '(none)'!r}; "
        f"GTIN {gtin} belongs to {to_hex(ctx.owner_org)} {name or '(nobody)'!r}",
    )


def _status_reason(chain: Chain, pid: bytes, status: str) -> str:
    event = {"recalled": "PassportRecalled", "revoked": "PassportRevoked"}.get(status)
    if event is None:
        return ""
    try:
        logs = chain.logs(
            "ProductPassportRegistry",
            [to_hex(topic("ProductPassportRegistry", event)), to_hex(pid)],
        )
    except RpcError:
        return ""  # the reason text is a courtesy; the status itself came from passportOf
    if not logs:
        return ""
    _code, _hash, reason = decode(["uint16", "bytes32", "string"], hex_bytes(logs[-1]["data"]))
    return f", {reason!r}"


def _check_domain(typed: Mapping[str, Any], trust: Trust) -> tuple[bool, str]:
    dom = typed["domain"]
    ok = (
        dom.get("name") == DOMAIN_NAME
        and str(dom.get("version")) == DOMAIN_VERSION
        and int(dom["chainId"]) == trust.chain_id
        and str(dom["verifyingContract"]).lower() == trust.address("AnchorRegistry")
    )
    return ok, (
        f"domain {dom.get('name')!r} v{dom.get('version')} chain {dom['chainId']} "
        f"contract {dom['verifyingContract']}"
    )


def _check_event(event: Mapping[str, Any], ctx: _Context, confirmations: int) -> None:
    report, chain = ctx.report, ctx.chain
    item = str(event["digest"]).lower()
    typed = event["typed_data"]
    if typed.get("primaryType") != "SupplyEvent":
        raise ValueError("events[].typed_data must be a SupplyEvent")
    digest_ = typed_data_digest(typed)
    domain_ok, domain_text = _check_domain(typed, chain.trust)
    subject = parse_hex(typed["message"]["subject"], "typed_data.message.subject", 32)
    report.add(
        "event.digest",
        to_hex(digest_) == item and domain_ok and subject == ctx.passport_id,
        f"EIP-712 digest {to_hex(digest_)} in {domain_text}, about {to_hex(subject)}",
        item,
    )
    signer = parse_address(event["signer"], "events[].signer").lower()
    anchor = event.get("anchor")
    signed, detail = _signed(
        chain,
        signer,
        digest_,
        parse_signature(event["signature"], "events[].signature"),
        int(anchor["block_number"]) if anchor else None,
    )
    report.add("event.signature", signed, f"{detail}; bundle says {signer}", item)
    if not anchor:
        report.add("event.anchored", False, "not anchored yet", item)
        return
    leaf = merkle.leaf_hash(digest_)
    proof = [parse_hex(p, "proof step", 32) for p in event["proof"]]
    root = parse_hex(event["root"], "events[].root", 32)
    report.add(
        "event.merkle",
        to_hex(leaf) == str(event["leaf"]).lower() and merkle.verify(root, leaf, proof),
        f"leaf {to_hex(leaf)} folds with {len(proof)} steps "
        + ("to" if merkle.verify(root, leaf, proof) else "not to")
        + f" root {to_hex(root)}",
        item,
    )
    block = int(anchor["block_number"])
    anchored, detail = _anchored(chain, root, leaf, proof, str(anchor["tx_hash"]), block)
    report.add("event.anchored", anchored, detail, item)
    latest = chain.latest()
    depth = latest - block + 1
    report.add(
        "event.confirmations",
        depth >= confirmations,
        f"anchored in block {block}, latest {latest}: {depth} confirmations, {confirmations} asked",
        item,
    )
    org = _check_signer_key(signer, block, ctx, item)
    _check_authorised(event, signer, org, block, ctx, item)


def _anchored(
    chain: Chain, root: bytes, leaf: bytes, proof: Sequence[bytes], tx_hash: str, block: int
) -> tuple[bool, str]:
    """The root is the pinned anchorer's (a stranger's anchor of it counts for nothing),
    the proof leads to it on chain, and ``tx_hash`` in ``block`` is that anchor."""
    registry = chain.trust.address("AnchorRegistry")
    anchorer = chain.trust.anchorer
    try:
        (record,) = chain.call("AnchorRegistry", "anchorOf", anchorer, root)
        (valid,) = chain.call("AnchorRegistry", "verify", anchorer, root, leaf, list(proof))
    except Reverted as exc:
        return False, str(exc)
    anchored_at = int(record[1])
    if anchored_at == 0:
        return False, (
            f"the pinned anchorer {anchorer} never anchored root {to_hex(root)} "
            f"in the pinned AnchorRegistry {registry}"
        )
    if not valid:
        return False, (
            f"pinned AnchorRegistry {registry}: verify({anchorer}, root, leaf, proof) is false"
        )
    if anchored_at != block:
        return False, (
            f"the pinned anchorer {anchorer} anchored root {to_hex(root)} in block "
            f"{anchored_at}, bundle says {block}"
        )
    receipt = chain.receipt(tx_hash)
    if receipt is None:
        return False, f"transaction {tx_hash} is not on this chain"
    got = _int(receipt["blockNumber"])
    if got != block:
        return False, f"transaction {tx_hash} is in block {got}, bundle says {block}"
    if not chain.canonical(receipt):
        return False, f"block {block} of transaction {tx_hash} is not in the canonical chain"
    anchored_topic = topic("AnchorRegistry", "Anchored")
    # Anchored(address indexed anchorer, bytes32 root): the anchorer in topic 1, the root
    # as the data.
    by = [
        to_hex(hex_bytes(log["topics"][1])[-20:])
        for log in receipt["logs"]
        if _addr(log["address"]) == registry
        and len(log["topics"]) == 2
        and hex_bytes(log["topics"][0]) == anchored_topic
        and hex_bytes(log["data"]) == root
    ]
    if anchorer not in by:
        return False, (
            f"transaction {tx_hash} logs no Anchored({to_hex(root)}) by the pinned anchorer "
            f"{anchorer} from {registry}" + (f"; it was anchored by {', '.join(by)}" if by else "")
        )
    return (
        True,
        f"root {to_hex(root)} anchored by the pinned anchorer {anchorer} in {tx_hash}, "
        f"canonical block {block} at {registry}",
    )


def _check_signer_key(signer: str, block: int, ctx: _Context, item: str) -> bytes:
    try:
        org, _roles, added, revoked = ctx.key(signer)
    except Reverted as exc:
        ctx.report.add("event.signer_key", False, str(exc), item)
        return ZERO32
    active = org != ZERO32 and added <= block and (revoked == 0 or block < revoked)
    window = f"valid from block {added}" + (f" until block {revoked}" if revoked else "")
    who = f"organisation {ctx.org_name(org)!r}" if org != ZERO32 else "no organisation"
    ctx.report.add(
        "event.signer_key",
        active,
        f"keyOf({signer}): {who}, {window}; batch anchored in block {block}",
        item,
    )
    return org if active else ZERO32


def _delegation_org(index: Any, block: int, ctx: _Context) -> tuple[bytes, str]:
    """The delegate organisation a ``delegations[index]`` grant names, if the issuer signed it."""
    if not isinstance(index, int) or not 0 <= index < len(ctx.delegations):
        raise ValueError("authorisation.delegation must index delegations[]")
    grant = ctx.delegations[index]
    typed = grant["typed_data"]
    if typed.get("primaryType") != "SubjectDelegation":
        raise ValueError("delegations[].typed_data must be a SubjectDelegation")
    domain_ok, domain_text = _check_domain(typed, ctx.chain.trust)
    message = typed["message"]
    issuer = parse_address(message["issuer"], "delegation issuer").lower()
    subject = parse_hex(message["subject"], "delegation subject", 32)
    signed, _ = _signed(
        ctx.chain,
        issuer,
        typed_data_digest(typed),
        parse_signature(grant["signature"], "delegations[].signature"),
        block,
    )
    if not signed or not domain_ok:
        return (
            ZERO32,
            f"delegation {index} is not signed by {issuer} in the events domain ({domain_text})",
        )
    if subject not in (ctx.passport_id, ZERO32):
        return ZERO32, f"delegation {index} is about {to_hex(subject)}, not this passport"
    org, _roles, added, revoked = ctx.key(issuer)
    if org != ctx.owner_org or ctx.owner_org == ZERO32:
        return ZERO32, f"delegation {index} is signed by {issuer}, not a key of the GTIN's owner"
    if not (added <= block and (revoked == 0 or block < revoked)):
        return ZERO32, f"delegation {index}'s signing key was not active at block {block}"
    delegate = str(message["delegate"])
    return keccak(ORG_ID_NAMESPACE + delegate.encode()), f"delegated to {delegate!r}"


def _check_authorised(
    event: Mapping[str, Any], signer: str, org: bytes, block: int, ctx: _Context, item: str
) -> None:
    report = ctx.report
    auth = event.get("authorisation")
    if not isinstance(auth, Mapping) or auth.get("basis") not in (
        "issuer",
        "delegate",
        "shipment_party",
    ):
        raise ValueError("events[].authorisation.basis must be issuer, delegate or shipment_party")
    basis = auth["basis"]
    name = ctx.org_name(org) if org != ZERO32 else "(no active organisation)"
    owner = ctx.org_name(ctx.owner_org) if ctx.owner_org != ZERO32 else "(nobody)"
    if org == ZERO32 or ctx.owner_org == ZERO32:
        report.add(
            "event.authorised", False, f"signer's organisation {name}; GTIN owner {owner}", item
        )
        return
    if basis == "issuer":
        report.add(
            "event.authorised",
            org == ctx.owner_org,
            f"issuer basis: signer's organisation {name!r}, GTIN owner {owner!r}",
            item,
        )
        return
    if basis == "delegate":
        delegate, why = _delegation_org(auth.get("delegation"), block, ctx)
        report.add(
            "event.authorised",
            delegate == org,
            f"delegate basis: {why}; signer's organisation {name!r} ({to_hex(org)})",
            item,
        )
        return
    shipment = parse_hex(auth.get("shipment_id"), "authorisation.shipment_id", 32)
    try:
        (roles,) = ctx.chain.call("ShipmentRegistry", "rolesOf", shipment, signer)
        (view,) = ctx.chain.call("ShipmentRegistry", "shipment", shipment)
        seller_org = ctx.key(_addr(view[0]))[0]
    except Reverted as exc:
        report.add("event.authorised", False, str(exc), item)
        return
    entitled, why = ctx.owner_org, f"GTIN owner {owner!r}"
    if auth.get("delegation") is not None:
        entitled, why = _delegation_org(auth.get("delegation"), block, ctx)
    report.add(
        "event.authorised",
        int(roles) != 0 and seller_org == entitled and seller_org != ZERO32,
        f"shipment_party basis: signer has roles {int(roles)} on shipment {to_hex(shipment)}, "
        f"whose seller {_addr(view[0])} speaks for {to_hex(seller_org)}; needed: {why}",
        item,
    )


def _check_milestone(milestone: Mapping[str, Any], chain: Chain, report: Report) -> None:
    record = parse_hex(milestone["record_hash"], "milestones[].record_hash", 32)
    shipment = parse_hex(milestone["shipment_id"], "milestones[].shipment_id", 32)
    signer = parse_address(milestone["signer"], "milestones[].signer").lower()
    block = int(milestone["block_number"])
    item = to_hex(record)
    registry = chain.trust.address("ShipmentRegistry")
    receipt = chain.receipt(str(milestone["tx_hash"]))
    if receipt is None or _int(receipt["blockNumber"]) != block or not chain.canonical(receipt):
        report.add(
            "milestone.recorded",
            False,
            f"transaction {milestone['tx_hash']} is not in canonical block {block}",
            item,
        )
        return
    recorded = topic("ShipmentRegistry", "MilestoneRecorded")
    found = any(
        _addr(log["address"]) == registry
        and len(log["topics"]) == 4
        and hex_bytes(log["topics"][0]) == recorded
        and hex_bytes(log["topics"][1]) == shipment
        and hex_bytes(log["topics"][3])[-20:] == hex_bytes(signer)
        and hex_bytes(log["data"])[-32:] == record
        for log in receipt["logs"]
    )
    report.add(
        "milestone.recorded",
        found,
        f"{milestone.get('milestone')} of shipment {to_hex(shipment)} by {signer}: "
        + ("logged" if found else "no matching MilestoneRecorded")
        + f" by the pinned ShipmentRegistry {registry} in block {block}",
        item,
    )


def verify_bundle(
    bundle: Any, rpc_call: RpcCall, trust: Trust, *, confirmations: int = 1
) -> Report:
    """Check ``bundle`` against the chain behind ``rpc_call``, trusting only ``trust``."""
    return _checked(_verify, bundle, Chain(rpc_call, trust), confirmations, what="bundle")


def _checked(
    verify: Callable[[Any, Chain, Report, int], None],
    given: Any,
    chain: Chain,
    confirmations: int,
    *,
    what: str,
) -> Report:
    """Run ``verify``; anything that stops it becomes the report's "could not check" problem."""
    report = Report()
    try:
        verify(given, chain, report, confirmations)
    except CouldNotCheck as exc:
        report.problem = str(exc)
    except ChainUnavailable as exc:
        report.problem = f"node unreachable: {exc}"
    except RpcError as exc:
        report.problem = f"node refused a read: {exc}"
    except (KeyError, ValueError, TypeError, IndexError, AttributeError) as exc:
        missing = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
        report.problem = f"malformed {what}: {missing}"
    return report


def _verify(bundle: Any, chain: Chain, report: Report, confirmations: int) -> None:
    if not isinstance(bundle, Mapping):
        raise CouldNotCheck("the bundle is not a JSON object")
    if bundle.get("format") != BUNDLE_FORMAT:
        raise CouldNotCheck(
            f"unknown bundle format {bundle.get('format')!r}; expected {BUNDLE_FORMAT}"
        )
    if not _check_trust(bundle, chain, report):
        return  # another chain or other contracts: nothing else can be compared
    ctx = _Context(
        chain,
        report,
        parse_hex(bundle["subject"]["passport_id"], "subject.passport_id", 32),
        delegations=list(bundle.get("delegations") or []),
    )
    _check_passport(bundle, ctx)
    for event in bundle.get("events") or []:
        _check_event(event, ctx, confirmations)
    milestones = bundle.get("milestones") or []
    if milestones and "ShipmentRegistry" not in chain.trust.contracts:
        raise CouldNotCheck("trust manifest names no ShipmentRegistry to check milestones with")
    for milestone in milestones:
        _check_milestone(milestone, chain, report)


# -- typed data -------------------------------------------------------------------------


def struct_from_types(types: Mapping[str, Sequence[Mapping[str, str]]], primary: str) -> StructType:
    """A :class:`StructType` from the ``types`` member of a typed-data payload."""

    def build(name: str) -> StructType:
        members = tuple((m["type"], m["name"]) for m in types[name])
        deps = tuple(
            build(t.removesuffix("[]"))
            for t, _ in members
            if t.removesuffix("[]") in types and t.removesuffix("[]") != "EIP712Domain"
        )
        return StructType(name, members, deps)

    return build(primary)


def typed_data_digest(typed_data: Mapping[str, Any]) -> bytes:
    """The EIP-712 digest of an ``eth_signTypedData_v4`` payload."""
    dom = typed_data["domain"]
    domain = Domain(dom["name"], dom["version"], int(dom["chainId"]), dom["verifyingContract"])
    struct = struct_from_types(typed_data["types"], typed_data["primaryType"])
    return keccak(b"\x19\x01" + domain.separator + struct.hash_struct(typed_data["message"]))


def _signer_of(digest_: bytes, signature: bytes) -> tuple[str, str]:
    """``(address, "")`` the signature recovers, or ``("", reason)`` if it is malformed."""
    try:
        return recover(digest_, signature), ""
    except (SignatureInvalid, ValueError) as exc:
        return "", str(exc)


def _signed(
    chain: Chain, signer: str, digest_: bytes, signature: bytes, block: int | None
) -> tuple[bool, str]:
    """Whether ``signer`` signed ``digest_`` by the contracts' one rule, and what was compared.

    A plain key's signature recovers to it. Otherwise, a contract wallet's is the one its
    ERC-1271 ``isValidSignature`` accepts at ``block`` (the anchoring block: the wallet's
    owners then, not whoever holds it later; at the head on a node that keeps no state
    for that block, and the detail says so), asked of ``signer`` alone.
    """
    recovered, problem = _signer_of(digest_, signature)
    if not problem and recovered.lower() == signer.lower():
        return True, f"ecrecover gives {recovered}"
    why, where = chain.wallet_accepts(signer, digest_, signature, block)
    if not why:
        return True, f"contract wallet {signer} accepts it (ERC-1271 isValidSignature {where})"
    key = problem or f"ecrecover gives {recovered}"
    return False, f"{key}; {why} (ERC-1271 isValidSignature {where})"


# -- single event proofs (GET /v1/proofs/{ref}) ------------------------------------------------


def verify_proof(proof: Any, rpc_call: RpcCall, trust: Trust, *, confirmations: int = 1) -> Report:
    """Check a ``GET /v1/proofs/{ref}`` answer with the bundle's event checks."""
    return _checked(_verify_proof, proof, Chain(rpc_call, trust), confirmations, what="proof")


def _verify_proof(proof: Any, chain: Chain, report: Report, confirmations: int) -> None:
    if not isinstance(proof, Mapping):
        raise CouldNotCheck("the proof is not a JSON object")
    trust = chain.trust
    node = _int(chain.rpc("eth_chainId", []))
    dom = proof["domain"]
    domain = Domain(
        str(dom["name"]), str(dom["version"]), int(dom["chainId"]), str(dom["verifyingContract"])
    )
    claimed_registry = parse_address(proof["anchor_registry"], "anchor_registry").lower()
    if not report.add(
        "trust.chain_id",
        node == trust.chain_id == int(proof["chain_id"]) == domain.chain_id,
        f"trust manifest chain {trust.chain_id}, node chain {node}, proof chain {proof['chain_id']}",
    ):
        return
    if not report.add(
        "trust.contracts",
        claimed_registry == trust.address("AnchorRegistry")
        and domain.verifying_contract.lower() == claimed_registry,
        f"proof names AnchorRegistry {claimed_registry}; the trust manifest pins "
        f"{trust.address('AnchorRegistry')}",
        "AnchorRegistry",
    ):
        return
    claimed_anchorer = parse_address(proof["anchorer"], "anchorer").lower()
    if not report.add(
        "trust.anchorer",
        claimed_anchorer == trust.anchorer,
        f"proof names anchorer {claimed_anchorer}; the trust manifest pins {trust.anchorer}",
    ):
        return
    event = proof["event"]
    message = {
        "eventId": parse_hex(event["event_id"], "event_id", 32),
        "subject": parse_hex(event["subject"], "subject", 32),
        "kind": int(event["kind"]),
        "occurredAt": int(event["occurred_at"]),
        "location": location_bytes(event["location"]),
        "payloadHash": parse_hex(event["payload_hash"], "payload_hash", 32),
    }
    claimed = parse_hex(proof["digest"], "digest", 32)
    item = to_hex(claimed)
    digest_ = digest(domain, SUPPLY_EVENT, message)
    report.add("event.digest", digest_ == claimed, f"EIP-712 digest {to_hex(digest_)}", item)
    signer = parse_address(event["signer"], "event.signer").lower()
    anchor = proof.get("anchor") or {}
    anchored_at = anchor.get("block_number") if anchor.get("tx_hash") else None
    signed, detail = _signed(
        chain,
        signer,
        digest_,
        parse_signature(event["signature"], "signature"),
        None if anchored_at is None else int(anchored_at),
    )
    report.add("event.signature", signed, f"{detail}; proof says {signer}", item)
    if not anchor.get("root") or proof.get("proof") is None or not anchor.get("tx_hash"):
        report.add("event.anchored", False, "the event is not anchored yet", item)
        return
    root = parse_hex(anchor["root"], "root", 32)
    steps = [parse_hex(p, "proof step", 32) for p in proof["proof"]]
    leaf = merkle.leaf_hash(digest_)
    report.add(
        "event.merkle",
        merkle.verify(root, leaf, steps),
        f"leaf {to_hex(leaf)} folds with {len(steps)} steps to root {to_hex(root)}: "
        + str(merkle.verify(root, leaf, steps)).lower(),
        item,
    )
    block = int(anchor["block_number"])
    anchored, detail = _anchored(chain, root, leaf, steps, str(anchor["tx_hash"]), block)
    report.add("event.anchored", anchored, detail, item)
    latest = chain.latest()
    report.add(
        "event.confirmations",
        latest - block + 1 >= confirmations,
        f"anchored in block {block}, latest {latest}, {confirmations} confirmations asked",
        item,
    )
    if "OrganisationRegistry" in trust.contracts:
        ctx = _Context(chain, report, parse_hex(event["subject"], "subject", 32))
        _check_signer_key(signer, block, ctx, item)
