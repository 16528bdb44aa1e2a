"""Merkle root plus every proof for 100k event digests, next to 100k plain keccaks."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backend.anchoring import merkle  # noqa: I001 - first: selects the C keccak for eth-hash
from bench.common import Row, publish
from eth_hash.auto import keccak

N = 100_000


def best_of(fn: object, runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    digests = [os.urandom(32) for _ in range(N)]
    leaves = [merkle.leaf_hash(d) for d in digests]

    def plain() -> None:
        for d in digests:
            keccak(d)

    def tree_only() -> None:
        merkle.build(leaves)

    def tree_and_proofs() -> None:
        tree = merkle.build(leaves)
        tree.proofs()

    def leaves_tree_proofs() -> None:
        tree = merkle.build([merkle.leaf_hash(d) for d in digests])
        tree.proofs()

    t_plain = best_of(plain)
    t_tree = best_of(tree_only)
    t_all = best_of(tree_and_proofs)
    t_full = best_of(leaves_tree_proofs)
    publish(
        "merkle",
        f"Merkle tree over {N:,} events (best of 3)",
        [
            Row("root (tree build) from leaves", t_tree, "s", t_plain, f"{N:,} keccaks"),
            Row("root + all proofs from leaves", t_all, "s", t_plain, f"{N:,} keccaks", "≤ 0.5 s"),
            Row("leaf hashing + root + all proofs", t_full, "s", t_plain, f"{N:,} keccaks"),
        ],
    )


if __name__ == "__main__":
    main()
