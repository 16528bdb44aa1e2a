"""POST /rpc: the in-process chain as a read-only JSON-RPC node, read by web3.py over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account
from web3 import HTTPProvider, Web3

from backend.chain import ChainClient
from backend.chain.anchors import AnchorRegistryClient
from backend.db import migrate
from backend.db.engine import make_engine
from backend.main import create_app
from tests.backend.conftest import api_settings
from tests.conftest import deployment_for
from tests.integration.live_server import serve


@pytest.fixture
def node(tester: ChainClient, tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'rpc.sqlite3'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    app = create_app(api_settings(url), tester, deployment=deployment_for(tester))
    with serve(app) as base:
        yield base


def _post(base: str, body: Any) -> Any:
    resp = httpx.post(f"{base}/rpc", json=body, timeout=30)
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_web3_reads_the_demo_chain_through_rpc(tester: ChainClient, node: str) -> None:
    dep = deployment_for(tester)
    anchors = AnchorRegistryClient(tester, dep.address("AnchorRegistry"))
    root = bytes.fromhex("ab" * 32)
    sent = anchors.anchor_root(root, 3)
    w3 = Web3(HTTPProvider(f"{node}/rpc"))
    assert w3.eth.chain_id == tester.chain_id
    assert w3.eth.block_number == tester.block_number()
    assert w3.net.version == str(tester.chain_id)
    block = w3.eth.get_block(sent.block_number)
    assert block["number"] == sent.block_number
    assert w3.eth.get_block(block["hash"])["number"] == sent.block_number
    receipt = w3.eth.get_transaction_receipt(sent.tx_hash)
    assert receipt["blockNumber"] == sent.block_number
    assert w3.eth.get_transaction(sent.tx_hash)["blockNumber"] == sent.block_number
    assert len(w3.eth.get_code(dep.address("AnchorRegistry"))) > 0
    registry = w3.eth.contract(
        address=dep.address("AnchorRegistry"), abi=tester.artifacts["AnchorRegistry"].abi
    )
    assert registry.functions.isAnchored(tester.address, root).call() is True
    assert registry.functions.isAnchored(tester.address, bytes(32)).call() is False
    logs = registry.events.Anchored().get_logs(
        from_block=sent.block_number, to_block=sent.block_number
    )
    assert [log["args"]["root"] for log in logs] == [root]


def test_writes_and_node_controls_are_refused_with_method_not_found(
    tester: ChainClient, node: str
) -> None:
    w3 = Web3(HTTPProvider(f"{node}/rpc"))
    signed = Account.create().sign_transaction(
        {
            "to": tester.address,
            "value": 1,
            "gas": 21000,
            "gasPrice": 10**9,
            "nonce": 0,
            "chainId": tester.chain_id,
        }
    )
    before = tester.block_number()
    for method, params in [
        ("eth_sendRawTransaction", ["0x" + bytes(signed.raw_transaction).hex()]),
        ("eth_sendTransaction", [{"from": tester.address, "to": tester.address, "value": "0x1"}]),
        ("evm_mine", []),
        ("evm_snapshot", []),
        ("evm_revert", ["0x1"]),
        ("eth_accounts", []),
        ("eth_sign", [tester.address, "0x00"]),
        ("anvil_setBalance", [tester.address, "0x1"]),
    ]:
        answer = _post(node, {"jsonrpc": "2.0", "id": 7, "method": method, "params": params})
        assert answer["id"] == 7
        assert answer["error"]["code"] == -32601, (method, answer)
    assert tester.block_number() == before
    with pytest.raises(Exception, match="not served"):
        w3.eth.send_raw_transaction(signed.raw_transaction)


def test_batch_answers_in_order_and_each_item_on_its_own(tester: ChainClient, node: str) -> None:
    answer = _post(
        node,
        [
            {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
            {"jsonrpc": "2.0", "id": 2, "method": "eth_sendTransaction", "params": [{}]},
            {"jsonrpc": "2.0", "id": 3, "method": "eth_blockNumber"},
            "not a request",
        ],
    )
    assert [a.get("id") for a in answer] == [1, 2, 3, None]
    assert answer[0]["result"] == hex(tester.chain_id)
    assert answer[1]["error"]["code"] == -32601
    assert int(answer[2]["result"], 16) == tester.block_number()
    assert answer[3]["error"]["code"] == -32600


def test_bad_bodies_get_json_rpc_errors_not_500(node: str) -> None:
    raw = httpx.post(f"{node}/rpc", content=b"{not json", timeout=30)
    assert raw.status_code == 200
    assert raw.json()["error"]["code"] == -32700
    assert _post(node, [])["error"]["code"] == -32600
    many = [{"jsonrpc": "2.0", "id": i, "method": "eth_chainId"} for i in range(51)]
    assert _post(node, many)["error"]["code"] == -32600
    params = _post(node, {"jsonrpc": "2.0", "id": 1, "method": "eth_call", "params": {"x": 1}})
    assert params["error"]["code"] == -32602
    # A call that could hold the in-process chain busy: no target, or a block's worth of gas.
    creation = {"data": "0x5b600056"}  # JUMPDEST PUSH1 0 JUMP: a loop until gas runs out
    looping = {"to": "0x" + "00" * 19 + "01", "data": "0x", "gas": hex(30_000_000)}
    for call in (creation, looping):
        refused = _post(node, {"jsonrpc": "2.0", "id": 1, "method": "eth_call", "params": [call]})
        assert refused["error"]["code"] == -32602, refused
    garbage = _post(node, {"jsonrpc": "2.0", "id": 1, "method": "eth_getCode", "params": ["zz"]})
    assert garbage["error"]["code"] == -32602
    huge = httpx.post(
        f"{node}/rpc",
        content=b'{"jsonrpc":"2.0","id":1,"method":"eth_call","params":["' + b"a" * 70_000 + b'"]}',
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert huge.status_code == 413


def test_reverting_call_answers_execution_reverted_with_the_error_data(
    tester: ChainClient, node: str
) -> None:
    dep = deployment_for(tester)
    w3 = Web3(HTTPProvider(f"{node}/rpc"))
    registry = w3.eth.contract(
        address=dep.address("ProductPassportRegistry"),
        abi=tester.artifacts["ProductPassportRegistry"].abi,
    )
    data = registry.encode_abi("versionOf", [bytes(32), 1])
    answer = _post(
        node,
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "eth_call",
            "params": [{"to": dep.address("ProductPassportRegistry"), "data": data}, "latest"],
        },
    )
    assert answer["error"]["code"] == 3
    selector = Web3.keccak(text="PassportUnknown(bytes32)")[:4].hex()
    assert answer["error"]["data"].removeprefix("0x").startswith(selector.removeprefix("0x"))


def test_published_manifest_is_the_deployment(tester: ChainClient, node: str) -> None:
    resp = httpx.get(f"{node}/.well-known/waymark/deployment.json", timeout=30)
    assert resp.status_code == 200
    manifest = resp.json()
    dep = deployment_for(tester)
    assert manifest["chainId"] == tester.chain_id
    assert manifest["contracts"]["AnchorRegistry"]["address"] == dep.address("AnchorRegistry")
