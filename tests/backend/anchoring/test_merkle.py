"""Merkle trees: every proof verifies; bulk proofs equal single proofs; contract agrees."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.anchoring import merkle
from backend.chain import AnchorRegistryClient, ChainClient
from tests.conftest import deployment_for


@given(st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=40, unique=True))
@settings(max_examples=60, deadline=None)
def test_every_proof_verifies_and_bulk_proofs_match(values: list[bytes]) -> None:
    leaves = [merkle.leaf_hash(v) for v in values]
    tree = merkle.build(leaves)
    bulk = tree.proofs()
    for leaf in leaves:
        assert list(bulk[leaf]) == tree.proof(leaf)
        assert merkle.verify(tree.root, leaf, bulk[leaf])
    assert not merkle.verify(tree.root, merkle.leaf_hash(b"\x00" * 33), tree.proof(leaves[0]))


def test_duplicate_and_empty_leaves_are_refused() -> None:
    leaf = merkle.leaf_hash(b"x" * 32)
    with pytest.raises(ValueError, match="duplicate"):
        merkle.build([leaf, leaf])
    with pytest.raises(ValueError, match="at least one"):
        merkle.build([])


def test_contract_verifies_python_proofs(tester: ChainClient) -> None:
    registry = AnchorRegistryClient(tester, deployment_for(tester).address("AnchorRegistry"))
    leaves = [merkle.leaf_hash(os.urandom(32)) for _ in range(13)]
    tree = merkle.build(leaves)
    registry.anchor_root(tree.root, len(leaves))
    for leaf in leaves:
        assert registry.verify(tree.root, leaf, list(tree.proofs()[leaf]))
    assert not registry.verify(tree.root, leaves[0], list(tree.proofs()[leaves[1]]))
