// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IShipmentRegistry} from "../interfaces/IShipmentRegistry.sol";

/// @title GasFloorRecorder
/// @notice Benchmark floor: takes the same calldata as ShipmentRegistry's
///         milestone functions, computes the same EIP-712 digest, runs one bare
///         `ecrecover` and emits the fields. No state, no checks: what any
///         verify-and-log design costs at least.
contract GasFloorRecorder {
    event Recorded(
        bytes32 indexed shipmentId,
        uint8 indexed milestone,
        address indexed signer,
        uint64 occurredAt,
        bytes5 location,
        uint64 measuredWeightGrams,
        bytes32 evidenceHash,
        uint16 reasonCode,
        bytes32 recordHash
    );

    bytes32 private constant _MILESTONE_TYPEHASH = keccak256(
        "Milestone(bytes32 shipmentId,uint8 milestone,uint16 reasonCode,uint64 occurredAt,bytes5 location,"
        "uint64 measuredWeightGrams,bytes32 evidenceHash,address signer,address counterparty,uint256 nonce,"
        "uint256 deadline)"
    );
    bytes32 private immutable _DOMAIN_SEPARATOR;

    constructor() {
        _DOMAIN_SEPARATOR = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("GasFloorRecorder"),
                keccak256("1"),
                block.chainid,
                address(this)
            )
        );
    }

    function recordMilestone(IShipmentRegistry.Milestone calldata m, bytes calldata signature) external {
        _record(m, signature);
    }

    function recordMilestones(IShipmentRegistry.SignedMilestone[] calldata items) external {
        for (uint256 i; i < items.length; ++i) {
            _record(items[i].milestone, items[i].signature);
        }
    }

    function _record(IShipmentRegistry.Milestone calldata m, bytes calldata signature) private {
        bytes32 recordHash = keccak256(abi.encode(_MILESTONE_TYPEHASH, m));
        bytes32 digest = keccak256(abi.encodePacked("\x19\x01", _DOMAIN_SEPARATOR, recordHash));
        bytes32 r = bytes32(signature[0:32]);
        bytes32 s = bytes32(signature[32:64]);
        address signer = ecrecover(digest, uint8(signature[64]), r, s);
        emit Recorded(
            m.shipmentId,
            m.milestone,
            signer,
            m.occurredAt,
            m.location,
            m.measuredWeightGrams,
            m.evidenceHash,
            m.reasonCode,
            recordHash
        );
    }
}
