"""Proof verification against a chain: product proof bundles and single event proofs.

The one verifier, used by ``waymark proof verify`` and by the tests of the
bundle endpoint. A bundle carries everything needed to check a passport and its
supply events with nothing but an Ethereum JSON-RPC endpoint: the passport
document and its canonical hash, the on-chain passport version it must equal,
and for every supply event its EIP-712 typed data, signature, Merkle leaf,
proof, root and anchoring transaction. ``verify_bundle`` performs the steps
listed in the bundle's ``verification`` section; ``verify_proof`` runs the same
event checks on a ``GET /v1/proofs/{ref}`` response. Neither touches a database
or the Waymark API, only ``rpc_call(method, params)``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_abi import decode, encode
from eth_hash.auto import keccak

from backend.anchoring import merkle
from backend.chain.eip712 import Domain, SignatureInvalid, StructType, digest, recover
from backend.chain.typed_data.events import SUPPLY_EVENT, location_bytes
from backend.passports.canonical import document_hash

BUNDLE_FORMAT = "waymark-proof-bundle/1"
ANCHORED_TOPIC = keccak(b"Anchored(bytes32,address,uint64,string)")
_PASSPORT_OF = keccak(b"passportOf(bytes32)")[:4]
_VERSION_OF = keccak(b"versionOf(bytes32,uint32)")[:4]
_VERIFY = keccak(b"verify(bytes32,bytes32,bytes32[])")[:4]
_PASSPORT_T = "(address,uint32,uint8,uint16,uint40)"
_VERSION_T = "(bytes32,bytes2,uint16,uint64,uint64,uint64,string)"
PASSPORT_STATUSES = ("none", "active", "recalled", "revoked")

VERIFICATION_STEPS = (
    "Ask the node for eth_chainId; it must equal chain_id.",
    "Serialise passport.document with RFC 8785 (JCS) and hash it with keccak256; "
    "it must equal passport.canonical_hash.",
    "eth_call ProductPassportRegistry.versionOf(passport_id, passport.version) at "
    "contracts.ProductPassportRegistry; its documentHash must equal passport.canonical_hash "
    "(a difference means the document was altered after it was recorded).",
    "eth_call passportOf(passport_id) gives the issuer and the status "
    "(1 active, 2 recalled, 3 revoked).",
    "For every event: hash typed_data with EIP-712 (eth_signTypedData_v4 rules); the "
    "digest must equal event.digest, the domain's chainId must equal chain_id and its "
    "verifyingContract contracts.AnchorRegistry.",
    "ecrecover(digest, signature) must equal event.signer.",
    "leaf = keccak256(keccak256(digest)) must equal event.leaf; folding event.proof with "
    "sorted-pair keccak256 must give event.root.",
    "eth_call AnchorRegistry.verify(root, leaf, proof) must return true, and the receipt "
    "of event.anchor.tx_hash must hold an Anchored(root, …) log from AnchorRegistry in "
    "block event.anchor.block_number.",
)

RpcCall = Callable[[str, list[Any]], Any]


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str = ""


@dataclass(slots=True)
class BundleReport:
    """Every check performed; ``ok`` only if all passed and there was something to check."""

    checks: list[Check] = field(default_factory=list)
    passport_status: str | None = None

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    def add(self, name: str, ok: bool, detail: str = "") -> bool:
        self.checks.append(Check(name, ok, detail))
        return ok


def _b(value: str | bytes) -> bytes:
    # Providers differ: HTTP nodes answer hex strings, in-process ones bytes.
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    return bytes.fromhex(value.removeprefix("0x"))


def _int(value: str | int) -> int:
    return value if isinstance(value, int) else int(value, 16)


def _addr(value: str | bytes) -> str:
    return value.lower() if isinstance(value, str) else "0x" + bytes(value).hex()


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


def _eth_call(rpc_call: RpcCall, to: str, data: bytes) -> bytes:
    call = {"to": to, "data": _hex(data)}
    return _b(rpc_call("eth_call", [call, "latest"]))


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


# -- the checks both proof shapes share --------------------------------------------------


def _signer_of(digest_: bytes, signature: bytes) -> tuple[str, str]:
    """``(address, "")`` the signature recovers, or ``("", reason)`` if it is malformed."""
    try:
        return recover(digest_, signature), ""
    except (SignatureInvalid, ValueError) as exc:
        return "", str(exc)


def _registry_verify(
    rpc_call: RpcCall, registry: str, root: bytes, leaf: bytes, proof: Sequence[bytes]
) -> bool:
    """``AnchorRegistry.verify(root, leaf, proof)`` through ``eth_call``."""
    call = _VERIFY + encode(["bytes32", "bytes32", "bytes32[]"], [root, leaf, list(proof)])
    (valid,) = decode(["bool"], _eth_call(rpc_call, registry, call))
    return bool(valid)


def _anchor_block(rpc_call: RpcCall, registry: str, root: bytes, tx_hash: str) -> int | None:
    """The block of ``tx_hash`` if its receipt holds ``Anchored(root, …)`` from ``registry``."""
    receipt = rpc_call("eth_getTransactionReceipt", [tx_hash])
    if receipt is None:
        return None
    logged = any(
        _addr(log["address"]) == registry.lower()
        and len(log["topics"]) >= 2
        and _b(log["topics"][0]) == ANCHORED_TOPIC
        and _b(log["topics"][1]) == root
        for log in receipt["logs"]
    )
    return _int(receipt["blockNumber"]) if logged else None


def _verify_passport(bundle: Mapping[str, Any], rpc_call: RpcCall, report: BundleReport) -> None:
    passport = bundle.get("passport")
    if not passport:
        return
    registry = bundle["contracts"]["ProductPassportRegistry"]
    pid = _b(bundle["subject"]["passport_id"])
    claimed = _b(passport["canonical_hash"])
    computed = document_hash(passport["document"])
    report.add(
        "document hash",
        computed == claimed,
        f"keccak256(JCS(document)) = {_hex(computed)}; bundle says {_hex(claimed)}",
    )
    version = int(passport["version"])
    raw = _eth_call(rpc_call, registry, _VERSION_OF + encode(["bytes32", "uint32"], [pid, version]))
    (on_chain,) = decode([_VERSION_T], raw)
    chain_hash: bytes = on_chain[0]
    report.add(
        "passport version on chain",
        chain_hash == computed,
        f"versionOf(passport, {version}).documentHash = {_hex(chain_hash)}",
    )
    (head,) = decode([_PASSPORT_T], _eth_call(rpc_call, registry, _PASSPORT_OF + pid))
    status = PASSPORT_STATUSES[head[2]] if head[2] < len(PASSPORT_STATUSES) else str(head[2])
    report.passport_status = status
    report.add(
        "passport issuer",
        head[0].lower() == str(passport["issuer"]).lower(),
        f"passportOf(passport).issuer = {head[0]}",
    )


def _verify_event(
    event: Mapping[str, Any], bundle: Mapping[str, Any], rpc_call: RpcCall, report: BundleReport
) -> None:
    name = f"event {event['digest']}"
    registry = bundle["contracts"]["AnchorRegistry"]
    typed = event["typed_data"]
    digest_ = typed_data_digest(typed)
    dom = typed["domain"]
    report.add(
        f"{name}: digest",
        _hex(digest_) == event["digest"].lower()
        and int(dom["chainId"]) == int(bundle["chain_id"])
        and dom["verifyingContract"].lower() == registry.lower(),
        f"EIP-712 digest {_hex(digest_)} in domain {dom['name']!r} chain {dom['chainId']}",
    )
    signer, problem = _signer_of(digest_, _b(event["signature"]))
    if problem:
        report.add(f"{name}: signature", False, problem)
        return
    report.add(
        f"{name}: signature", signer.lower() == event["signer"].lower(), f"ecrecover gives {signer}"
    )
    anchor = event.get("anchor")
    if not anchor:
        report.add(f"{name}: anchored", False, "not anchored yet")
        return
    leaf = merkle.leaf_hash(digest_)
    proof = [_b(p) for p in event["proof"]]
    root = _b(event["root"])
    report.add(
        f"{name}: merkle proof",
        _hex(leaf) == event["leaf"].lower() and merkle.verify(root, leaf, proof),
        f"leaf {_hex(leaf)} does not fold to the root",
    )
    valid = _registry_verify(rpc_call, registry, root, leaf, proof)
    report.add(f"{name}: AnchorRegistry.verify", valid, f"returned {valid}")
    block = _anchor_block(rpc_call, registry, root, anchor["tx_hash"])
    report.add(
        f"{name}: anchor transaction",
        block is not None and block == int(anchor["block_number"]),
        f"tx {anchor['tx_hash']} in block {block}",
    )


def verify_bundle(bundle: Mapping[str, Any], rpc_call: RpcCall) -> BundleReport:
    """Check ``bundle`` against the chain reachable through ``rpc_call`` (JSON-RPC)."""
    report = BundleReport()
    if bundle.get("format") != BUNDLE_FORMAT:
        report.add("format", False, f"expected {BUNDLE_FORMAT}, got {bundle.get('format')!r}")
        return report
    chain_id = _int(rpc_call("eth_chainId", []))
    if not report.add("chain id", chain_id == int(bundle["chain_id"]), f"node is on {chain_id}"):
        return report
    _verify_passport(bundle, rpc_call, report)
    for event in bundle.get("events", []):
        _verify_event(event, bundle, rpc_call, report)
    return report


def _hex_field(value: Any, size: int, what: str) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise ValueError(f"{what} must be 0x-prefixed hex")
    raw = bytes.fromhex(value[2:])
    if len(raw) != size:
        raise ValueError(f"{what} must be {size} bytes, got {len(raw)}")
    return raw


def _hex32(value: Any, what: str) -> bytes:
    return _hex_field(value, 32, what)


def verify_proof(proof: Mapping[str, Any], rpc_call: RpcCall) -> BundleReport:
    """Check a ``GET /v1/proofs/{ref}`` response with the same steps as a bundle's event.

    Check names: ``digest`` (EIP-712 digest of the event fields in the proof's
    domain), ``signature``, then once anchored ``merkle``, ``chain_id``,
    ``anchored`` (the anchor transaction logs ``Anchored(root)``),
    ``on_chain_verify`` and ``anchor_block``. Raises ``KeyError``/``ValueError``
    on a malformed proof.
    """
    report = BundleReport()
    event = proof["event"]
    dom = proof["domain"]
    domain = Domain(
        str(dom["name"]), str(dom["version"]), int(dom["chainId"]), str(dom["verifyingContract"])
    )
    message = {
        "eventId": _hex32(event["event_id"], "event_id"),
        "subject": _hex32(event["subject"], "subject"),
        "kind": int(event["kind"]),
        "occurredAt": int(event["occurred_at"]),
        "location": location_bytes(event["location"]),
        "payloadHash": _hex32(event["payload_hash"], "payload_hash"),
    }
    claimed = _hex32(proof["digest"], "digest")
    anchor = proof.get("anchor") or {}
    steps = [_hex32(p, "proof step") for p in (proof.get("proof") or [])]
    digest_ = digest(domain, SUPPLY_EVENT, message)
    report.add("digest", digest_ == claimed, "digest does not match the event fields")
    signer, problem = _signer_of(digest_, _hex_field(event["signature"], 65, "signature"))
    report.add(
        "signature",
        signer != "" and signer.lower() == str(event["signer"]).lower(),
        f"signature: {problem}"
        if problem
        else f"signature recovers {signer}, not {event['signer']}",
    )
    if not anchor.get("root") or proof.get("proof") is None:
        report.add("anchored", False, "the event is not anchored yet")
        return report
    root = _hex32(anchor["root"], "root")
    leaf = merkle.leaf_hash(digest_)
    report.add("merkle", merkle.verify(root, leaf, steps), "Merkle proof does not reach root")
    chain_id = _int(rpc_call("eth_chainId", []))
    report.add(
        "chain_id",
        chain_id == int(proof["chain_id"]) == domain.chain_id,
        f"node is chain {chain_id}, proof says {proof['chain_id']}",
    )
    registry = str(proof["anchor_registry"])
    block = (
        _anchor_block(rpc_call, registry, root, anchor["tx_hash"])
        if anchor.get("tx_hash")
        else None
    )
    report.add("anchored", block is not None, "root is not anchored on this chain")
    report.add(
        "on_chain_verify",
        _registry_verify(rpc_call, registry, root, leaf, steps),
        "AnchorRegistry.verify(root, leaf, proof) is false",
    )
    if block is not None and anchor.get("block_number") is not None:
        report.add(
            "anchor_block",
            block == int(anchor["block_number"]),
            f"root anchored in block {block}, proof says {anchor['block_number']}",
        )
    return report
