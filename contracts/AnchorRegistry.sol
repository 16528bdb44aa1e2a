// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {IAnchorRegistry} from "./interfaces/IAnchorRegistry.sol";
import {AnchorSlot, AnchorSlotLibrary} from "./types/AnchorSlot.sol";
import {Versioned} from "./utils/Versioned.sol";

/// @title AnchorRegistry
/// @notice Write-once registry of Merkle roots of supply-event batches, keyed by sender.
/// @dev No roles and no admin: an anchor costs the cold read and the one write of its
///      {AnchorSlot} (leaf count, block, time) and a lean log, the storage work of EAS's
///      `timestamp(bytes32)`. Counting anchors is left to the `Anchored` logs, so no
///      shared counter slot is rewritten per anchor.
///
///      Gas: an anchor's calldata carries the leaf count besides the root, so the rest is
///      kept below an EAS timestamp's (bench/gas_anchor.py measures both in one run):
///      the slot of (anchorer, root) is `keccak256(abi.encode(anchorer, root, _ANCHORS))`,
///      one hash per access where a nested mapping takes two (an ERC-7201-style namespace;
///      the contract declares no state variable), the packed word is written with one
///      SSTORE (a struct assignment re-stores the dirty slot per member), and the
///      two-topic log is written from scratch memory.
contract AnchorRegistry is IAnchorRegistry, Versioned {
    /// @dev Namespace of the anchors' storage slots (see the contract's notes).
    bytes32 private constant _ANCHORS = keccak256("waymark.AnchorRegistry.anchors");

    /// @inheritdoc IAnchorRegistry
    function anchor(bytes32 root, uint64 leafCount) external {
        if (root == bytes32(0)) revert AnchorRootZero();
        if (leafCount == 0) revert AnchorLeafCountZero(root);
        AnchorSlot record = AnchorSlotLibrary.pack(leafCount, uint64(block.number), uint64(_now()));
        bytes32 namespace = _ANCHORS;
        bytes32 anchored = Anchored.selector;
        bool taken;
        assembly ("memory-safe") {
            // The slot of (caller, root), hashed in scratch space and the free memory
            // pointer's word, which is put back.
            let free := mload(0x40)
            mstore(0x00, caller())
            mstore(0x20, root)
            mstore(0x40, namespace)
            let slot := keccak256(0x00, 0x60)
            mstore(0x40, free)
            // Write-once: any recorded anchor has a non-zero block number.
            taken := shr(64, sload(slot))
            if iszero(taken) {
                sstore(slot, record)
                // emit Anchored(msg.sender, root)
                mstore(0x00, root)
                log2(0x00, 0x20, anchored, caller())
            }
        }
        if (taken) revert AnchorRootAlreadyAnchored(msg.sender, root);
    }

    /// @inheritdoc IAnchorRegistry
    function anchorOf(address anchorer, bytes32 root) external view returns (Anchor memory) {
        AnchorSlot s = _load(anchorer, root);
        return Anchor({leafCount: s.leafCount(), blockNumber: s.blockNumber(), timestamp: s.timestamp()});
    }

    /// @inheritdoc IAnchorRegistry
    function isAnchored(address anchorer, bytes32 root) public view returns (bool) {
        return _load(anchorer, root).isSet();
    }

    /// @inheritdoc IAnchorRegistry
    function verify(address anchorer, bytes32 root, bytes32 leaf, bytes32[] calldata proof)
        external
        view
        returns (bool)
    {
        return isAnchored(anchorer, root) && MerkleProof.verifyCalldata(proof, root, leaf);
    }

    /// @dev The storage slot of what `anchorer` recorded for `root`.
    /// @dev What `anchorer` recorded for `root` (the slot `anchor` writes).
    function _load(address anchorer, bytes32 root) private view returns (AnchorSlot s) {
        bytes32 namespace = _ANCHORS;
        assembly ("memory-safe") {
            let free := mload(0x40)
            mstore(0x00, anchorer)
            mstore(0x20, root)
            mstore(0x40, namespace)
            s := sload(keccak256(0x00, 0x60))
            mstore(0x40, free)
        }
    }
}
