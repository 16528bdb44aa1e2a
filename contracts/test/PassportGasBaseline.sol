// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title PassportGasBaseline
/// @notice Bench baseline: the least a registry write can cost, one bytes32 slot and one event.
contract PassportGasBaseline {
    mapping(bytes32 key => bytes32 value) private _values;

    event Stored(bytes32 indexed key, bytes32 value);

    function store(bytes32 key, bytes32 value) external {
        _values[key] = value;
        emit Stored(key, value);
    }
}
