"""A read-only JSON-RPC 2.0 answer over the in-process chain, for verifiers outside the service.

The eth-tester chain lives inside the service process, so no node exists that a
proof verifier could name. :func:`answer` serves a JSON-RPC request (or batch)
from it, allowing only the reads a verifier needs: nothing here signs, sends,
mines or moves the clock. Results are written the way an HTTP node writes them
(hex quantities and data), so web3.py's ``HTTPProvider`` and ethers read them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from backend.chain.client import ChainClient
from backend.chain.errors import ContractRevert

READ_METHODS = frozenset(
    {
        "eth_chainId",
        "net_version",
        "eth_blockNumber",
        "eth_call",
        "eth_getLogs",
        "eth_getBlockByNumber",
        "eth_getBlockByHash",
        "eth_getTransactionReceipt",
        "eth_getTransactionByHash",
        "eth_getCode",
    }
)
MAX_BATCH = 50
MAX_BODY_BYTES = 64 * 1024
# py-evm runs a call under the lock every chain access of the service takes, so a
# call may burn this much gas at most: far above any view a verifier makes, far
# below a block's worth of busy loop.
CALL_GAS_CAP = 2_000_000

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
EXECUTION_REVERTED = 3  # what geth and anvil answer for a reverted eth_call


def error(code: int, message: str, ident: Any = None, data: str | None = None) -> dict[str, Any]:
    """A JSON-RPC error response."""
    body: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        body["data"] = data
    return {"jsonrpc": "2.0", "id": ident, "error": body}


def answer(chain: ChainClient, payload: Any) -> Any:
    """The response to one JSON-RPC request object, or the list of responses to a batch."""
    if isinstance(payload, list):
        if not payload:
            return error(INVALID_REQUEST, "empty batch")
        if len(payload) > MAX_BATCH:
            return error(INVALID_REQUEST, f"a batch holds at most {MAX_BATCH} requests")
        return [_one(chain, item) for item in payload]
    return _one(chain, payload)


def _one(chain: ChainClient, request: Any) -> dict[str, Any]:
    if not isinstance(request, Mapping):
        return error(INVALID_REQUEST, "a request is a JSON object")
    ident = request.get("id")
    if not isinstance(ident, str | int | type(None)) or isinstance(ident, bool):
        ident = None
    method = request.get("method")
    if request.get("jsonrpc") != "2.0" or not isinstance(method, str):
        return error(INVALID_REQUEST, 'a request names "jsonrpc": "2.0" and a method', ident)
    if method not in READ_METHODS:
        return error(METHOD_NOT_FOUND, f"method {method[:64]!r} is not served here", ident)
    params = request.get("params", [])
    if not isinstance(params, list):
        return error(INVALID_PARAMS, "params must be an array", ident)
    if method == "eth_call":
        problem = _bounded_call(params)
        if problem:
            return error(INVALID_PARAMS, problem, ident)
    if method == "net_version":
        # eth-tester answers "1" whatever its chain id; a node answers its network id,
        # which for every chain a verifier meets here is the chain id in decimal.
        return {"jsonrpc": "2.0", "id": ident, "result": str(chain.chain_id)}
    try:
        # Through web3's formatters: they read hex params and give typed results.
        result = chain.rpc(method, params)
    except ContractRevert as exc:
        return error(EXECUTION_REVERTED, "execution reverted", ident, exc.data)
    except Exception as exc:  # any provider failure: the caller sent params it cannot read
        return error(INVALID_PARAMS, f"{method} failed: {str(exc)[:200]}", ident)
    return {"jsonrpc": "2.0", "id": ident, "result": _wire(result)}


def _bounded_call(params: list[Any]) -> str | None:
    """Why an ``eth_call`` is refused (no target, or more gas than the cap), else None."""
    if not params or not isinstance(params[0], dict):
        return "eth_call takes a call object"
    call = params[0]
    if not isinstance(call.get("to"), str):
        return "eth_call needs a target address (no contract creation here)"
    gas = call.get("gas")
    if gas is None:
        call["gas"] = hex(CALL_GAS_CAP)
        return None
    try:
        requested = int(gas, 16) if isinstance(gas, str) else int(gas)
    except ValueError:
        return "gas must be a hex quantity"
    if requested > CALL_GAS_CAP:
        return f"gas {requested} above this endpoint's cap of {CALL_GAS_CAP}"
    return None


def _wire(value: Any) -> Any:
    """A provider result as an HTTP node writes it: hex quantities, 0x data, camelCase keys."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return hex(value)
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, Mapping):
        return {str(k): _wire(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_wire(v) for v in value]
    return str(value)
