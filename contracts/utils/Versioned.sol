// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Versioned
/// @notice What every Waymark contract repeats: the release version (also the
///         EIP-712 domain version of contracts that verify signatures) and the clock
///         seam. The contract set is released and deployed together, so one version
///         names the whole set (EAS `Semver` + `_time()`).
abstract contract Versioned {
    /// @notice Version of the contract set this deployment belongs to; also the
    ///         EIP-712 domain version. EIP-712 domain names are `"Waymark " + contract name`.
    string public constant VERSION = "2.0.0";

    /// @dev Clock seam: every contract reads time here, so test harnesses can pin it.
    function _now() internal view virtual returns (uint256) {
        return block.timestamp;
    }
}
