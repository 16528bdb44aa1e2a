// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IDeliveryAgreement} from "./interfaces/IDeliveryAgreement.sol";
import {IOrganisationRegistry} from "./interfaces/IOrganisationRegistry.sol";
import {IProofOfDelivery} from "./interfaces/IProofOfDelivery.sol";
import {OrgRoles} from "./utils/OrgRoles.sol";
import {SignatureRule} from "./utils/SignatureRule.sol";
import {Delegated} from "./utils/Delegated.sol";

/// @title DeliveryAgreement
/// @notice Purchase-order escrow settled from consignee-signed proofs of delivery; see
///         {IDeliveryAgreement} for the clause formulas and the conservation invariant.
/// @dev No owner and no admin. Many agreements and tokens in one contract; liabilities are kept
///      per token so the invariant holds token by token.
contract DeliveryAgreement is IDeliveryAgreement, ReentrancyGuard, Delegated {
    using SafeERC20 for IERC20;

    bytes32 public constant AGREEMENT_TERMS_TYPEHASH = keccak256(
        "AgreementTerms(address buyer,address seller,address token,uint128 price,uint64 promisedBy,"
        "uint64 finalDeadline,uint128 compensationPerDay,uint128 compensationCap,bool compensationFromPrice,"
        "uint16 weightToleranceBps,address bonder,uint128 bondAmount,address arbiter,uint32 disputeWindow)"
    );

    bytes32 public constant ACCEPTANCE_TYPEHASH = keccak256(
        "Acceptance(uint256 agreementId,bytes32 termsHash,bytes32 shipmentId,uint256 nonce,uint256 deadline)"
    );

    /// @notice Source of proofs of delivery (the ShipmentRegistry).
    IProofOfDelivery public immutable shipments;

    /// @notice Who may be named as consignee, bonder and arbiter (the OrganisationRegistry).
    IOrganisationRegistry public immutable organisations;

    uint256 private constant _BPS = 10_000;
    uint256 private constant _DAY = 1 days;
    // Registry status values (see IShipmentRegistry.Status).
    uint8 private constant _DELIVERED = 10;
    uint8 private constant _RETURNED = 11;
    uint8 private constant _LOST = 12;

    uint256 private _agreementCount;
    mapping(uint256 agreementId => Agreement) private _agreements;
    mapping(bytes32 shipmentId => uint256 agreementId) private _byShipment;
    mapping(address token => mapping(address account => uint256)) private _withdrawable;
    mapping(address token => uint256) private _liabilities;

    constructor(IProofOfDelivery proofOfDelivery, IOrganisationRegistry organisationRegistry)
        Delegated("DeliveryAgreement")
    {
        shipments = proofOfDelivery;
        organisations = organisationRegistry;
    }

    // -- proposal, bond, acceptance -------------------------------------------

    /// @inheritdoc IDeliveryAgreement
    function propose(AgreementTerms calldata terms) external nonReentrant returns (uint256 agreementId) {
        if (msg.sender != terms.buyer) revert AgreementCallerInvalid(0, terms.buyer, msg.sender);
        _checkTerms(terms);
        _checkParties(terms.buyer, terms.bonder, terms.arbiter);
        agreementId = ++_agreementCount;
        Agreement storage a = _agreements[agreementId];
        a.terms = terms;
        a.status = Status.Proposed;
        _liabilities[terms.token] += terms.price;
        emit AgreementProposed(agreementId, terms.buyer, terms.seller, terms.token, terms.price);
        _pull(terms.token, msg.sender, terms.price);
    }

    /// @inheritdoc IDeliveryAgreement
    function postBond(uint256 agreementId, uint128 amount) external nonReentrant {
        Agreement storage a = _inStatus(agreementId, Status.Proposed);
        address bonder = a.terms.bonder;
        if (msg.sender != bonder) revert AgreementCallerInvalid(agreementId, bonder, msg.sender);
        uint256 total = uint256(a.bondPosted) + amount;
        if (amount == 0 || total > a.terms.bondAmount) {
            revert AgreementBondExceeded(agreementId, a.terms.bondAmount, total);
        }
        // total <= bondAmount, a uint128.
        a.bondPosted = uint128(total);
        address token = a.terms.token;
        _liabilities[token] += amount;
        emit BondPosted(agreementId, msg.sender, amount, total);
        _pull(token, msg.sender, amount);
    }

    /// @inheritdoc IDeliveryAgreement
    function cancel(uint256 agreementId) external {
        Agreement storage a = _inStatus(agreementId, Status.Proposed);
        if (msg.sender != a.terms.buyer) revert AgreementCallerInvalid(agreementId, a.terms.buyer, msg.sender);
        a.status = Status.Cancelled;
        emit AgreementCancelled(agreementId);
        _credit(a.terms.token, a.terms.buyer, a.terms.price);
        _credit(a.terms.token, a.terms.bonder, a.bondPosted);
    }

    /// @inheritdoc IDeliveryAgreement
    function accept(uint256 agreementId, bytes32 shipmentId) external {
        Agreement storage a = _inStatus(agreementId, Status.Proposed);
        if (msg.sender != a.terms.seller) revert AgreementCallerInvalid(agreementId, a.terms.seller, msg.sender);
        _accept(agreementId, a, shipmentId);
    }

    /// @inheritdoc IDeliveryAgreement
    function acceptWithSig(uint256 agreementId, bytes32 shipmentId, uint256 deadline, bytes calldata signature)
        external
    {
        Agreement storage a = _inStatus(agreementId, Status.Proposed);
        if (_now() > deadline) revert AgreementSignatureExpired(agreementId, deadline, _now());
        address seller = a.terms.seller;
        bytes32 structHash = keccak256(
            abi.encode(ACCEPTANCE_TYPEHASH, agreementId, _hashTerms(a.terms), shipmentId, _useNonce(seller), deadline)
        );
        if (!SignatureRule.isValidNow(seller, _hashTypedDataV4(structHash), signature)) {
            revert AgreementSignatureInvalid(agreementId, seller);
        }
        _accept(agreementId, a, shipmentId);
    }

    function _accept(uint256 agreementId, Agreement storage a, bytes32 shipmentId) private {
        if (a.bondPosted < a.terms.bondAmount) {
            revert AgreementBondUnfunded(agreementId, a.terms.bondAmount, a.bondPosted);
        }
        _checkParties(a.terms.buyer, a.terms.bonder, a.terms.arbiter);
        uint256 linked = _byShipment[shipmentId];
        if (linked != 0) revert AgreementShipmentAlreadyLinked(shipmentId, linked);
        IProofOfDelivery.DeliveryFacts memory f = shipments.deliveryFacts(shipmentId);
        if (f.seller != a.terms.seller) revert AgreementWrongSeller(shipmentId, a.terms.seller, f.seller);
        if (f.consignee != a.terms.buyer) revert AgreementWrongConsignee(shipmentId, a.terms.buyer, f.consignee);
        // A shipment that already reached its consignee (or was refused, returned or lost) cannot
        // back a new purchase: its delivery predates the agreement.
        if (f.condition != IProofOfDelivery.DeliveryCondition.None || f.status >= _DELIVERED) {
            revert AgreementShipmentAlreadyDelivered(shipmentId, f.status);
        }
        _byShipment[shipmentId] = agreementId;
        a.shipmentId = shipmentId;
        a.acceptedAt = uint64(_now());
        a.status = Status.Active;
        emit AgreementAccepted(agreementId, shipmentId, a.terms.seller);
    }

    // -- settlement -----------------------------------------------------------

    /// @inheritdoc IDeliveryAgreement
    function settle(uint256 agreementId) external {
        Agreement storage a = _agreement(agreementId);
        Status status = a.status;
        if (status != Status.Active && status != Status.Disputed) {
            revert AgreementStatusInvalid(agreementId, Status.Active, status);
        }
        IProofOfDelivery.DeliveryFacts memory f = shipments.deliveryFacts(a.shipmentId);
        if (status == Status.Active && _disputable(a.terms, f)) {
            uint64 endsAt = uint64(_now() + a.terms.disputeWindow);
            a.status = Status.Disputed;
            a.disputeEndsAt = endsAt;
            emit AgreementDisputed(agreementId, f.condition, _weightOut(a.terms, f), endsAt);
            return;
        }
        (Outcome outcome, Payout memory p) = _outcome(agreementId, a, f);
        _pay(agreementId, a, outcome, p);
    }

    /// @inheritdoc IDeliveryAgreement
    function resolve(uint256 agreementId, uint16 buyerShareBps) external {
        Agreement storage a = _inStatus(agreementId, Status.Disputed);
        address arbiter = a.terms.arbiter;
        if (msg.sender != arbiter) revert AgreementCallerInvalid(agreementId, arbiter, msg.sender);
        if (_now() > a.disputeEndsAt) revert AgreementDisputeWindowClosed(agreementId, a.disputeEndsAt);
        if (buyerShareBps > _BPS) revert AgreementShareInvalid(agreementId, buyerShareBps);
        uint256 price = a.terms.price;
        uint256 toBuyer = price * buyerShareBps / _BPS;
        emit DisputeResolved(agreementId, msg.sender, buyerShareBps);
        _pay(agreementId, a, Outcome.Ruled, Payout(toBuyer, price - toBuyer, a.bondPosted, 0));
    }

    /// @inheritdoc IDeliveryAgreement
    function withdraw(address token) external nonReentrant {
        uint256 amount = _withdrawable[token][msg.sender];
        if (amount == 0) revert AgreementNothingToWithdraw(msg.sender, token);
        _withdrawable[token][msg.sender] = 0;
        _liabilities[token] -= amount;
        emit Withdrawn(msg.sender, token, amount);
        IERC20(token).safeTransfer(msg.sender, amount);
    }

    // -- views ----------------------------------------------------------------

    /// @inheritdoc IDeliveryAgreement
    function agreementOf(uint256 agreementId) external view returns (Agreement memory) {
        return _agreements[agreementId];
    }

    /// @inheritdoc IDeliveryAgreement
    function agreementOfShipment(bytes32 shipmentId) external view returns (uint256) {
        return _byShipment[shipmentId];
    }

    /// @inheritdoc IDeliveryAgreement
    function preview(uint256 agreementId) external view returns (Outcome outcome, Payout memory payout) {
        Agreement storage a = _agreement(agreementId);
        if (a.status != Status.Active && a.status != Status.Disputed) {
            revert AgreementStatusInvalid(agreementId, Status.Active, a.status);
        }
        IProofOfDelivery.DeliveryFacts memory f = shipments.deliveryFacts(a.shipmentId);
        if (a.status == Status.Active && _disputable(a.terms, f)) return (Outcome.None, payout);
        return _outcome(agreementId, a, f);
    }

    /// @inheritdoc IDeliveryAgreement
    function hashTerms(AgreementTerms calldata terms) external pure returns (bytes32) {
        return keccak256(abi.encode(AGREEMENT_TERMS_TYPEHASH, terms));
    }

    /// @inheritdoc IDeliveryAgreement
    function withdrawableOf(address account, address token) external view returns (uint256) {
        return _withdrawable[token][account];
    }

    /// @inheritdoc IDeliveryAgreement
    function liabilities(address token) external view returns (uint256) {
        return _liabilities[token];
    }

    /// @inheritdoc IDeliveryAgreement
    function agreementCount() external view returns (uint256) {
        return _agreementCount;
    }

    // -- internals ------------------------------------------------------------

    /// @dev The clause outcome once due; reverts {AgreementNotDue} before.
    function _outcome(uint256 agreementId, Agreement storage a, IProofOfDelivery.DeliveryFacts memory f)
        private
        view
        returns (Outcome outcome, Payout memory p)
    {
        AgreementTerms storage t = a.terms;
        uint256 price = t.price;
        uint256 bond = a.bondPosted;
        if (a.status == Status.Disputed) {
            uint256 endsAt = a.disputeEndsAt;
            if (_now() <= endsAt) revert AgreementNotDue(agreementId, endsAt + 1);
            if (f.condition == IProofOfDelivery.DeliveryCondition.Refused) {
                return (Outcome.Refused, Payout(price, 0, bond, 0));
            }
        }
        bool delivered = f.status == _DELIVERED && f.conditionAt <= t.finalDeadline
            && (f.condition == IProofOfDelivery.DeliveryCondition.Accepted
                || f.condition == IProofOfDelivery.DeliveryCondition.Damaged);
        if (!delivered) {
            bool failed = f.status == _LOST || f.status == _RETURNED || f.status == _DELIVERED
                || _now() > t.finalDeadline;
            if (!failed) revert AgreementNotDue(agreementId, uint256(t.finalDeadline) + 1);
            uint256 paid = _min(bond, t.compensationCap);
            return (Outcome.Failed, Payout(price + paid, 0, bond - paid, 0));
        }
        // Whole started days by definition of the clause: the division rounds up on purpose
        // before the per-day amount multiplies it.
        uint256 daysLate = f.conditionAt <= t.promisedBy ? 0 : (f.conditionAt - t.promisedBy + _DAY - 1) / _DAY;
        // slither-disable-next-line divide-before-multiply
        uint256 comp = _min(daysLate * t.compensationPerDay, t.compensationCap);
        uint256 fromBond = _min(comp, bond);
        uint256 fromPrice = t.compensationFromPrice ? _min(comp - fromBond, price) : 0;
        outcome = daysLate == 0 ? Outcome.OnTime : Outcome.Late;
        p = Payout(fromBond + fromPrice, price - fromPrice, bond - fromBond, daysLate);
    }

    function _pay(uint256 agreementId, Agreement storage a, Outcome outcome, Payout memory p) private {
        AgreementTerms storage t = a.terms;
        a.status = Status.Settled;
        a.outcome = outcome;
        emit AgreementSettled(agreementId, outcome, p.toBuyer, p.toSeller, p.toBonder, p.daysLate);
        address token = t.token;
        _credit(token, t.buyer, p.toBuyer);
        _credit(token, t.seller, p.toSeller);
        _credit(token, t.bonder, p.toBonder);
    }

    /// @dev Damage, refusal or weight outside the agreement's tolerance on a delivery that counts.
    function _disputable(AgreementTerms storage t, IProofOfDelivery.DeliveryFacts memory f)
        private
        view
        returns (bool)
    {
        if (f.condition == IProofOfDelivery.DeliveryCondition.Refused) return f.conditionAt <= t.finalDeadline;
        if (f.status != _DELIVERED || f.conditionAt > t.finalDeadline) return false;
        return f.condition == IProofOfDelivery.DeliveryCondition.Damaged || _weightOut(t, f);
    }

    function _weightOut(AgreementTerms storage t, IProofOfDelivery.DeliveryFacts memory f)
        private
        view
        returns (bool)
    {
        uint256 measured = f.lastMeasuredWeightGrams;
        if (measured == 0) return false;
        uint256 declared = f.declaredWeightGrams;
        uint256 diff = measured > declared ? measured - declared : declared - measured;
        // Both factors are below 2^64 * 10^4: no overflow.
        return diff * _BPS > declared * t.weightToleranceBps;
    }

    function _checkTerms(AgreementTerms calldata t) private view {
        if (t.price == 0) revert AgreementPriceZero();
        if (t.token == address(0)) revert AgreementTokenZero();
        if (t.seller == address(0) || t.seller == t.buyer) revert AgreementSellerInvalid(t.seller, t.buyer);
        if (t.promisedBy <= _now()) revert AgreementPromiseNotInFuture(t.promisedBy, _now());
        if (t.finalDeadline <= t.promisedBy) revert AgreementDeadlineBeforePromise(t.promisedBy, t.finalDeadline);
        if ((t.compensationPerDay == 0) != (t.compensationCap == 0)) {
            revert AgreementCompensationUnpaired(t.compensationPerDay, t.compensationCap);
        }
        if (t.weightToleranceBps > _BPS) revert AgreementToleranceInvalid(t.weightToleranceBps);
        if ((t.bonder == address(0)) != (t.bondAmount == 0)) revert AgreementBondUnpaired(t.bonder, t.bondAmount);
        if (t.arbiter == address(0) || t.arbiter == t.buyer || t.arbiter == t.seller) {
            revert AgreementArbiterInvalid(t.arbiter);
        }
        if (t.disputeWindow == 0) revert AgreementDisputeWindowZero();
    }

    /// @dev Each party is one view call into the registry (two for a bonder that is an insurer):
    ///      a few thousand gas against an escrow that would otherwise name strangers as its judge.
    function _checkParties(address buyer, address bonder, address arbiter) private view {
        if (!organisations.isActive(buyer, OrgRoles.CONSIGNEE)) {
            revert AgreementPartyNotInRole(0, buyer, OrgRoles.CONSIGNEE);
        }
        if (
            bonder != address(0) && !organisations.isActive(bonder, OrgRoles.CARRIER)
                && !organisations.isActive(bonder, OrgRoles.INSURER)
        ) {
            revert AgreementPartyNotInRole(1, bonder, OrgRoles.CARRIER | OrgRoles.INSURER);
        }
        if (!organisations.isActive(arbiter, OrgRoles.ARBITER)) {
            revert AgreementPartyNotInRole(2, arbiter, OrgRoles.ARBITER);
        }
    }

    function _hashTerms(AgreementTerms storage t) private view returns (bytes32) {
        // Every field is static, so the ABI encoding of the struct is its EIP-712 encodeData.
        AgreementTerms memory copy = t;
        return keccak256(abi.encode(AGREEMENT_TERMS_TYPEHASH, copy));
    }

    /// @dev Pulls `amount` and refuses tokens that deliver less (fee-on-transfer).
    function _pull(address token, address from, uint256 amount) private {
        uint256 before = IERC20(token).balanceOf(address(this));
        IERC20(token).safeTransferFrom(from, address(this), amount);
        uint256 received = IERC20(token).balanceOf(address(this)) - before;
        if (received != amount) revert AgreementTokenTransferMismatch(token, amount, received);
    }

    /// @dev Moves `amount` from held to withdrawable: liabilities are unchanged.
    function _credit(address token, address account, uint256 amount) private {
        if (amount != 0) _withdrawable[token][account] += amount;
    }

    function _agreement(uint256 agreementId) private view returns (Agreement storage a) {
        a = _agreements[agreementId];
        if (a.status == Status.None) revert AgreementUnknown(agreementId);
    }

    function _inStatus(uint256 agreementId, Status expected) private view returns (Agreement storage a) {
        a = _agreement(agreementId);
        if (a.status != expected) revert AgreementStatusInvalid(agreementId, expected, a.status);
    }

    function _min(uint256 x, uint256 y) private pure returns (uint256) {
        return x < y ? x : y;
    }
}
