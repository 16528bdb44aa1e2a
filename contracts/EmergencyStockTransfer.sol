// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IEmergencyStockTransfer} from "./interfaces/IEmergencyStockTransfer.sol";
import {IProofOfDelivery} from "./interfaces/IProofOfDelivery.sol";
import {Versioned} from "./utils/Versioned.sol";

/// @title EmergencyStockTransfer
/// @notice Stock lending between alliance members with escrowed cash or in-kind settlement.
/// @dev Membership is this contract's own MEMBER_ROLE (granted by the admin), independent of any
///      CapacityPool: an alliance may lend stock without sharing a factory. One settlement token
///      per deployment; delivery facts come from the ShipmentRegistry through IProofOfDelivery:
///      only a shipment consigned to the receiving member, created after the obligation began and
///      delivered with that member's proof of delivery settles it, and a shipment settles one
///      obligation only.
contract EmergencyStockTransfer is IEmergencyStockTransfer, AccessControl, ReentrancyGuard, Versioned {
    using SafeERC20 for IERC20;


    /// @notice Role of alliance members allowed to request and offer stock.
    bytes32 public constant MEMBER_ROLE = keccak256("MEMBER_ROLE");

    /// @notice Settlement token of every cash transfer.
    IERC20 public immutable token;

    /// @notice Source of proofs of delivery (the ShipmentRegistry).
    IProofOfDelivery public immutable shipments;

    /// @notice Seconds after `neededBy` a delivery still counts before the escrow becomes refundable.
    uint64 public immutable gracePeriod;

    uint256 private _requestCount;
    uint256 private _liabilities;
    mapping(uint256 requestId => Transfer) private _transfers;
    mapping(uint256 requestId => mapping(uint256 offerId => Offer)) private _offers;
    mapping(address account => uint256) private _withdrawable;
    mapping(address debtor => mapping(address creditor => mapping(uint64 gtin => uint256))) private _unitsOwed;
    mapping(address debtor => mapping(address creditor => uint256)) private _amountOwed;
    mapping(bytes32 shipmentId => uint256 requestId) private _linkedTo;

    constructor(address admin, IERC20 settlementToken, IProofOfDelivery shipmentDelivery, uint64 grace) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        token = settlementToken;
        shipments = shipmentDelivery;
        gracePeriod = grace;
    }

    modifier onlyMember() {
        if (!hasRole(MEMBER_ROLE, msg.sender)) revert StockNotMember(msg.sender);
        _;
    }

    /// @inheritdoc IEmergencyStockTransfer
    function requestStock(StockRequest calldata request) external onlyMember returns (uint256 requestId) {
        if (request.quantity == 0) revert StockQuantityZero();
        if (request.neededBy <= _now()) revert StockNeededByNotInFuture(request.neededBy, _now());
        if (request.terms == Terms.Cash) {
            if (request.maxPricePerUnit == 0 || request.returnBy != 0) {
                revert StockCashTermsInvalid(request.maxPricePerUnit, request.returnBy);
            }
        } else if (request.maxPricePerUnit != 0 || request.returnBy <= request.neededBy) {
            revert StockInKindTermsInvalid(request.maxPricePerUnit, request.returnBy, request.neededBy);
        }
        requestId = ++_requestCount;
        Transfer storage t = _transfers[requestId];
        t.request = request;
        t.requester = msg.sender;
        t.status = Status.Open;
        emit StockRequested(requestId, msg.sender, request.gtin, request.quantity, request.terms);
    }

    /// @inheritdoc IEmergencyStockTransfer
    function cancelRequest(uint256 requestId) external {
        Transfer storage t = _inStatus(requestId, Status.Open);
        if (t.requester != msg.sender) revert StockNotRequester(requestId, msg.sender);
        t.status = Status.Cancelled;
        emit RequestCancelled(requestId);
    }

    /// @inheritdoc IEmergencyStockTransfer
    function offer(uint256 requestId, uint128 pricePerUnit) external onlyMember returns (uint256 offerId) {
        Transfer storage t = _inStatus(requestId, Status.Open);
        if (t.requester == msg.sender) revert StockSelfOffer(requestId, msg.sender);
        if (t.request.terms == Terms.Cash) {
            if (pricePerUnit > t.request.maxPricePerUnit) {
                revert StockPriceTooHigh(requestId, pricePerUnit, t.request.maxPricePerUnit);
            }
        } else if (pricePerUnit != 0) {
            revert StockPriceNotZero(requestId, pricePerUnit);
        }
        offerId = ++t.offerCount;
        _offers[requestId][offerId] = Offer({lender: msg.sender, pricePerUnit: pricePerUnit});
        emit StockOffered(requestId, offerId, msg.sender, pricePerUnit);
    }

    /// @inheritdoc IEmergencyStockTransfer
    function acceptOffer(uint256 requestId, uint256 offerId) external nonReentrant {
        Transfer storage t = _inStatus(requestId, Status.Open);
        if (t.requester != msg.sender) revert StockNotRequester(requestId, msg.sender);
        Offer memory chosen = _offers[requestId][offerId];
        if (chosen.lender == address(0)) revert StockOfferUnknown(requestId, offerId);
        uint256 escrow = uint256(chosen.pricePerUnit) * t.request.quantity;
        t.status = Status.Accepted;
        t.lender = chosen.lender;
        t.pricePerUnit = chosen.pricePerUnit;
        t.escrow = uint128(escrow);
        t.acceptedAt = uint64(_now());
        if (escrow != 0) {
            _amountOwed[msg.sender][chosen.lender] += escrow;
            _liabilities += escrow;
        }
        emit OfferAccepted(requestId, offerId, chosen.lender, escrow);
        if (escrow != 0) {
            uint256 before = token.balanceOf(address(this));
            token.safeTransferFrom(msg.sender, address(this), escrow);
            uint256 received = token.balanceOf(address(this)) - before;
            if (received != escrow) revert StockTokenTransferMismatch(address(token), escrow, received);
        }
    }

    /// @inheritdoc IEmergencyStockTransfer
    function linkShipment(uint256 requestId, bytes32 shipmentId) external {
        Transfer storage t = _inStatus(requestId, Status.Accepted);
        if (t.lender != msg.sender) revert StockNotLender(requestId, msg.sender);
        if (t.shipmentId != bytes32(0)) revert StockShipmentAlreadyLinked(requestId, t.shipmentId);
        _checkLeg(requestId, shipmentId, msg.sender, t.requester, t.acceptedAt);
        t.shipmentId = shipmentId;
        emit ShipmentLinked(requestId, shipmentId, false);
    }

    /// @inheritdoc IEmergencyStockTransfer
    function release(uint256 requestId) external nonReentrant {
        Transfer storage t = _inStatus(requestId, Status.Accepted);
        bytes32 shipmentId = t.shipmentId;
        if (shipmentId == bytes32(0)) revert StockShipmentNotLinked(requestId);
        uint64 deliveredAt = _deliveredAt(requestId, shipmentId, t.acceptedAt);
        uint256 deadline = _deadline(t);
        if (deliveredAt > deadline) revert StockDeliveredLate(requestId, deliveredAt, deadline);
        _complete(requestId, t, false);
    }

    /// @inheritdoc IEmergencyStockTransfer
    function confirmReceipt(uint256 requestId) external nonReentrant {
        Transfer storage t = _inStatus(requestId, Status.Accepted);
        if (t.requester != msg.sender) revert StockNotRequester(requestId, msg.sender);
        _complete(requestId, t, true);
    }

    /// @inheritdoc IEmergencyStockTransfer
    function refund(uint256 requestId) external nonReentrant {
        Transfer storage t = _inStatus(requestId, Status.Accepted);
        uint256 deadline = _deadline(t);
        if (_now() <= deadline) revert StockRefundTooEarly(requestId, deadline + 1);
        bytes32 shipmentId = t.shipmentId;
        if (shipmentId != bytes32(0)) {
            IProofOfDelivery.DeliveryFacts memory f = shipments.deliveryFacts(shipmentId);
            if (_accepted(f) && f.conditionAt <= deadline) revert StockDeliveredInTime(requestId, shipmentId);
        }
        uint256 amount = t.escrow;
        t.status = Status.Refunded;
        t.escrow = 0;
        if (amount != 0) {
            _amountOwed[t.requester][t.lender] -= amount;
            _withdrawable[t.requester] += amount;
        }
        emit TransferRefunded(requestId, t.requester, amount);
    }

    /// @inheritdoc IEmergencyStockTransfer
    function linkReturnShipment(uint256 requestId, bytes32 shipmentId) external {
        Transfer storage t = _inStatus(requestId, Status.Outstanding);
        if (t.requester != msg.sender) revert StockNotRequester(requestId, msg.sender);
        if (t.returnShipmentId != bytes32(0)) revert StockShipmentAlreadyLinked(requestId, t.returnShipmentId);
        _checkLeg(requestId, shipmentId, msg.sender, t.lender, t.outstandingAt);
        t.returnShipmentId = shipmentId;
        emit ShipmentLinked(requestId, shipmentId, true);
    }

    /// @inheritdoc IEmergencyStockTransfer
    function closeReturn(uint256 requestId) external {
        Transfer storage t = _inStatus(requestId, Status.Outstanding);
        bytes32 shipmentId = t.returnShipmentId;
        if (shipmentId == bytes32(0)) revert StockShipmentNotLinked(requestId);
        _deliveredAt(requestId, shipmentId, t.outstandingAt);
        _closeObligation(requestId, t, false);
    }

    /// @inheritdoc IEmergencyStockTransfer
    function confirmReturn(uint256 requestId) external {
        Transfer storage t = _inStatus(requestId, Status.Outstanding);
        if (t.lender != msg.sender) revert StockNotLender(requestId, msg.sender);
        _closeObligation(requestId, t, true);
    }

    /// @inheritdoc IEmergencyStockTransfer
    function withdraw() external nonReentrant {
        uint256 amount = _withdrawable[msg.sender];
        if (amount == 0) revert StockNothingToWithdraw(msg.sender);
        _withdrawable[msg.sender] = 0;
        _liabilities -= amount;
        emit Withdrawn(msg.sender, amount);
        token.safeTransfer(msg.sender, amount);
    }

    // -- views ----------------------------------------------------------------

    /// @inheritdoc IEmergencyStockTransfer
    function transferOf(uint256 requestId) external view returns (Transfer memory) {
        return _transfers[requestId];
    }

    /// @inheritdoc IEmergencyStockTransfer
    function offerOf(uint256 requestId, uint256 offerId) external view returns (Offer memory) {
        return _offers[requestId][offerId];
    }

    /// @inheritdoc IEmergencyStockTransfer
    function withdrawableOf(address account) external view returns (uint256) {
        return _withdrawable[account];
    }

    /// @inheritdoc IEmergencyStockTransfer
    function unitsOwed(address debtor, address creditor, uint64 gtin) external view returns (uint256) {
        return _unitsOwed[debtor][creditor][gtin];
    }

    /// @inheritdoc IEmergencyStockTransfer
    function amountOwed(address debtor, address creditor) external view returns (uint256) {
        return _amountOwed[debtor][creditor];
    }

    /// @inheritdoc IEmergencyStockTransfer
    function netPosition(address a, address b, uint64 gtin) external view returns (int256 units, int256 amount) {
        units = int256(_unitsOwed[a][b][gtin]) - int256(_unitsOwed[b][a][gtin]);
        amount = int256(_amountOwed[a][b]) - int256(_amountOwed[b][a]);
    }

    /// @inheritdoc IEmergencyStockTransfer
    function totalLiabilities() external view returns (uint256) {
        return _liabilities;
    }

    /// @inheritdoc IEmergencyStockTransfer
    function requestCount() external view returns (uint256) {
        return _requestCount;
    }

    // -- internals ------------------------------------------------------------

    function _complete(uint256 requestId, Transfer storage t, bool byConfirmation) private {
        if (t.request.terms == Terms.Cash) {
            uint256 amount = t.escrow;
            t.status = Status.Settled;
            t.escrow = 0;
            _amountOwed[t.requester][t.lender] -= amount;
            _withdrawable[t.lender] += amount;
            emit TransferReleased(requestId, t.lender, amount, byConfirmation);
        } else {
            t.status = Status.Outstanding;
            t.outstandingAt = uint64(_now());
            _unitsOwed[t.requester][t.lender][t.request.gtin] += t.request.quantity;
            emit TransferReleased(requestId, t.lender, 0, byConfirmation);
            emit ObligationOpened(requestId, t.requester, t.lender, t.request.gtin, t.request.quantity);
        }
    }

    function _closeObligation(uint256 requestId, Transfer storage t, bool byConfirmation) private {
        t.status = Status.Returned;
        _unitsOwed[t.requester][t.lender][t.request.gtin] -= t.request.quantity;
        emit ObligationClosed(requestId, t.requester, t.lender, byConfirmation);
    }

    /// @dev A leg's shipment: sent by `shipper`, consigned to `receiver`, created no earlier than
    ///      `since` (acceptance, or the obligation's start for a return), and not settling any
    ///      other request or leg. Links it.
    function _checkLeg(uint256 requestId, bytes32 shipmentId, address shipper, address receiver, uint64 since)
        private
    {
        uint256 other = _linkedTo[shipmentId];
        if (other != 0) revert StockShipmentAlreadyUsed(shipmentId, other);
        IProofOfDelivery.DeliveryFacts memory f = shipments.deliveryFacts(shipmentId);
        if (f.seller != shipper) revert StockShipmentSellerMismatch(shipmentId, shipper, f.seller);
        if (f.consignee != receiver) revert StockShipmentConsigneeMismatch(shipmentId, receiver, f.consignee);
        if (f.createdAt < since) revert StockShipmentPredatesObligation(requestId, shipmentId, f.createdAt, since);
        _linkedTo[shipmentId] = requestId;
    }

    /// @dev When the receiving member signed the delivery in good order; reverts unless it did so
    ///      no earlier than `since`.
    function _deliveredAt(uint256 requestId, bytes32 shipmentId, uint64 since) private view returns (uint64) {
        IProofOfDelivery.DeliveryFacts memory f = shipments.deliveryFacts(shipmentId);
        if (f.condition == IProofOfDelivery.DeliveryCondition.None) revert StockNotDelivered(requestId, shipmentId);
        if (!_accepted(f)) revert StockDeliveryNotAccepted(requestId, shipmentId, f.condition);
        if (f.conditionAt < since) revert StockDeliveredBeforeObligation(requestId, f.conditionAt, since);
        return f.conditionAt;
    }

    function _accepted(IProofOfDelivery.DeliveryFacts memory f) private pure returns (bool) {
        return f.condition == IProofOfDelivery.DeliveryCondition.Accepted;
    }

    function _deadline(Transfer storage t) private view returns (uint256) {
        return uint256(t.request.neededBy) + gracePeriod;
    }

    function _inStatus(uint256 requestId, Status expected) private view returns (Transfer storage t) {
        t = _transfers[requestId];
        if (t.status == Status.None) revert StockRequestUnknown(requestId);
        if (t.status != expected) revert StockStatusInvalid(requestId, expected, t.status);
    }
}
