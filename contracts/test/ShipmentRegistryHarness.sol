// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {ShipmentRegistry} from "../ShipmentRegistry.sol";

/// @title ShipmentRegistryHarness
/// @notice ShipmentRegistry with a settable clock through the `_now()` seam, so tests
///         can pin the time a transaction sees (e.g. a deadline exactly equal to it).
contract ShipmentRegistryHarness is ShipmentRegistry {
    uint256 private _clock;

    /// @notice Pin `_now()` to `timestamp`; 0 returns to `block.timestamp`.
    function setNow(uint256 timestamp) external {
        _clock = timestamp;
    }

    function _now() internal view override returns (uint256) {
        return _clock == 0 ? block.timestamp : _clock;
    }
}
