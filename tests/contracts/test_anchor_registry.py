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
    result = registry.anchor_root(ROOT, 3)
    event = result.event("Anchored")
    assert event.args == {"anchorer": registry.chain.address, "root": ROOT}
    info = registry.anchor_of(ROOT)
    assert info is not None
    assert info.block_number == result.block_number
    assert info.leaf_count == 3
    assert info.timestamp == registry.chain.block(result.block_number)["timestamp"]
    assert registry.anchor_count() == 1


def test_anchor_reverts_with_typed_error_when_the_same_anchorer_repeats_a_root(
    registry: AnchorRegistryClient,
) -> None:
    registry.anchor_root(ROOT, 1)
    with pytest.raises(revert_class("AnchorRootAlreadyAnchored")) as info:
        registry.anchor_root(ROOT, 5)
    assert info.value.anchorer.lower() == registry.chain.address.lower()
    assert info.value.root == ROOT
    assert isinstance(info.value, ContractRevert)
    assert registry.anchor_count() == 1


def test_anchor_reverts_when_root_zero_or_leaf_count_zero(registry: AnchorRegistryClient) -> None:
    with reverts("AnchorRootZero"):
        registry.anchor_root(bytes(32), 1)
    with reverts("AnchorLeafCountZero", root=ROOT):
        registry.anchor_root(ROOT, 0)


def test_anyone_may_anchor_and_the_record_is_the_senders_alone(
    registry: AnchorRegistryClient, outsider: ChainClient
) -> None:
    """Open like EAS's ``timestamp``: a stranger's anchor is recorded under the stranger,
    and says nothing about the root for any other anchorer."""
    leaves = _leaves(3)
    tree = merkle.build(leaves)
    foreign = AnchorRegistryClient(outsider, registry.address)
    result = foreign.anchor_root(tree.root, 3)
    assert result.event("Anchored").args["anchorer"] == outsider.address
    assert foreign.anchor_of(tree.root) is not None
    assert foreign.verify(tree.root, leaves[0], tree.proof(leaves[0]))
    # The operator's anchorer has recorded nothing for that root.
    assert registry.anchor_of(tree.root) is None
    assert registry.anchor_of(tree.root, anchorer=outsider.address) is not None
    assert not registry.verify(tree.root, leaves[0], tree.proof(leaves[0]))
    assert registry.anchor_count() == 0
    assert registry.anchor_count(anchorer=outsider.address) == 1


def test_a_strangers_earlier_anchor_of_a_root_does_not_block_the_anchorers(
    registry: AnchorRegistryClient, outsider: ChainClient
) -> None:
    foreign = AnchorRegistryClient(outsider, registry.address)
    first = foreign.anchor_root(ROOT, 9)
    ours = registry.anchor_root(ROOT, 2)
    info = registry.anchor_of(ROOT)
    assert info is not None
    assert (info.leaf_count, info.block_number) == (2, ours.block_number)
    theirs = registry.anchor_of(ROOT, anchorer=outsider.address)
    assert theirs is not None
    assert (theirs.leaf_count, theirs.block_number) == (9, first.block_number)
    # Each anchorer's roots stay write-once for that anchorer.
    with reverts("AnchorRootAlreadyAnchored", anchorer=outsider.address, root=ROOT):
        foreign.anchor_root(ROOT, 1)


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
