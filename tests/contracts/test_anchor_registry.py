"""AnchorRegistry behaviour, run against every chain backend (tester and anvil)."""

from __future__ import annotations

import pytest
from eth_abi import encode
from eth_account import Account

from backend.anchoring import merkle
from backend.chain import AnchorRegistryClient, ChainClient, ContractRevert, revert_class
from backend.chain.deployments import Deployment
from tests.helpers import reverts

ROOT = bytes.fromhex("11" * 32)


@pytest.fixture
def registry(chain: ChainClient, deployment: Deployment) -> AnchorRegistryClient:
    return AnchorRegistryClient(chain, deployment.address("AnchorRegistry"))


@pytest.fixture
def outsider(chain: ChainClient) -> ChainClient:
    acct = Account.create()
    chain.send_value(acct.address, 10**18)
    return chain.with_account(acct)


def _leaves(n: int) -> list[bytes]:
    return [merkle.leaf_hash(encode(["bytes32"], [i.to_bytes(32, "big")])) for i in range(n)]


def test_anchor_records_block_and_emits_anchored(registry: AnchorRegistryClient) -> None:
    result = registry.anchor_root(ROOT, 3, "ipfs://batch-1")
    event = result.event("Anchored")
    assert event.args == {
        "root": ROOT,
        "anchorer": registry.chain.address,
        "leafCount": 3,
        "metadataURI": "ipfs://batch-1",
    }
    info = registry.anchor_of(ROOT)
    assert info is not None
    assert info.block_number == result.block_number
    assert info.leaf_count == 3
    assert info.timestamp == registry.chain.block(result.block_number)["timestamp"]
    assert registry.anchor_count() == 1


def test_anchor_reverts_with_typed_error_when_root_is_duplicate(
    registry: AnchorRegistryClient,
) -> None:
    registry.anchor_root(ROOT, 1)
    with pytest.raises(revert_class("AnchorRootAlreadyAnchored")) as info:
        registry.anchor_root(ROOT, 5)
    assert info.value.root == ROOT
    assert isinstance(info.value, ContractRevert)
    assert registry.anchor_count() == 1


def test_anchor_reverts_when_root_zero_or_leaf_count_zero(registry: AnchorRegistryClient) -> None:
    with reverts("AnchorRootZero"):
        registry.anchor_root(bytes(32), 1)
    with reverts("AnchorLeafCountZero", root=ROOT):
        registry.anchor_root(ROOT, 0)


def test_anchor_reverts_when_caller_lacks_anchorer_role(
    registry: AnchorRegistryClient, outsider: ChainClient
) -> None:
    foreign = AnchorRegistryClient(outsider, registry.address)
    role = registry.chain.call(registry.contract, "ANCHORER_ROLE")
    with reverts("AccessControlUnauthorizedAccount", account=outsider.address, neededRole=role):
        foreign.anchor_root(ROOT, 1)
    assert registry.anchor_of(ROOT) is None


def test_verify_accepts_every_proof_of_an_anchored_tree(registry: AnchorRegistryClient) -> None:
    leaves = _leaves(7)
    tree = merkle.build(leaves)
    registry.anchor_root(tree.root, len(leaves))
    for leaf in leaves:
        proof = tree.proof(leaf)
        assert merkle.verify(tree.root, leaf, proof)
        assert registry.verify(tree.root, leaf, proof)


def test_verify_rejects_foreign_leaf_and_unanchored_root(registry: AnchorRegistryClient) -> None:
    leaves = _leaves(4)
    tree = merkle.build(leaves)
    proof = tree.proof(leaves[0])
    assert not registry.verify(tree.root, leaves[0], proof)  # not anchored yet
    registry.anchor_root(tree.root, 4)
    assert not registry.verify(tree.root, _leaves(5)[4], proof)
    assert not registry.verify(tree.root, leaves[1], proof)


def test_snapshot_revert_undoes_anchors(chain: ChainClient, registry: AnchorRegistryClient) -> None:
    snap = chain.snapshot()
    registry.anchor_root(ROOT, 1)
    assert registry.anchor_count() == 1
    chain.revert(snap)
    assert registry.anchor_of(ROOT) is None
    registry.anchor_root(ROOT, 2)  # nonce cache was reset by revert
    info = registry.anchor_of(ROOT)
    assert info is not None
    assert info.leaf_count == 2
