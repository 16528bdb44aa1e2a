// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

/// @title SignatureRule
/// @notice The one signature acceptance rule of every Waymark contract.
/// @dev Same acceptance rule as OpenZeppelin's `SignatureChecker.isValidSignatureNow`
///      (ECDSA via `ECDSA.tryRecover`: 65 bytes, v in {27, 28}, low-s, non-zero
///      result; otherwise ERC-1271 for accounts with code), evaluated ECDSA-first: a
///      valid EOA signature never pays the cold EXTCODESIZE (2 600 gas) on the signer
///      that `isValidSignatureNow` starts with. The one behavioural difference: an
///      EIP-7702 account is also accepted with its own key's signature.
library SignatureRule {
    /// @notice Whether `signature` is `signer`'s over `digest` (EOA or ERC-1271 wallet).
    function isValidNow(address signer, bytes32 digest, bytes calldata signature) internal view returns (bool) {
        if (signature.length == 65) {
            bytes32 r = bytes32(signature[0:32]);
            bytes32 s = bytes32(signature[32:64]);
            // The third value only elaborates `err`; any error falls through to ERC-1271 below.
            // slither-disable-next-line unused-return
            (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, uint8(signature[64]), r, s);
            if (err == ECDSA.RecoverError.NoError && recovered == signer) return true;
        }
        return signer.code.length != 0 && SignatureChecker.isValidERC1271SignatureNow(signer, digest, signature);
    }
}
