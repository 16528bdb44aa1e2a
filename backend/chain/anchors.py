"""Domain verbs over ``AnchorRegistry``."""

from __future__ import annotations

from dataclasses import dataclass

from backend.chain.client import ChainClient, TxResult


@dataclass(frozen=True)
class AnchorInfo:
    """On-chain record of an anchored root."""

    root: str
    leaf_count: int
    block_number: int
    timestamp: int


class AnchorRegistryClient:
    """Anchor Merkle roots and check proofs against the deployed registry."""

    def __init__(self, chain: ChainClient, address: str) -> None:
        self.chain = chain
        self.address = address
        self.contract = chain.contract("AnchorRegistry", address)

    def anchor_root(self, root: bytes, leaf_count: int, metadata_uri: str = "") -> TxResult:
        """Anchor ``root``; a duplicate raises ``AnchorRootAlreadyAnchored`` (``.root``)."""
        return self.chain.transact(self.contract, "anchor", root, leaf_count, metadata_uri)

    def anchor_calldata(self, root: bytes, leaf_count: int, metadata_uri: str = "") -> str:
        """Encoded call, for callers that manage sending and fee bumps themselves."""
        return self.chain.encode(self.contract, "anchor", root, leaf_count, metadata_uri)

    def anchor_of(self, root: bytes, block: int | str = "latest") -> AnchorInfo | None:
        leaf_count, block_number, timestamp = self.chain.call(
            self.contract, "anchorOf", root, block=block
        )
        if block_number == 0:
            return None
        return AnchorInfo("0x" + root.hex(), leaf_count, block_number, timestamp)

    def verify(self, root: bytes, leaf: bytes, proof: list[bytes]) -> bool:
        return bool(self.chain.call(self.contract, "verify", root, leaf, proof))

    def anchor_count(self, from_block: int = 0) -> int:
        """Roots anchored since ``from_block``, counted from the ``Anchored`` logs (the
        contract keeps no counter: it would cost every anchor a storage write)."""
        logs = self.chain.get_logs([self.address], from_block, self.chain.block_number())
        return sum(1 for ev in logs if ev.name == "Anchored")
