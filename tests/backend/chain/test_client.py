"""Transaction sending, nonces, fees, timeouts and settings guards."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from backend.chain import AnchorRegistryClient, ChainClient, TransactionTimeout
from backend.chain.anvil import AnvilNode
from backend.chain.deployments import Deployment
from backend.config import Settings


def test_sequential_sends_use_consecutive_nonces_and_eip1559(
    chain: ChainClient, deployment: Deployment
) -> None:
    registry = AnchorRegistryClient(chain, deployment.address("AnchorRegistry"))
    start = chain.w3.eth.get_transaction_count(chain.account.address)
    hashes = []
    for i in range(5):
        sent = chain.send(
            {
                "to": registry.address,
                "data": registry.anchor_calldata(bytes([i + 1]) * 32, 1),
            }
        )
        assert sent.nonce == start + i
        hashes.append(sent.tx_hash)
    for h in hashes:
        assert chain.wait(h).status == 1
        tx = chain.w3.eth.get_transaction(h)  # type: ignore[arg-type]
        assert tx["type"] == 2
        assert tx["maxFeePerGas"] >= tx["maxPriorityFeePerGas"]
    assert registry.anchor_count() == 5


def test_nonce_resyncs_after_external_transaction(
    chain: ChainClient, deployment: Deployment
) -> None:
    registry = AnchorRegistryClient(chain, deployment.address("AnchorRegistry"))
    registry.anchor_root(b"\x01" * 32, 1)
    # Someone else sends from the same key (another replica): our cache is stale.
    other = chain.with_account(chain.account)
    AnchorRegistryClient(other, registry.address).anchor_root(b"\x02" * 32, 1)
    with pytest.raises(Exception):  # noqa: B017 - node-specific "nonce too low"
        registry.anchor_root(b"\x03" * 32, 1)
    registry.anchor_root(b"\x03" * 32, 1)  # resynced from the node
    assert registry.anchor_count() == 3


def test_wait_raises_timeout_for_transaction_never_mined(chain: ChainClient) -> None:
    with pytest.raises(TransactionTimeout) as info:
        chain.wait("0x" + "42" * 32, timeout=0.3)
    assert info.value.tx_hash == "0x" + "42" * 32


def test_advance_time_moves_block_timestamp(chain: ChainClient) -> None:
    before = chain.block()["timestamp"]
    chain.advance_time(3600)
    chain.mine()
    assert chain.block()["timestamp"] >= before + 3600


def test_rpc_backend_refuses_well_known_dev_key() -> None:
    with pytest.raises(ValidationError, match="well-known development key"):
        Settings(
            chain_backend="rpc",
            rpc_url="http://127.0.0.1:1",
            relayer_private_key=SecretStr("0x" + "00" * 31 + "01"),
        )
    with pytest.raises(ValidationError, match="required"):
        Settings(chain_backend="rpc", rpc_url="http://127.0.0.1:1")


def test_anvil_backend_defaults_to_local_url_and_dev_key(anvil_node: AnvilNode) -> None:
    settings = Settings(chain_backend="anvil", rpc_url=anvil_node.url)
    assert settings.rpc_url == anvil_node.url
    assert Settings(chain_backend="anvil").rpc_url == "http://127.0.0.1:8545"
