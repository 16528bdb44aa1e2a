// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IAnchorRegistry
/// @notice Records Merkle roots of batches of signed supply events so that any
///         single event can later be proven to have existed at anchoring time.
/// @dev Leaves follow OpenZeppelin's StandardMerkleTree convention
///      (`keccak256(bytes.concat(keccak256(abi.encode(...))))`, sorted pairs), so
///      proofs produced off chain verify with `MerkleProof.verify`.
interface IAnchorRegistry {
    /// @notice Block data recorded for an anchored root: one storage slot per root.
    /// @dev The anchorer and the metadata URI are in the {Anchored} event only.
    /// @param leafCount Number of leaves in the tree the root commits to.
    /// @param blockNumber Block in which the root was anchored.
    /// @param timestamp Block timestamp at anchoring.
    struct Anchor {
        uint64 leafCount;
        uint64 blockNumber;
        uint64 timestamp;
    }

    /// @notice Emitted once per anchored root; the only record of the anchorer and the URI.
    /// @param root The Merkle root.
    /// @param anchorer The account that anchored it.
    /// @param leafCount Number of leaves committed to.
    /// @param metadataURI Where the batch manifest can be fetched (may be empty).
    event Anchored(bytes32 indexed root, address indexed anchorer, uint64 leafCount, string metadataURI);

    /// @notice The root was already anchored; roots are write-once.
    error AnchorRootAlreadyAnchored(bytes32 root);

    /// @notice The zero root commits to nothing and is refused.
    error AnchorRootZero();

    /// @notice A batch must contain at least one leaf.
    error AnchorLeafCountZero(bytes32 root);

    /// @notice Anchor `root`, committing to `leafCount` leaves described at `metadataURI`.
    /// @dev Only ANCHORER_ROLE. Reverts {AnchorRootAlreadyAnchored} for a duplicate.
    function anchor(bytes32 root, uint64 leafCount, string calldata metadataURI) external;

    /// @notice Anchor data for `root`; `blockNumber == 0` means not anchored.
    function anchorOf(bytes32 root) external view returns (Anchor memory);

    /// @notice Whether `root` has been anchored.
    function isAnchored(bytes32 root) external view returns (bool);

    /// @notice Whether `leaf` is in the anchored tree `root` according to `proof`.
    /// @dev Returns false for a root that was never anchored.
    function verify(bytes32 root, bytes32 leaf, bytes32[] calldata proof) external view returns (bool);
}
