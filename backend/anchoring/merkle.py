"""Merkle trees compatible with OpenZeppelin's ``StandardMerkleTree``.

Leaves are double-hashed (``keccak256(bytes.concat(keccak256(value)))``), pairs
are hashed sorted, leaves are sorted by hash and laid out as a complete binary
tree in an array, exactly as ``@openzeppelin/merkle-tree`` does, so roots and
proofs match that library and verify with ``MerkleProof.sol``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

# The C keccak (safe-pysha3) called directly: the tree hashes ~2n times and
# eth-hash's dispatch wrapper costs more than the hash itself at this size.
from sha3 import keccak_256


def keccak(data: bytes) -> bytes:
    return keccak_256(data).digest()


def leaf_hash(value: bytes) -> bytes:
    """Double keccak of an ABI-encoded value (second-preimage safe leaf)."""
    return keccak_256(keccak_256(value).digest()).digest()


def hash_pair(a: bytes, b: bytes) -> bytes:
    return keccak(a + b) if a < b else keccak(b + a)


@dataclass(frozen=True)
class MerkleTree:
    """A built tree; ``tree[0]`` is the root."""

    tree: tuple[bytes, ...]
    leaf_index: dict[bytes, int]

    @property
    def root(self) -> bytes:
        return self.tree[0]

    def proof(self, leaf: bytes) -> list[bytes]:
        """Sibling hashes from ``leaf`` up to the root."""
        i = self.leaf_index[leaf]
        tree = self.tree
        out = []
        while i > 0:
            out.append(tree[i + 1] if i % 2 else tree[i - 1])
            i = (i - 1) // 2
        return out

    def proofs(self) -> dict[bytes, tuple[bytes, ...]]:
        """Every leaf's proof, sharing work between leaves with common ancestors.

        ``path[i]`` (node ``i``'s proof) is its sibling followed by its parent's
        proof, and parents come first in the array: one step per node, and the
        copying happens inside tuple concatenation.
        """
        tree = self.tree
        path: list[tuple[bytes, ...]] = [()] * len(tree)
        for i in range(1, len(tree)):
            path[i] = (tree[i + 1] if i % 2 else tree[i - 1],) + path[(i - 1) >> 1]
        return {leaf: path[i] for leaf, i in self.leaf_index.items()}


def build(leaves: Sequence[bytes]) -> MerkleTree:
    """Build from already-hashed leaves (duplicates are refused)."""
    if not leaves:
        raise ValueError("a Merkle tree needs at least one leaf")
    ordered = sorted(leaves)
    n = len(ordered)
    size = 2 * n - 1
    # Leaf i (in sorted order) sits at size - 1 - i: the array's tail, reversed.
    index = dict(zip(ordered, range(size - 1, n - 2, -1), strict=True))
    if len(index) != n:
        dup = next(a for a, b in pairwise(ordered) if a == b)
        raise ValueError(f"duplicate leaf 0x{dup.hex()}")
    tree: list[bytes] = [b""] * (n - 1) + ordered[::-1]
    k = keccak_256
    for i in range(size - 1 - n, -1, -1):
        left, right = tree[2 * i + 1], tree[2 * i + 2]
        tree[i] = k(left + right).digest() if left < right else k(right + left).digest()
    return MerkleTree(tuple(tree), index)


def verify(root: bytes, leaf: bytes, proof: Sequence[bytes]) -> bool:
    """Check a proof without any tree (what a third party would do)."""
    node = leaf
    for sibling in proof:
        node = hash_pair(node, sibling)
    return node == root
