// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @title OwnedSigningWallet
/// @notice Minimal ERC-1271 contract wallet for tests: a signature is valid when
///         it is the owner's ECDSA signature over the hash. The owner can rotate
///         the key, which revokes every signature made with the old one.
contract OwnedSigningWallet is IERC1271 {
    error OwnedSigningWalletNotOwner(address caller);

    address public owner;

    constructor(address initialOwner) {
        owner = initialOwner;
    }

    function setOwner(address newOwner) external {
        if (msg.sender != owner) revert OwnedSigningWalletNotOwner(msg.sender);
        owner = newOwner;
    }

    /// @inheritdoc IERC1271
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecover(hash, signature);
        if (err == ECDSA.RecoverError.NoError && recovered == owner) return IERC1271.isValidSignature.selector;
        return 0xffffffff;
    }
}
