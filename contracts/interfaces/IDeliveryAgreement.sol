// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IProofOfDelivery} from "./IProofOfDelivery.sol";

/// @title IDeliveryAgreement
/// @notice Purchase-order escrow with logistics clauses. A buyer escrows the price of goods in an
///         ERC-20; the seller accepts and names the shipment that carries them; a carrier or an
///         insurer may post a bond backing the delay compensation. The agreement settles from the
///         shipment's signed milestones alone (read through {IProofOfDelivery}): no oracle, and
///         anyone may call {settle}.
/// @dev Lifecycle of an agreement:
///
///          Proposed --accept / acceptWithSig--> Active --settle--> Settled
///          Proposed --cancel--> Cancelled              --settle--> Disputed --resolve--> Settled
///                                                                          --settle (window over)--> Settled
///
///      Outcomes of {settle} on an Active agreement (`price` P, bond B, promised time T, final
///      deadline F, compensation per started day c, cap K):
///
///      - The consignee (the buyer) co-signed DELIVERED at time d <= F, in good order, and the last
///        measured weight is within the agreement's tolerance of the declared weight:
///        `daysLate = d <= T ? 0 : ceil((d - T) / 1 day)`, `comp = min(c * daysLate, K)`;
///        the bond pays `fromBond = min(comp, B)`; if `compensationFromPrice`, the price pays
///        `fromPrice = min(comp - fromBond, P)`, else 0. Buyer gets `fromBond + fromPrice`, the
///        seller `P - fromPrice`, the bonder `B - fromBond` (OnTime when daysLate = 0, else Late).
///      - Delivered with a damage exception, refused at the door, or with a weight outside the
///        tolerance: Disputed for `disputeWindow` seconds. The arbiter may {resolve} with the
///        buyer's share s (basis points): buyer `floor(P * s / 10 000)`, seller the rest of P,
///        bonder B. If the window passes without a ruling, {settle} applies the delivery clause
///        above (damage or weight) or, for a refusal, refunds P to the buyer and B to the bonder.
///      - LOST, or no consignee-signed delivery by F (now > F): the buyer gets `P + min(B, K)`,
///        the bonder `B - min(B, K)` (Failed).
///
///      Payouts are credited and withdrawn ({withdraw}; pull payments). Fee-on-transfer tokens are
///      refused when the price or a bond is pulled in.
///
///      Invariant (per token, tested): `token.balanceOf(this) == Σ (price + bond) of Proposed,
///      Active and Disputed agreements + Σ withdrawable` ({liabilities}).
interface IDeliveryAgreement {
    enum Status {
        None,
        Proposed,
        Active,
        Disputed,
        Settled,
        Cancelled
    }

    /// @notice How an agreement was settled.
    enum Outcome {
        None,
        OnTime,
        Late,
        Failed,
        Ruled,
        Refused
    }

    /// @notice What buyer and seller agree on; fixed at {propose}.
    /// @param buyer Pays the price; must be the shipment's consignee.
    /// @param seller Paid on delivery; must be the shipment's seller of record.
    /// @param token Settlement ERC-20 (no fee-on-transfer).
    /// @param price Escrowed price, token units (> 0).
    /// @param promisedBy Promised delivery time (Unix seconds, in the future at proposal).
    /// @param finalDeadline Last time a delivery counts (> promisedBy).
    /// @param compensationPerDay Compensation per started day late, token units.
    /// @param compensationCap Most compensation in total (0 iff compensationPerDay is 0).
    /// @param compensationFromPrice Whether compensation the bond cannot cover comes from the price.
    /// @param weightToleranceBps Allowed deviation of the last measured weight, basis points (<= 10 000).
    /// @param bonder The carrier or insurer posting the bond (zero: no bond).
    /// @param bondAmount Bond the bonder must post before the seller may accept (0 iff no bonder).
    /// @param arbiter Decides disputes; neither buyer nor seller.
    /// @param disputeWindow Seconds the arbiter has to rule once a dispute opens (> 0).
    struct AgreementTerms {
        address buyer;
        address seller;
        address token;
        uint128 price;
        uint64 promisedBy;
        uint64 finalDeadline;
        uint128 compensationPerDay;
        uint128 compensationCap;
        bool compensationFromPrice;
        uint16 weightToleranceBps;
        address bonder;
        uint128 bondAmount;
        address arbiter;
        uint32 disputeWindow;
    }

    /// @notice An agreement as stored.
    /// @param bondPosted Bond held so far (equals `terms.bondAmount` once Active).
    /// @param shipmentId The shipment named by the seller at acceptance.
    /// @param disputeEndsAt End of the arbiter's window (Disputed only).
    struct Agreement {
        AgreementTerms terms;
        Status status;
        Outcome outcome;
        uint128 bondPosted;
        bytes32 shipmentId;
        uint64 acceptedAt;
        uint64 disputeEndsAt;
    }

    /// @notice What a settlement paid, per party, in token units.
    struct Payout {
        uint256 toBuyer;
        uint256 toSeller;
        uint256 toBonder;
        uint256 daysLate;
    }

    event AgreementProposed(
        uint256 indexed agreementId, address indexed buyer, address indexed seller, address token, uint256 price
    );
    event BondPosted(uint256 indexed agreementId, address indexed bonder, uint256 amount, uint256 total);
    event AgreementAccepted(uint256 indexed agreementId, bytes32 indexed shipmentId, address indexed seller);
    event AgreementCancelled(uint256 indexed agreementId);
    event AgreementDisputed(
        uint256 indexed agreementId, IProofOfDelivery.DeliveryCondition condition, bool weightOutOfTolerance, uint64 endsAt
    );
    event DisputeResolved(uint256 indexed agreementId, address indexed arbiter, uint16 buyerShareBps);
    event AgreementSettled(
        uint256 indexed agreementId,
        Outcome outcome,
        uint256 toBuyer,
        uint256 toSeller,
        uint256 toBonder,
        uint256 daysLate
    );
    event Withdrawn(address indexed account, address indexed token, uint256 amount);

    /// @notice No agreement has this id.
    error AgreementUnknown(uint256 agreementId);
    /// @notice The agreement is in `actual`; this step needs `expected`.
    error AgreementStatusInvalid(uint256 agreementId, Status expected, Status actual);
    /// @notice The terms name a price of zero.
    error AgreementPriceZero();
    /// @notice The terms name no settlement token (the zero address).
    error AgreementTokenZero();
    /// @notice The seller is the zero address or the buyer itself.
    error AgreementSellerInvalid(address seller, address buyer);
    /// @notice The promised delivery time is not after the block time `now`.
    error AgreementPromiseNotInFuture(uint64 promisedBy, uint256 now);
    /// @notice The final deadline is not after the promised delivery time.
    error AgreementDeadlineBeforePromise(uint64 promisedBy, uint64 finalDeadline);
    /// @notice Compensation needs both a daily rate and a cap, or neither.
    error AgreementCompensationUnpaired(uint128 compensationPerDay, uint128 compensationCap);
    /// @notice Weight tolerance above 10 000 basis points.
    error AgreementToleranceInvalid(uint16 toleranceBps);
    /// @notice A bond needs both a bonder and an amount, or neither.
    error AgreementBondUnpaired(address bonder, uint128 bondAmount);
    /// @notice The arbiter is the zero address, the buyer or the seller.
    error AgreementArbiterInvalid(address arbiter);
    /// @notice The arbiter's dispute window is zero seconds.
    error AgreementDisputeWindowZero();
    /// @notice `account`, named as the agreement's `party` (0 the buyer, who is the consignee;
    ///         1 the bonder; 2 the arbiter), holds no active key with `role` in the
    ///         OrganisationRegistry ({OrgRoles} bits: CONSIGNEE for the buyer, CARRIER or INSURER
    ///         for the bonder, ARBITER for the arbiter). Checked at {propose} and again at
    ///         acceptance, so a revoked arbiter or bonder cannot be bound by a seller's signature.
    error AgreementPartyNotInRole(uint8 party, address account, uint32 role);
    /// @notice Only `expected` may take this step.
    error AgreementCallerInvalid(uint256 agreementId, address expected, address actual);
    /// @notice The shipment's consignee is `actual`, the agreement's buyer is `expected`.
    error AgreementWrongConsignee(bytes32 shipmentId, address expected, address actual);
    /// @notice The shipment's seller of record is `actual`, the agreement's seller is `expected`.
    error AgreementWrongSeller(bytes32 shipmentId, address expected, address actual);
    /// @notice The shipment already carries a proof of delivery (or a refusal), or is closed.
    error AgreementShipmentAlreadyDelivered(bytes32 shipmentId, uint8 status);
    /// @notice The shipment already backs agreement `agreementId`.
    error AgreementShipmentAlreadyLinked(bytes32 shipmentId, uint256 agreementId);
    /// @notice The bond posted is below the agreed amount.
    error AgreementBondUnfunded(uint256 agreementId, uint256 required, uint256 posted);
    /// @notice Posting `amount` would exceed the agreed bond.
    error AgreementBondExceeded(uint256 agreementId, uint256 required, uint256 total);
    /// @notice Nothing to settle yet: no proof of delivery, not lost, and the final deadline
    ///         (or the dispute window) ends at `dueAt`.
    error AgreementNotDue(uint256 agreementId, uint256 dueAt);
    /// @notice The arbiter's window closed at `endedAt`.
    error AgreementDisputeWindowClosed(uint256 agreementId, uint256 endedAt);
    /// @notice A share above 10 000 basis points.
    error AgreementShareInvalid(uint256 agreementId, uint256 buyerShareBps);
    /// @notice The seller's signature is expired (`deadline` < now).
    error AgreementSignatureExpired(uint256 agreementId, uint256 deadline, uint256 now);
    /// @notice The signature is not the seller's.
    error AgreementSignatureInvalid(uint256 agreementId, address signer);
    /// @notice The token delivered a different amount than requested (fee-on-transfer tokens).
    error AgreementTokenTransferMismatch(address token, uint256 expected, uint256 received);
    /// @notice Nothing is credited to `account` in `token`.
    error AgreementNothingToWithdraw(address account, address token);

    /// @notice The buyer proposes `terms` and escrows the price (pulled with `transferFrom`).
    function propose(AgreementTerms calldata terms) external returns (uint256 agreementId);

    /// @notice The named bonder posts (part of) the bond while the agreement is Proposed.
    function postBond(uint256 agreementId, uint128 amount) external;

    /// @notice The buyer withdraws a Proposed agreement; price and bond are credited back.
    function cancel(uint256 agreementId) external;

    /// @notice The seller accepts and names the shipment carrying the goods: its seller of record
    ///         must be the seller, its consignee the buyer, it must not be delivered yet and not
    ///         back another agreement; the bond must be fully posted.
    function accept(uint256 agreementId, bytes32 shipmentId) external;

    /// @notice {accept} relayed with the seller's EIP-712 signature
    ///         (`Acceptance(uint256 agreementId,bytes32 termsHash,bytes32 shipmentId,uint256 nonce,uint256 deadline)`).
    function acceptWithSig(uint256 agreementId, bytes32 shipmentId, uint256 deadline, bytes calldata signature)
        external;

    /// @notice Anyone settles an Active agreement once the shipment is delivered, refused or lost,
    ///         or its final deadline passed; or a Disputed one once the arbiter's window passed.
    function settle(uint256 agreementId) external;

    /// @notice The arbiter splits the price of a Disputed agreement inside the window.
    function resolve(uint256 agreementId, uint16 buyerShareBps) external;

    /// @notice Withdraw everything credited to the caller in `token`.
    function withdraw(address token) external;

    /// @notice The agreement `agreementId`.
    function agreementOf(uint256 agreementId) external view returns (Agreement memory);

    /// @notice The agreement a shipment backs (0: none).
    function agreementOfShipment(bytes32 shipmentId) external view returns (uint256);

    /// @notice What {settle} would pay now, and the outcome (reverts like {settle} when not due).
    function preview(uint256 agreementId) external view returns (Outcome outcome, Payout memory payout);

    /// @notice Struct hash of `terms` (the `termsHash` the seller signs).
    function hashTerms(AgreementTerms calldata terms) external pure returns (bytes32);

    /// @notice Credited, not yet withdrawn.
    function withdrawableOf(address account, address token) external view returns (uint256);

    /// @notice Σ held for open agreements + Σ withdrawable in `token`; equals its balance here.
    function liabilities(address token) external view returns (uint256);

    function agreementCount() external view returns (uint256);
}
