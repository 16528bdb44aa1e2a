// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

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
///      `release` reads the lender's shipment through {IShipmentDelivery}: it must be DELIVERED with
///      `deliveredAt <= neededBy + gracePeriod`. `refund` is open once that deadline passed without
///      such a delivery. Payouts are pull payments ({withdraw}).
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
    /// @notice Rejected request. `reason`: 0 zero quantity, 1 neededBy not in the future,
    ///         2 cash terms without a maximum price or with a return date, 3 in-kind terms with
    ///         a price or a return date not after neededBy.
    error StockRequestInvalid(uint256 reason);
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
    /// @notice No shipment is linked for this leg yet.
    error StockShipmentNotLinked(uint256 requestId);
    /// @notice The linked shipment has no DELIVERED milestone.
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

    /// @notice The lender links the shipment that carries the stock (its seller must be the lender).
    function linkShipment(uint256 requestId, bytes32 shipmentId) external;

    /// @notice Anyone completes the transfer once the linked shipment is DELIVERED in time.
    function release(uint256 requestId) external;

    /// @notice The requester confirms receipt, completing the transfer without a milestone.
    function confirmReceipt(uint256 requestId) external;

    /// @notice Anyone returns the escrow to the requester once `neededBy + gracePeriod` passed
    ///         without a timely delivery.
    function refund(uint256 requestId) external;

    /// @notice The requester links the shipment returning in-kind stock (its seller must be the requester).
    function linkReturnShipment(uint256 requestId, bytes32 shipmentId) external;

    /// @notice Anyone closes an in-kind obligation once the return shipment is DELIVERED.
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
