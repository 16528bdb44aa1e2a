// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IAnchorRegistry
/// @notice Records Merkle roots of batches of signed supply events so that any
///         single event can later be proven to have existed at anchoring time.
///         Open and keyed by sender, like EAS's `timestamp`: anyone may anchor, and
///         each anchor is recorded under the account that sent it. Authority lies with
///         the reader: whoever checks an anchor names the anchorer it trusts
///         (`anchorOf(anchorer, root)`), so a stranger's anchor of any root, even one
///         the trusted anchorer anchors later, proves nothing on the trusted one's behalf.
/// @dev Leaves follow OpenZeppelin's StandardMerkleTree convention
///      (`keccak256(bytes.concat(keccak256(abi.encode(...))))`, sorted pairs), so
///      proofs produced off chain verify with `MerkleProof.verify`.
interface IAnchorRegistry {
    /// @notice Block data recorded for a root an anchorer anchored: one storage slot.
    /// @param leafCount Number of leaves in the tree the root commits to.
    /// @param blockNumber Block in which the root was anchored.
    /// @param timestamp Block timestamp at anchoring.
    struct Anchor {
        uint64 leafCount;
        uint64 blockNumber;
        uint64 timestamp;
    }

    /// @notice Emitted once per (anchorer, root).
    /// @dev Lean on purpose, to keep an anchor within the gas of EAS's `timestamp(bytes32)`:
    ///      the anchorer is the one topic (a reader asks a node for the anchors of the
    ///      anchorer it trusts), the root is the data, and the leaf count, block and time
    ///      are read from {anchorOf}. To find a root, ask `anchorOf(anchorer, root)`.
    /// @param anchorer The account that anchored it (whose record it is).
    /// @param root The Merkle root.
    event Anchored(address indexed anchorer, bytes32 root);

    /// @notice `anchorer` already anchored `root`; an anchorer's roots are write-once.
    error AnchorRootAlreadyAnchored(address anchorer, bytes32 root);

    /// @notice The zero root commits to nothing and is refused.
    error AnchorRootZero();

    /// @notice A batch must contain at least one leaf.
    error AnchorLeafCountZero(bytes32 root);

    /// @notice Anchor `root`, committing to `leafCount` leaves, under the sender.
    /// @dev Open to anyone. Reverts {AnchorRootAlreadyAnchored} when the sender already
    ///      anchored `root`; another account's anchor of the same root does not matter.
    function anchor(bytes32 root, uint64 leafCount) external;

    /// @notice What `anchorer` recorded for `root`; `blockNumber == 0` means not anchored by it.
    function anchorOf(address anchorer, bytes32 root) external view returns (Anchor memory);

    /// @notice Whether `anchorer` anchored `root`.
    function isAnchored(address anchorer, bytes32 root) external view returns (bool);

    /// @notice Whether `leaf` is in the tree `root` that `anchorer` anchored, by `proof`.
    /// @dev Returns false for a root `anchorer` never anchored.
    function verify(address anchorer, bytes32 root, bytes32 leaf, bytes32[] calldata proof)
        external
        view
        returns (bool);
}
