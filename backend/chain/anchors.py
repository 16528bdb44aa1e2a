"""Domain verbs over ``AnchorRegistry``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_utils import to_canonical_address

from backend.chain.client import ChainClient, TxResult


@dataclass(frozen=True)
class AnchorInfo:
    """On-chain record of an anchored root."""

    root: str
    leaf_count: int
    block_number: int
    timestamp: int


class AnchorRegistryClient:
    """Anchor Merkle roots and check proofs against the deployed registry.

    The registry is open and keyed by sender: every read names the anchorer whose
    record it asks for (this client's account unless told otherwise).
    """

    def __init__(self, chain: ChainClient, address: str) -> None:
        self.chain = chain
        self.address = address
        self.contract = chain.contract("AnchorRegistry", address)

    def anchored_topics(self, anchorer: str) -> list[Any]:
        """``eth_getLogs`` topics of the ``Anchored`` logs of ``anchorer`` alone."""
        return [self.contract.events.Anchored.topic, bytes(12) + to_canonical_address(anchorer)]

    def anchor_root(self, root: bytes, leaf_count: int) -> TxResult:
        """Anchor ``root`` under this client's account; anchoring it twice raises
        ``AnchorRootAlreadyAnchored`` (``.anchorer``, ``.root``)."""
        return self.chain.transact(self.contract, "anchor", root, leaf_count)

    def anchor_calldata(self, root: bytes, leaf_count: int) -> str:
        """Encoded call, for callers that manage sending and fee bumps themselves."""
        return self.chain.encode(self.contract, "anchor", root, leaf_count)

    def anchor_of(
        self, root: bytes, *, anchorer: str | None = None, block: int | str = "latest"
    ) -> AnchorInfo | None:
        """What ``anchorer`` (this client's account by default) recorded for ``root``."""
        leaf_count, block_number, timestamp = self.chain.call(
            self.contract, "anchorOf", anchorer or self.chain.address, root, block=block
        )
        if block_number == 0:
            return None
        return AnchorInfo("0x" + root.hex(), leaf_count, block_number, timestamp)

    def verify(
        self, root: bytes, leaf: bytes, proof: list[bytes], *, anchorer: str | None = None
    ) -> bool:
        """Whether ``leaf`` is in the tree ``root`` that ``anchorer`` (this client's account
        by default) anchored."""
        return bool(
            self.chain.call(
                self.contract, "verify", anchorer or self.chain.address, root, leaf, proof
            )
        )

    def anchor_count(self, from_block: int = 0, *, anchorer: str | None = None) -> int:
        """Roots ``anchorer`` (this client's account by default) anchored since
        ``from_block``, counted from the ``Anchored`` logs (the contract keeps no
        counter: it would cost every anchor a storage write)."""
        logs = self.chain.get_logs(
            [self.address],
            from_block,
            self.chain.block_number(),
            topics=self.anchored_topics(anchorer or self.chain.address),
        )
        return sum(1 for ev in logs if ev.name == "Anchored")
