// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IShipmentDelivery
/// @notice The narrow view other contracts (e.g. EmergencyStockTransfer) use to
///         learn whether a shipment reached its consignee.
interface IShipmentDelivery {
    /// @notice Delivery facts of `shipmentId`.
    /// @return seller The shipment's seller (shipper of record); zero if unknown.
    /// @return delivered Whether a DELIVERED milestone has been recorded.
    /// @return deliveredAt The signed `occurredAt` of that milestone (0 if not delivered).
    function deliveryOf(bytes32 shipmentId)
        external
        view
        returns (address seller, bool delivered, uint64 deliveredAt);
}
