// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @notice The one storage word every milestone reads and rewrites (Uniswap v4 `Slot0` style):
///
///      bits   0..159  custodian        party holding the goods (zero before pickup / after delivery)
///      bits 160..167  status           {IShipmentRegistry-Status} (0: unknown shipment)
///      bits 168..175  custodianRoles   the custodian's role bits on this shipment
///      bits 176..207  historyLength    number of history entries (milestones and corrections)
///      bits 208..247  lastWeightGrams  last measured gross weight (0: none yet)
///      bits 248..253  slaMask          bit i: SLA deadline i is set (milestones without one
///                                      skip reading the plan slot)
///
/// A milestone costs one SLOAD and one SSTORE for it; getters and setters name every field.
type ShipmentState is uint256;

using ShipmentStateLibrary for ShipmentState global;

/// @title ShipmentStateLibrary
/// @notice Named getters and setters of {ShipmentState}.
library ShipmentStateLibrary {
    uint256 internal constant STATUS_OFFSET = 160;
    uint256 internal constant CUSTODIAN_ROLES_OFFSET = 168;
    uint256 internal constant HISTORY_LENGTH_OFFSET = 176;
    uint256 internal constant LAST_WEIGHT_OFFSET = 208;
    uint256 internal constant SLA_MASK_OFFSET = 248;

    uint256 private constant _MASK_160 = (1 << 160) - 1;
    uint256 private constant _MASK_8 = 0xFF;
    uint256 private constant _MASK_32 = 0xFFFFFFFF;
    uint256 private constant _MASK_40 = 0xFFFFFFFFFF;

    /// @notice A new shipment's state: `status`, the SLA mask, nothing else.
    function initial(uint8 status_, uint8 slaMask_) internal pure returns (ShipmentState) {
        return ShipmentState.wrap((uint256(status_) << STATUS_OFFSET) | (uint256(slaMask_) << SLA_MASK_OFFSET));
    }

    function custodian(ShipmentState s) internal pure returns (address) {
        return address(uint160(ShipmentState.unwrap(s)));
    }

    function status(ShipmentState s) internal pure returns (uint8) {
        return uint8(ShipmentState.unwrap(s) >> STATUS_OFFSET);
    }

    function custodianRoles(ShipmentState s) internal pure returns (uint8) {
        return uint8(ShipmentState.unwrap(s) >> CUSTODIAN_ROLES_OFFSET);
    }

    function historyLength(ShipmentState s) internal pure returns (uint32) {
        return uint32(ShipmentState.unwrap(s) >> HISTORY_LENGTH_OFFSET);
    }

    function lastWeightGrams(ShipmentState s) internal pure returns (uint40) {
        return uint40(ShipmentState.unwrap(s) >> LAST_WEIGHT_OFFSET);
    }

    function slaMask(ShipmentState s) internal pure returns (uint8) {
        return uint8(ShipmentState.unwrap(s) >> SLA_MASK_OFFSET);
    }

    /// @notice The state with `who` (holding `roles` on the shipment) as custodian.
    function withCustodian(ShipmentState s, address who, uint8 roles) internal pure returns (ShipmentState) {
        uint256 word = ShipmentState.unwrap(s) & ~(_MASK_160 | (_MASK_8 << CUSTODIAN_ROLES_OFFSET));
        return ShipmentState.wrap(word | uint256(uint160(who)) | (uint256(roles) << CUSTODIAN_ROLES_OFFSET));
    }

    function withStatus(ShipmentState s, uint8 status_) internal pure returns (ShipmentState) {
        uint256 word = ShipmentState.unwrap(s) & ~(_MASK_8 << STATUS_OFFSET);
        return ShipmentState.wrap(word | (uint256(status_) << STATUS_OFFSET));
    }

    function withHistoryLength(ShipmentState s, uint32 length) internal pure returns (ShipmentState) {
        uint256 word = ShipmentState.unwrap(s) & ~(_MASK_32 << HISTORY_LENGTH_OFFSET);
        return ShipmentState.wrap(word | (uint256(length) << HISTORY_LENGTH_OFFSET));
    }

    function withLastWeightGrams(ShipmentState s, uint40 grams) internal pure returns (ShipmentState) {
        uint256 word = ShipmentState.unwrap(s) & ~(_MASK_40 << LAST_WEIGHT_OFFSET);
        return ShipmentState.wrap(word | (uint256(grams) << LAST_WEIGHT_OFFSET));
    }
}
