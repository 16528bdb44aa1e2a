// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {IAnchorRegistry} from "./interfaces/IAnchorRegistry.sol";
import {Versioned} from "./utils/Versioned.sol";

/// @title AnchorRegistry
/// @notice Write-once registry of Merkle roots of supply-event batches.
/// @dev One storage slot per root (leaf count, block, time): an anchor costs the cold
///      write of that slot, the role check and the event. Counting anchors is left to
///      the `Anchored` logs, so no shared counter slot is rewritten per anchor.
contract AnchorRegistry is IAnchorRegistry, AccessControl, Versioned {
    /// @notice Role allowed to anchor roots (the Waymark anchoring worker).
    bytes32 public constant ANCHORER_ROLE = keccak256("ANCHORER_ROLE");

    mapping(bytes32 root => Anchor) private _anchors;

    constructor(address admin, address anchorer) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(ANCHORER_ROLE, anchorer);
    }

    /// @inheritdoc IAnchorRegistry
    function anchor(bytes32 root, uint64 leafCount, string calldata metadataURI)
        external
        onlyRole(ANCHORER_ROLE)
    {
        if (root == bytes32(0)) revert AnchorRootZero();
        if (leafCount == 0) revert AnchorLeafCountZero(root);
        if (_anchors[root].blockNumber != 0) revert AnchorRootAlreadyAnchored(root);
        _anchors[root] = Anchor({leafCount: leafCount, blockNumber: uint64(block.number), timestamp: uint64(_now())});
        emit Anchored(root, msg.sender, leafCount, metadataURI);
    }

    /// @inheritdoc IAnchorRegistry
    function anchorOf(bytes32 root) external view returns (Anchor memory) {
        return _anchors[root];
    }

    /// @inheritdoc IAnchorRegistry
    function isAnchored(bytes32 root) public view returns (bool) {
        return _anchors[root].blockNumber != 0;
    }

    /// @inheritdoc IAnchorRegistry
    function verify(bytes32 root, bytes32 leaf, bytes32[] calldata proof) external view returns (bool) {
        return isAnchored(root) && MerkleProof.verifyCalldata(proof, root, leaf);
    }
}
