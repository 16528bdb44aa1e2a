"""The one place that chooses a chain backend from settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from web3 import HTTPProvider, Web3
from web3.providers import BaseProvider

from backend.chain.client import GWEI, ChainClient, account_from_key
from backend.chain.compiler import Artifact, compile_contracts
from backend.config import Settings

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

TESTER_DEFAULT_KEY = "0x" + f"{1:064x}"  # eth-tester's first funded account
ANVIL_DEFAULT_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


def _web3(provider: BaseProvider) -> Web3:
    """web3 without its validation middleware, which asks the node for its chain id
    before every call and estimate to check a ``chainId`` field these never carry:
    transactions are signed here, with the chain id read once (``ChainClient.chain_id``)."""
    w3 = Web3(provider)
    w3.middleware_onion.remove("validation")
    return w3


def make_chain(settings: Settings, artifacts: dict[str, Artifact] | None = None) -> ChainClient:
    """A ``ChainClient`` for ``settings.chain_backend``: tester, anvil or rpc."""
    arts = artifacts if artifacts is not None else compile_contracts()
    key = settings.relayer_private_key.get_secret_value() if settings.relayer_private_key else None
    common = {
        "artifacts": arts,
        "receipt_timeout": settings.receipt_timeout_seconds,
        "priority_fee_wei": int(settings.priority_fee_gwei * GWEI),
    }
    if settings.chain_backend == "tester":
        # eth-tester and py-evm are imported only for the in-process chain: a node
        # client (the CLI, the service on anvil) never loads them.
        from eth_tester import EthereumTester, PyEVMBackend
        from web3 import EthereumTesterProvider

        from backend.chain.tester_gas import use_usage_estimates

        evm = PyEVMBackend()
        use_usage_estimates(evm)
        tester = EthereumTester(evm)
        w3 = _web3(EthereumTesterProvider(tester))
        return ChainClient(
            w3,
            account_from_key(key or TESTER_DEFAULT_KEY),
            backend="tester",
            tester=tester,
            **common,  # type: ignore[arg-type]
        )
    assert settings.rpc_url is not None  # enforced by Settings
    provider = HTTPProvider(
        settings.rpc_url,
        request_kwargs={"timeout": settings.rpc_timeout_seconds},
        **({} if settings.rpc_retries else {"exception_retry_configuration": None}),
    )
    w3 = _web3(provider)
    default = ANVIL_DEFAULT_KEY if settings.chain_backend == "anvil" else None
    if key is None and default is None:
        raise ValueError("a relayer private key is required for the rpc backend")
    return ChainClient(
        w3,
        account_from_key(key or default),  # type: ignore[arg-type]
        backend=settings.chain_backend,
        **common,  # type: ignore[arg-type]
    )


def connect_rpc(
    url: str,
    account: LocalAccount,
    *,
    artifacts: dict[str, Artifact] | None = None,
    timeout: float = 30.0,
) -> ChainClient:
    """A client on any JSON-RPC node that signs with ``account`` (the CLI's member key)."""
    arts = artifacts if artifacts is not None else compile_contracts()
    w3 = _web3(HTTPProvider(url, request_kwargs={"timeout": timeout}))
    return ChainClient(w3, account, backend="rpc", artifacts=arts, receipt_timeout=120.0)
