"""Read-only chain access for the CLI: nonces and independent proof checks.

Everything here talks to a JSON-RPC node directly, never to the Waymark
service, so a verifier needs nothing but the proof and a node it trusts.
"""

from __future__ import annotations

import itertools
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic import SecretStr

from backend.anchoring import merkle
from backend.chain import ChainClient, ChainError, eip712, make_chain
from backend.chain.anchors import AnchorRegistryClient
from backend.chain.typed_data.events import SUPPLY_EVENT, location_bytes
from backend.cli.common import domain_from_json, fail, hex_bytes
from backend.config import Settings


def json_rpc(url: str, *, timeout: float = 15.0) -> Callable[[str, list[Any]], Any]:
    """A bare JSON-RPC caller (``rpc_call(method, params)``) for bundle verification."""
    client = httpx.Client(timeout=timeout)
    ids = itertools.count(1)

    def call(method: str, params: list[Any]) -> Any:
        body = {"jsonrpc": "2.0", "id": next(ids), "method": method, "params": params}
        try:
            response = client.post(url, json=body)
            response.raise_for_status()
            data = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            fail(f"node {url} failed on {method}: {exc}")
        if "error" in data:
            fail(f"node {url} refused {method}: {data['error'].get('message', data['error'])}")
        return data["result"]

    return call


def chain_now(rpc: str | None) -> int:
    """The chain's clock (its latest block time) when a node is given, else the local clock.

    Contracts judge deadlines and ``occurredAt`` by block time; on a chain that
    mines on demand that clock trails the wall clock.
    """
    if rpc is None:
        return int(time.time())
    block = json_rpc(rpc)("eth_getBlockByNumber", ["latest", False])
    return int(block["timestamp"], 16)


def read_only_chain(rpc: str) -> ChainClient:
    """A client that only reads: its account is a fresh key holding nothing."""
    settings = Settings(
        chain_backend="rpc",
        rpc_url=rpc,
        relayer_private_key=SecretStr("0x" + secrets.token_hex(32)),
        rpc_retries=False,
        rpc_timeout_seconds=10,
        _env_file=None,  # type: ignore[call-arg]
    )
    try:
        return make_chain(settings)
    except ChainError as exc:
        fail(f"cannot reach {rpc}: {exc}")


def read_nonce(rpc: str, contract: str, address: str, account: str) -> int:
    chain = read_only_chain(rpc)
    try:
        return int(chain.call(chain.contract(contract, address), "nonces", account))
    except ChainError as exc:
        fail(f"cannot read {account}'s nonce from {contract} at {address}: {exc}")


@dataclass
class ProofCheck:
    """The outcome of each step of an independent proof check."""

    checks: dict[str, bool] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def record(self, name: str, ok: bool, note: str | None = None) -> None:
        self.checks[name] = ok
        if not ok and note:
            self.notes.append(note)

    @property
    def valid(self) -> bool:
        return bool(self.checks) and all(self.checks.values())


def verify_event_proof(proof: Mapping[str, Any], rpc: str) -> ProofCheck:
    """Check a ``GET /v1/proofs/{ref}`` response against the node at ``rpc``.

    1. the EIP-712 digest recomputed from the event fields and domain equals ``digest``;
    2. the signature recovers ``signer``;
    3. the Merkle proof folds ``leaf = keccak(keccak(digest))`` into ``root``;
    4. on the node: the chain id matches, ``anchorOf(root)`` exists, ``verify(root,
       leaf, proof)`` is true and the anchor's block is the one the proof names.
    """
    result = ProofCheck()
    try:
        event = proof["event"]
        domain = domain_from_json(proof["domain"])
        message = {
            "eventId": hex_bytes(event["event_id"], 32, "event_id"),
            "subject": hex_bytes(event["subject"], 32, "subject"),
            "kind": int(event["kind"]),
            "occurredAt": int(event["occurred_at"]),
            "location": location_bytes(event["location"]),
            "payloadHash": hex_bytes(event["payload_hash"], 32, "payload_hash"),
        }
        claimed = hex_bytes(proof["digest"], 32, "digest")
        signature = hex_bytes(event["signature"], 65, "signature")
        anchor = proof.get("anchor") or {}
        steps = [hex_bytes(p, 32, "proof step") for p in (proof.get("proof") or [])]
    except (KeyError, ValueError, TypeError) as exc:
        fail(f"malformed proof: {exc}")

    digest = eip712.digest(domain, SUPPLY_EVENT, message)
    result.record("digest", digest == claimed, "digest does not match the event fields")
    try:
        signer = eip712.recover(digest, signature)
    except eip712.SignatureInvalid as exc:
        signer = ""
        result.notes.append(f"signature: {exc}")
    result.record(
        "signature",
        signer.lower() == str(event["signer"]).lower(),
        f"signature recovers {signer or 'nothing'}, not {event['signer']}",
    )
    if not anchor.get("root") or proof.get("proof") is None:
        result.record("anchored", False, "the event is not anchored yet")
        return result
    root = hex_bytes(anchor["root"], 32, "root")
    leaf = merkle.leaf_hash(digest)
    result.record("merkle", merkle.verify(root, leaf, steps), "Merkle proof does not reach root")

    chain = read_only_chain(rpc)
    try:
        registry = AnchorRegistryClient(chain, str(proof["anchor_registry"]))
        result.record(
            "chain_id",
            chain.chain_id == int(proof["chain_id"]) == domain.chain_id,
            f"node is chain {chain.chain_id}, proof says {proof['chain_id']}",
        )
        info = registry.anchor_of(root)
        result.record("anchored", info is not None, "root is not anchored on this chain")
        result.record(
            "on_chain_verify",
            registry.verify(root, leaf, steps),
            "AnchorRegistry.verify(root, leaf, proof) is false",
        )
        if info is not None and anchor.get("block_number") is not None:
            result.record(
                "anchor_block",
                info.block_number == int(anchor["block_number"]),
                f"root anchored in block {info.block_number}, proof says {anchor['block_number']}",
            )
    except ChainError as exc:
        fail(f"node {rpc} failed: {exc}")
    return result
