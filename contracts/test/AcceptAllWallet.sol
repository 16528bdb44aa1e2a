// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";

/// @title AcceptAllWallet
/// @notice Hostile ERC-1271 wallet for tests: it answers the magic value for every
///         hash and signature. Its answers may make it speak for itself, never for
///         another address.
contract AcceptAllWallet is IERC1271 {
    /// @inheritdoc IERC1271
    function isValidSignature(bytes32, bytes calldata) external pure returns (bytes4) {
        return IERC1271.isValidSignature.selector;
    }
}
