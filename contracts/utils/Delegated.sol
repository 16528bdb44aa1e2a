// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {Versioned} from "./Versioned.sol";

/// @title Delegated
/// @notice What every Waymark contract that acts on a signer's behalf shares: one EIP-712
///         domain naming scheme (`name = "Waymark " + contract name`, `version = VERSION`,
///         readable through `eip712Domain()`), one per-signer nonce sequence (OZ `Nonces`)
///         and the {Versioned} clock. Signatures are accepted by {SignatureRule} alone.
/// @dev Entry points follow one convention (docs/shipments.md "One delegated-call
///      convention"): `fooWithSig`, over a struct naming the signer, its nonce and a deadline.
abstract contract Delegated is EIP712, Nonces, Versioned {
    /// @param contractName The contract's name; the domain name is `"Waymark " + contractName`.
    constructor(string memory contractName) EIP712(string.concat("Waymark ", contractName), VERSION) {}
}
