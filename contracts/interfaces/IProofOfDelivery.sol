// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IProofOfDelivery
/// @notice What a shipment registry proves about a delivery, for contracts that pay on it
///         (EmergencyStockTransfer, DeliveryAgreement).
/// @dev A shipment names its consignee at creation. DELIVERED is recorded only with the
///      consignee's co-signature (an electronic proof of delivery) stating the condition of
///      the goods; the consignee may instead sign a refusal. Contracts paying on a delivery
///      check `consignee` (who received), `createdAt` (the shipment is not older than the
///      obligation it settles) and `condition` (clean, damaged or refused).
interface IProofOfDelivery {
    /// @notice The consignee's statement at the door.
    /// @dev None: no proof of delivery yet. Accepted: received in good order. Damaged:
    ///      received with a damage exception. Refused: not accepted; the goods stay with the carrier.
    enum DeliveryCondition {
        None,
        Accepted,
        Damaged,
        Refused
    }

    /// @notice Delivery facts of one shipment.
    /// @param seller Shipper of record (zero: unknown shipment).
    /// @param consignee Receiving party named in the shipment's terms.
    /// @param createdAt Block time of the shipment's creation.
    /// @param status The registry's status value (Delivered = 10, Lost = 12).
    /// @param condition The consignee's statement; None until DELIVERED or a refusal is recorded.
    /// @param conditionAt Signed time of that statement (`occurredAt` of the delivery attempt).
    /// @param declaredWeightGrams Weight declared at creation.
    /// @param lastMeasuredWeightGrams Last weight measured on the way (the delivery weighing if
    ///        the DELIVERED milestone carried one); 0 if never weighed.
    /// @param weightToleranceBps Tolerance of the shipment's terms, basis points.
    struct DeliveryFacts {
        address seller;
        address consignee;
        uint64 createdAt;
        uint8 status;
        DeliveryCondition condition;
        uint64 conditionAt;
        uint64 declaredWeightGrams;
        uint64 lastMeasuredWeightGrams;
        uint16 weightToleranceBps;
    }

    /// @notice Delivery facts of `shipmentId` (all zero if unknown).
    function deliveryFacts(bytes32 shipmentId) external view returns (DeliveryFacts memory);
}
