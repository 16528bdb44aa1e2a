"""The chain as a third party reads it: bare JSON-RPC and the deployment's trust manifest."""

from __future__ import annotations

from typing import Any

from backend.chain import ChainClient
from backend.qr.bundle.verify import Trust
from tests.conftest import deployment_for


def rpc_of(chain: ChainClient) -> Any:
    """JSON-RPC as a third party would call it; eth-tester wants a sender on eth_call."""

    def call(method: str, params: list[Any]) -> Any:
        if method == "eth_call":
            params = [{"from": chain.address, **params[0]}, *params[1:]]
        return chain.rpc(method, params)

    return call


def trust_of(chain: ChainClient) -> Trust:
    return Trust.from_manifest(deployment_for(chain).to_json())
