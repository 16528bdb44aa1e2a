"""Read-only chain access for the CLI: a bare JSON-RPC caller and signer nonces.

Everything here talks to a JSON-RPC node directly, never to the Waymark
service, so a verifier needs nothing but the proof and a node it trusts
(the checks themselves are in :mod:`backend.qr.bundle`).
"""

from __future__ import annotations

import itertools
import secrets
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx

from backend.chain.errors import ChainError
from backend.cli.common import fail
from backend.qr.bundle.verify import NodeUnreachable, RpcError

if TYPE_CHECKING:
    from backend.chain import ChainClient


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


def verifier_rpc(url: str, *, timeout: float = 15.0) -> Callable[[str, list[Any]], Any]:
    """A JSON-RPC caller for proof verification: node errors and outages are typed, not exits.

    A reverted ``eth_call`` is an answer the verifier judges (``RpcError``); a node
    that cannot be reached or answers nonsense is ``NodeUnreachable`` (could not check).
    """
    client = httpx.Client(timeout=timeout)
    ids = itertools.count(1)

    def call(method: str, params: list[Any]) -> Any:
        body = {"jsonrpc": "2.0", "id": next(ids), "method": method, "params": params}
        try:
            response = client.post(url, json=body)
            response.raise_for_status()
            data = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise NodeUnreachable(f"node {url} did not answer {method}: {exc}") from exc
        if not isinstance(data, dict) or ("result" not in data and "error" not in data):
            raise NodeUnreachable(f"node {url} answered {method} with no JSON-RPC result")
        if data.get("error"):
            err = data["error"] if isinstance(data["error"], dict) else {"message": data["error"]}
            raise RpcError(int(err.get("code", 0)), str(err.get("message")), err.get("data"))
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
    from pydantic import SecretStr

    from backend.chain.factory import make_chain
    from backend.config import Settings

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
