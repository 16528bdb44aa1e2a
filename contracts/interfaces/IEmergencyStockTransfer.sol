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

    error StockNotMember(address account);
    error StockRequestUnknown(uint256 requestId);
    error StockRequestInvalid(uint256 reason);
    error StockStatusInvalid(uint256 requestId, Status expected, Status actual);
    error StockOfferUnknown(uint256 requestId, uint256 offerId);
    error StockPriceTooHigh(uint256 requestId, uint128 offered, uint128 maximum);
    error StockPriceNotZero(uint256 requestId, uint128 offered);
    error StockSelfOffer(uint256 requestId, address account);
    error StockNotRequester(uint256 requestId, address account);
    error StockNotLender(uint256 requestId, address account);
    error StockShipmentAlreadyLinked(uint256 requestId, bytes32 shipmentId);
    error StockShipmentSellerMismatch(bytes32 shipmentId, address expected, address actual);
    error StockShipmentNotLinked(uint256 requestId);
    error StockNotDelivered(uint256 requestId, bytes32 shipmentId);
    error StockDeliveredLate(uint256 requestId, uint64 deliveredAt, uint256 deadline);
    error StockDeliveredInTime(uint256 requestId, bytes32 shipmentId);
    error StockRefundTooEarly(uint256 requestId, uint256 refundableAt);
    error StockTokenTransferMismatch(address token, uint256 expected, uint256 received);
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
