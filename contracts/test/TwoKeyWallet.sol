// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @title TwoKeyWallet
/// @notice Test-only 2-of-2 ERC-1271 wallet: a signature is both keys' ECDSA signatures
///         over the hash, first key's then second key's (130 bytes), as a multi-owner
///         wallet's signatures are longer than one key's.
contract TwoKeyWallet is IERC1271 {
    address public immutable first;
    address public immutable second;

    constructor(address first_, address second_) {
        first = first_;
        second = second_;
    }

    /// @inheritdoc IERC1271
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        if (signature.length != 130) return 0xffffffff;
        (address a, ECDSA.RecoverError errA,) = ECDSA.tryRecover(hash, signature[0:65]);
        (address b, ECDSA.RecoverError errB,) = ECDSA.tryRecover(hash, signature[65:130]);
        bool ok = errA == ECDSA.RecoverError.NoError && errB == ECDSA.RecoverError.NoError;
        if (ok && a == first && b == second) return IERC1271.isValidSignature.selector;
        return 0xffffffff;
    }
}
