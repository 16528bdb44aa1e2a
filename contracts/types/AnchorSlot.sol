// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @notice What `AnchorRegistry` stores per (anchorer, root), one word written once
///         (Uniswap v4 `Slot0` style):
///
///      bits   0..63   leafCount    leaves in the tree the root commits to
///      bits  64..127  blockNumber  block of the anchor (0: not anchored)
///      bits 128..191  timestamp    block time of the anchor
///
/// The same layout the compiler gives {IAnchorRegistry-Anchor}, written with one SSTORE
/// (a struct assignment writes each member in turn, re-storing the dirty slot).
type AnchorSlot is uint256;

using AnchorSlotLibrary for AnchorSlot global;

/// @title AnchorSlotLibrary
/// @notice Named packing and getters of {AnchorSlot}.
library AnchorSlotLibrary {
    uint256 internal constant BLOCK_NUMBER_OFFSET = 64;
    uint256 internal constant TIMESTAMP_OFFSET = 128;

    /// @notice The word of an anchor of `leafCount_` leaves in block `blockNumber_` at `timestamp_`.
    function pack(uint64 leafCount_, uint64 blockNumber_, uint64 timestamp_) internal pure returns (AnchorSlot) {
        return AnchorSlot.wrap(
            uint256(leafCount_) | (uint256(blockNumber_) << BLOCK_NUMBER_OFFSET)
                | (uint256(timestamp_) << TIMESTAMP_OFFSET)
        );
    }

    function leafCount(AnchorSlot s) internal pure returns (uint64) {
        return uint64(AnchorSlot.unwrap(s));
    }

    function blockNumber(AnchorSlot s) internal pure returns (uint64) {
        return uint64(AnchorSlot.unwrap(s) >> BLOCK_NUMBER_OFFSET);
    }

    function timestamp(AnchorSlot s) internal pure returns (uint64) {
        return uint64(AnchorSlot.unwrap(s) >> TIMESTAMP_OFFSET);
    }

    /// @notice Whether the word records an anchor (every anchor has a non-zero block).
    function isSet(AnchorSlot s) internal pure returns (bool) {
        return AnchorSlot.unwrap(s) >> BLOCK_NUMBER_OFFSET != 0;
    }
}
