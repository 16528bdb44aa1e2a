// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IProofOfDelivery} from "./IProofOfDelivery.sol";

/// @title IEmergencyStockTransfer
/// @notice Alliance members lend each other stock in an emergency and settle in cash (escrowed on
///         acceptance, released on delivery) or in kind (an obligation closed by a return shipment).
/// @dev Lifecycle of a request:
///
///          Open --acceptOffer--> Accepted --release / confirmReceipt--> Settled        (cash)
///                                         --release / confirmReceipt--> Outstanding   (in kind)
///                                         --refund (after neededBy + grace)--> Refunded
///          Open --cancelRequest--> Cancelled
///          Outstanding --closeReturn / confirmReturn--> Returned
///
///      `release` reads the lender's shipment through {IProofOfDelivery}. The linked shipment must
///      be sent by the lender, consigned to the requester, created at or after acceptance and
///      linked to no other request or leg; it releases once the requester signed its delivery in
///      good order (the registry's proof of delivery) at a time between acceptance and
///      `neededBy + gracePeriod`. A damaged or refused delivery releases nothing automatically:
///      the requester may still {confirmReceipt}. `refund` is open once that deadline passed
///      without such a delivery. The in-kind return leg follows the same rules with the roles
///      swapped (sent by the requester, consigned to the lender, created at or after the
///      obligation opened). Payouts are pull payments ({withdraw}).
///
///      Invariant (tested): `token.balanceOf(this) == Σ escrow + Σ withdrawable` ({totalLiabilities}).
interface IEmergencyStockTransfer {
    /// @notice How the requester pays for the stock.
    enum Terms {
        Cash,
        InKind
    }

    enum Status {
        None,
        Open,
        Accepted,
        Settled,
        Outstanding,
        Returned,
        Refunded,
        Cancelled
    }

    /// @notice What a requester asks for.
    /// @param gtin GTIN-14 of the item, as a number.
    /// @param quantity Units needed.
    /// @param destination UN/LOCODE of the delivery place (5 ASCII bytes, e.g. "NLRTM").
    /// @param neededBy Unix time the stock is needed by.
    /// @param terms Cash (price per unit up to `maxPricePerUnit`) or in kind (returned by `returnBy`).
    /// @param maxPricePerUnit Highest acceptable unit price (cash terms; 0 for in kind).
    /// @param returnBy When the in-kind return is due (0 for cash).
    struct StockRequest {
        uint64 gtin;
        uint32 quantity;
        bytes5 destination;
        uint64 neededBy;
        Terms terms;
        uint128 maxPricePerUnit;
        uint64 returnBy;
    }

    /// @notice A request and, once accepted, its transfer.
    struct Transfer {
        StockRequest request;
        address requester;
        Status status;
        address lender;
        uint128 pricePerUnit;
        uint128 escrow;
        uint32 offerCount;
        bytes32 shipmentId;
        bytes32 returnShipmentId;
        uint64 acceptedAt;
        uint64 outstandingAt;
    }

    /// @notice A lender's offer on a request.
    struct Offer {
        address lender;
        uint128 pricePerUnit;
    }

    event StockRequested(
        uint256 indexed requestId, address indexed requester, uint64 indexed gtin, uint32 quantity, Terms terms
    );
    event RequestCancelled(uint256 indexed requestId);
    event StockOffered(uint256 indexed requestId, uint256 indexed offerId, address indexed lender, uint128 pricePerUnit);
    event OfferAccepted(uint256 indexed requestId, uint256 indexed offerId, address indexed lender, uint256 escrow);
    event ShipmentLinked(uint256 indexed requestId, bytes32 indexed shipmentId, bool isReturn);
    event TransferReleased(uint256 indexed requestId, address indexed lender, uint256 amount, bool byConfirmation);
    event ObligationOpened(
        uint256 indexed requestId, address indexed debtor, address indexed creditor, uint64 gtin, uint32 quantity
    );
    event ObligationClosed(uint256 indexed requestId, address indexed debtor, address indexed creditor, bool byConfirmation);
    event TransferRefunded(uint256 indexed requestId, address indexed requester, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);

    /// @notice `account` lacks MEMBER_ROLE.
    error StockNotMember(address account);
    /// @notice No request has this id.
    error StockRequestUnknown(uint256 requestId);
    /// @notice The request asks for a quantity of zero.
    error StockQuantityZero();
    /// @notice `neededBy` is not after the block time `now`.
    error StockNeededByNotInFuture(uint64 neededBy, uint256 now);
    /// @notice Cash terms need a maximum unit price and no return date.
    error StockCashTermsInvalid(uint128 maxPricePerUnit, uint64 returnBy);
    /// @notice In-kind terms carry no price and a return date after `neededBy`.
    error StockInKindTermsInvalid(uint128 maxPricePerUnit, uint64 returnBy, uint64 neededBy);
    /// @notice The request is in `actual`, this step needs `expected`.
    error StockStatusInvalid(uint256 requestId, Status expected, Status actual);
    /// @notice The request has no offer with this id.
    error StockOfferUnknown(uint256 requestId, uint256 offerId);
    /// @notice The offered unit price exceeds the requester's maximum.
    error StockPriceTooHigh(uint256 requestId, uint128 offered, uint128 maximum);
    /// @notice In-kind loans carry no price.
    error StockPriceNotZero(uint256 requestId, uint128 offered);
    /// @notice A requester cannot lend to itself.
    error StockSelfOffer(uint256 requestId, address account);
    /// @notice Only the requester may take this step.
    error StockNotRequester(uint256 requestId, address account);
    /// @notice Only the accepted lender may take this step.
    error StockNotLender(uint256 requestId, address account);
    /// @notice A shipment is already linked for this leg.
    error StockShipmentAlreadyLinked(uint256 requestId, bytes32 shipmentId);
    /// @notice The shipment's seller of record is `actual`, not the shipping member.
    error StockShipmentSellerMismatch(bytes32 shipmentId, address expected, address actual);
    /// @notice The shipment is consigned to `actual`, not to the member receiving this leg.
    error StockShipmentConsigneeMismatch(bytes32 shipmentId, address expected, address actual);
    /// @notice The shipment was created at `createdAt`, before this leg's obligation began at `since`.
    error StockShipmentPredatesObligation(uint256 requestId, bytes32 shipmentId, uint64 createdAt, uint64 since);
    /// @notice The shipment already settles request `requestId` (either leg).
    error StockShipmentAlreadyUsed(bytes32 shipmentId, uint256 requestId);
    /// @notice The consignee signed the delivery as damaged or refused it (`condition`).
    error StockDeliveryNotAccepted(
        uint256 requestId, bytes32 shipmentId, IProofOfDelivery.DeliveryCondition condition
    );
    /// @notice The signed delivery time `deliveredAt` is before this leg's obligation began at `since`.
    error StockDeliveredBeforeObligation(uint256 requestId, uint64 deliveredAt, uint64 since);
    /// @notice No shipment is linked for this leg yet.
    error StockShipmentNotLinked(uint256 requestId);
    /// @notice The linked shipment has no proof of delivery yet.
    error StockNotDelivered(uint256 requestId, bytes32 shipmentId);
    /// @notice Delivered after `deadline` (neededBy + grace): no automatic release.
    error StockDeliveredLate(uint256 requestId, uint64 deliveredAt, uint256 deadline);
    /// @notice The stock was delivered in time: release it, do not refund.
    error StockDeliveredInTime(uint256 requestId, bytes32 shipmentId);
    /// @notice The escrow becomes refundable at `refundableAt`.
    error StockRefundTooEarly(uint256 requestId, uint256 refundableAt);
    /// @notice The token delivered a different amount than requested (fee-on-transfer tokens).
    error StockTokenTransferMismatch(address token, uint256 expected, uint256 received);
    /// @notice Nothing is credited to `account`.
    error StockNothingToWithdraw(address account);

    /// @notice A member asks for stock.
    function requestStock(StockRequest calldata request) external returns (uint256 requestId);

    /// @notice The requester withdraws an open request.
    function cancelRequest(uint256 requestId) external;

    /// @notice Another member offers the stock; cash offers name a unit price <= the maximum.
    function offer(uint256 requestId, uint128 pricePerUnit) external returns (uint256 offerId);

    /// @notice The requester accepts one offer; cash terms pull `quantity * price` into escrow.
    function acceptOffer(uint256 requestId, uint256 offerId) external;

    /// @notice The lender links the shipment that carries the stock: sent by the lender, consigned
    ///         to the requester, created at or after acceptance, not linked anywhere else.
    function linkShipment(uint256 requestId, bytes32 shipmentId) external;

    /// @notice Anyone completes the transfer once the requester signed the linked shipment's
    ///         delivery in good order, after acceptance and by `neededBy + gracePeriod`.
    function release(uint256 requestId) external;

    /// @notice The requester confirms receipt, completing the transfer without a milestone.
    function confirmReceipt(uint256 requestId) external;

    /// @notice Anyone returns the escrow to the requester once `neededBy + gracePeriod` passed
    ///         without a timely delivery.
    function refund(uint256 requestId) external;

    /// @notice The requester links the shipment returning in-kind stock: sent by the requester,
    ///         consigned to the lender, created at or after the obligation opened, not linked elsewhere.
    function linkReturnShipment(uint256 requestId, bytes32 shipmentId) external;

    /// @notice Anyone closes an in-kind obligation once the lender signed the return shipment's
    ///         delivery in good order, after the obligation opened.
    function closeReturn(uint256 requestId) external;

    /// @notice The lender confirms the return, closing the obligation without a milestone.
    function confirmReturn(uint256 requestId) external;

    /// @notice Withdraw everything credited to the caller.
    function withdraw() external;

    function transferOf(uint256 requestId) external view returns (Transfer memory);
    function offerOf(uint256 requestId, uint256 offerId) external view returns (Offer memory);
    function withdrawableOf(address account) external view returns (uint256);

    /// @notice Units of `gtin` that `debtor` owes `creditor` on outstanding in-kind loans.
    function unitsOwed(address debtor, address creditor, uint64 gtin) external view returns (uint256);

    /// @notice Cash `debtor` has committed to `creditor` in escrow, not yet released or refunded.
    function amountOwed(address debtor, address creditor) external view returns (uint256);

    /// @notice What `a` owes `b` net of what `b` owes `a` (negative: `b` owes `a`).
    function netPosition(address a, address b, uint64 gtin) external view returns (int256 units, int256 amount);

    /// @notice Σ escrow + Σ withdrawable; equals the token balance of this contract.
    function totalLiabilities() external view returns (uint256);

    function requestCount() external view returns (uint256);
}
