// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IProofOfDelivery} from "./IProofOfDelivery.sol";
import {IShipmentDelivery} from "./IShipmentDelivery.sol";

/// @title IShipmentRegistry
/// @notice Shipments of cross-border sellers and their milestones, each milestone
///         signed off chain (EIP-712) by the party responsible for it and relayed by
///         anyone. Custody changes (PICKED_UP, HANDOVER) are co-signed by the
///         releasing and the receiving party, so the registry always names the party
///         holding the goods.
/// @dev Storage keeps per shipment one packed state word, the head of a hash chain
///      over every history entry, and the immutable terms. Per-entry data is not
///      stored: {MilestoneRecorded} and {MilestoneCorrected} carry it in full, and
///      {verifyHistory} proves a list of entry hashes against the on-chain head.
///
///      Vocabulary: milestones follow GS1 CBV bizSteps / DCSA event codes. Locations
///      are UN/LOCODEs as `bytes5` ASCII ("CNSHA", "NLRTM"); `bytes5(0)` means unknown.
///      Weights are grams. Times are Unix seconds.
///
///      Signatures: EOAs sign the EIP-712 digest (65 bytes `r ‖ s ‖ v`, v in {27, 28},
///      low-s); ERC-1271 wallets are asked `isValidSignature(digest, signature)`.
///      A message is valid while `block.timestamp <= deadline` (ERC-2612 rule).
///      Each signer has one sequential nonce ({nonces}) shared by every message type.
///
///      Proof of delivery: a shipment whose terms name a consignee is DELIVERED only through
///      {recordDelivery}, with the consignee's countersignature stating the condition of the
///      goods (accepted, damaged) or refusing them ({IProofOfDelivery}). Without a consignee,
///      DELIVERED is the carrier's word alone and no payment contract accepts it.
interface IShipmentRegistry is IShipmentDelivery, IProofOfDelivery {
    // ---------------------------------------------------------------- types

    /// @notice Lifecycle status of a shipment. Numeric order is progress order:
    ///         a status with a higher number (up to Delivered) is further along.
    enum Status {
        None,
        Created,
        PickedUp,
        ExportCleared,
        InTransit,
        Arrived,
        CustomsHold,
        ImportCleared,
        InWarehouse,
        OutForDelivery,
        Delivered,
        Returned,
        Lost
    }

    /// @notice Milestone types (GS1 CBV bizStep / DCSA event code in brackets).
    ///         Structs carry them as `uint8` so that an unknown value reverts with
    ///         {ShipmentMilestoneNotAllowed} instead of an undecodable ABI error.
    enum MilestoneType {
        None,
        PickedUp, // shipper -> carrier [cbv:shipping / DCSA PICK]
        ExportCleared, // [cbv:inspecting (export) / DCSA RELS]
        Departed, // [cbv:departing / DCSA DEPA]
        Arrived, // [cbv:arriving / DCSA ARRI]
        CustomsHold, // [cbv:holding / DCSA HOLD]
        CustomsReleased, // [cbv:releasing / DCSA RELS]
        ImportCleared, // [cbv:inspecting (import) / DCSA RELS]
        WarehouseInbound, // [cbv:receiving / DCSA GTIN]
        Handover, // carrier -> carrier or carrier <-> warehouse [cbv:shipping + receiving / DCSA DISC + LOAD]
        OutForDelivery, // [cbv:departing (last mile) / DCSA GTOT]
        Delivered, // [cbv:accepting / DCSA DROP]
        Returned, // back with the seller [cbv:receiving (returns)]
        Exception // delayed, damaged, lost [cbv:inspecting + disposition]
    }

    /// @notice Terms fixed at creation.
    /// @param shipmentId `bytes32(bytes20(seller)) | reference`: the seller's address in the
    ///        high 20 bytes and a seller-chosen 96-bit reference in the low 12, so the id
    ///        commits to its seller and cannot be squatted ({ShipmentIdNotSellers}).
    /// @param seller Shipper of record; signs PICKED_UP (release) and RETURNED.
    /// @param origin UN/LOCODE of origin, ASCII in `bytes5`.
    /// @param destination UN/LOCODE of destination.
    /// @param declaredWeightGrams Declared gross weight, 1 .. 2^40-1 grams.
    /// @param pieceCount Declared number of pieces (packages).
    /// @param weightToleranceBps Allowed deviation of a measurement, basis points (<= 10 000).
    /// @param manifestHash Hash of the off-chain manifest (products, passport ids).
    /// @param carriers Carriers that may take custody (at least one).
    /// @param warehouse Warehouse that may receive the goods (zero: none).
    /// @param customsBroker Broker that signs customs milestones (zero: none).
    /// @param consignee Receiving party that co-signs DELIVERED (zero: none, carrier-only delivery).
    /// @param sla Planned deadlines of key milestones (zero: no deadline).
    struct ShipmentTerms {
        bytes32 shipmentId;
        address seller;
        bytes5 origin;
        bytes5 destination;
        uint64 declaredWeightGrams;
        uint32 pieceCount;
        uint16 weightToleranceBps;
        bytes32 manifestHash;
        address[] carriers;
        address warehouse;
        address customsBroker;
        address consignee;
        ServiceLevel sla;
    }

    /// @notice Planned latest times (Unix seconds, < 2^32) at which the shipment
    ///         reaches a status; 0 means no deadline. `departedBy`/`arrivedBy` apply
    ///         to every departure/arrival of a multi-leg route.
    struct ServiceLevel {
        uint64 pickedUpBy;
        uint64 exportClearedBy;
        uint64 departedBy;
        uint64 arrivedBy;
        uint64 importClearedBy;
        uint64 deliveredBy;
    }

    /// @notice One signed milestone (EIP-712 primary type `Milestone`).
    /// @param shipmentId The shipment.
    /// @param milestone A {MilestoneType} value.
    /// @param reasonCode EXCEPTION: 1 delayed, 2 damaged, 3 lost, 4 other;
    ///        CUSTOMS_HOLD: free customs code; every other milestone: 0.
    /// @param occurredAt When it happened; must not be after the block time.
    /// @param location UN/LOCODE where it happened (`bytes5(0)`: unknown).
    /// @param measuredWeightGrams Gross weight measured at the event; 0: not weighed.
    /// @param evidenceHash Hash of off-chain evidence (scan, photo, customs entry).
    /// @param signer The signing party (EOA or ERC-1271 wallet).
    /// @param counterparty The party receiving custody for PICKED_UP and HANDOVER;
    ///        zero for every other milestone.
    /// @param nonce The signer's current nonce ({nonces}).
    /// @param deadline Last block time at which the signature is accepted.
    struct Milestone {
        bytes32 shipmentId;
        uint8 milestone;
        uint16 reasonCode;
        uint64 occurredAt;
        bytes5 location;
        uint64 measuredWeightGrams;
        bytes32 evidenceHash;
        address signer;
        address counterparty;
        uint256 nonce;
        uint256 deadline;
    }

    /// @notice The receiving party's countersignature of a custody transfer
    ///         (EIP-712 primary type `CustodyAcceptance(Milestone milestone,uint256 nonce,uint256 deadline)`;
    ///         the milestone itself is the one passed alongside).
    struct Acceptance {
        uint256 nonce;
        uint256 deadline;
        bytes signature;
    }

    /// @notice The consignee's proof of delivery for a DELIVERED milestone (EIP-712 primary type
    ///         `ProofOfDelivery(Milestone milestone,uint8 condition,uint256 nonce,uint256 deadline)`;
    ///         the milestone itself is the carrier's, passed alongside).
    /// @param condition A {IProofOfDelivery-DeliveryCondition}: 1 accepted, 2 damaged, 3 refused.
    struct DeliveryReceipt {
        uint8 condition;
        uint256 nonce;
        uint256 deadline;
        bytes signature;
    }

    /// @notice A milestone with its signature, for {recordMilestones}.
    struct SignedMilestone {
        Milestone milestone;
        bytes signature;
    }

    /// @notice EPCIS-style error declaration for an earlier history entry
    ///         (EIP-712 primary type `Correction`). History is never rewritten; the
    ///         correction is appended as a new entry.
    /// @param correctedIndex Index of the history entry declared erroneous.
    /// @param correctedRecordHash The record hash of that entry (from its event).
    /// @param reasonCode 1 did not occur, 2 incorrect data, 3 other.
    /// @param evidenceHash Hash of the corrective evidence / replacement data.
    struct Correction {
        bytes32 shipmentId;
        uint32 correctedIndex;
        bytes32 correctedRecordHash;
        uint16 reasonCode;
        bytes32 evidenceHash;
        address signer;
        uint256 nonce;
        uint256 deadline;
    }

    /// @notice Everything stored about a shipment.
    struct ShipmentView {
        address seller;
        uint8 status;
        address custodian;
        uint32 historyLength;
        bytes32 historyHead;
        uint64 lastMeasuredWeightGrams;
        uint64 declaredWeightGrams;
        uint16 weightToleranceBps;
        uint32 pieceCount;
        bytes5 origin;
        bytes5 destination;
        bytes32 manifestHash;
        ServiceLevel sla;
        uint8 overdueFlags;
        uint64 deliveredAt;
        address consignee;
        uint64 createdAt;
        DeliveryCondition deliveryCondition;
    }

    // --------------------------------------------------------------- events

    /// @notice A shipment was registered with `terms`.
    event ShipmentCreated(bytes32 indexed shipmentId, address indexed seller, ShipmentTerms terms);

    /// @notice A milestone was appended to the history of `shipmentId`.
    /// @param shipmentId The shipment.
    /// @param milestone The {MilestoneType}.
    /// @param signer The party that signed it (the releasing party for custody transfers).
    /// @param index Position in the shipment's history (milestones and corrections).
    /// @param status The status after this milestone.
    /// @param custodian The custodian after this milestone (zero once delivered).
    /// @param occurredAt Signed time of the event.
    /// @param location Signed UN/LOCODE.
    /// @param measuredWeightGrams Signed measurement (0: not weighed).
    /// @param evidenceHash Signed evidence hash.
    /// @param reasonCode Signed reason code.
    /// @param recordHash EIP-712 struct hash of the signed `Milestone`; chained into the head.
    event MilestoneRecorded(
        bytes32 indexed shipmentId,
        uint8 indexed milestone,
        address indexed signer,
        uint32 index,
        uint8 status,
        address custodian,
        uint64 occurredAt,
        bytes5 location,
        uint64 measuredWeightGrams,
        bytes32 evidenceHash,
        uint16 reasonCode,
        bytes32 recordHash
    );

    /// @notice A measurement differs from `referenceGrams` (the declared weight or the
    ///         previous measurement) by more than the shipment's tolerance.
    event WeightDiscrepancy(
        bytes32 indexed shipmentId, uint64 referenceGrams, uint64 measuredGrams, address indexed signer
    );

    /// @notice The consignee signed the delivery of `shipmentId` with `condition` (history entry `index`).
    event DeliveryReceipted(
        bytes32 indexed shipmentId, address indexed consignee, DeliveryCondition condition, uint64 occurredAt, uint32 index
    );

    /// @notice A milestone with a planned deadline occurred after it.
    event MilestoneLate(bytes32 indexed shipmentId, uint8 indexed milestone, uint64 plannedBy, uint64 occurredAt);

    /// @notice `flaggedBy` flagged that `milestone` had not been reached by `plannedBy`.
    event MilestoneOverdue(
        bytes32 indexed shipmentId, uint8 indexed milestone, uint64 plannedBy, uint64 flaggedAt, address indexed flaggedBy
    );

    /// @notice History entry `correctedIndex` was declared erroneous; the correction is entry `index`.
    event MilestoneCorrected(
        bytes32 indexed shipmentId,
        uint32 indexed correctedIndex,
        address indexed signer,
        uint32 index,
        bytes32 correctedRecordHash,
        uint16 reasonCode,
        bytes32 evidenceHash,
        bytes32 recordHash
    );

    // --------------------------------------------------------------- errors

    /// @notice The shipment id does not start with its seller's address (ids are
    ///         `bytes32(bytes20(seller)) | reference`, so nobody can squat another seller's id).
    error ShipmentIdNotSellers(bytes32 shipmentId, address seller);

    /// @notice A shipment with this id exists already.
    error ShipmentAlreadyExists(bytes32 shipmentId);

    /// @notice No shipment with this id.
    error ShipmentUnknown(bytes32 shipmentId);

    /// @notice The terms name no carrier.
    error ShipmentCarrierMissing(bytes32 shipmentId);

    /// @notice A named party (a carrier) is the zero address.
    error ShipmentPartyInvalid(bytes32 shipmentId, address party);

    /// @notice A declared weight of zero, or a weight above 2^40-1 grams.
    error ShipmentWeightInvalid(bytes32 shipmentId, uint64 weightGrams);

    /// @notice Weight tolerance above 10 000 basis points.
    error ShipmentToleranceInvalid(bytes32 shipmentId, uint16 toleranceBps);

    /// @notice An SLA deadline at or above 2^32 (stored as 32-bit seconds, good until 2106).
    error ShipmentDeadlineInvalid(bytes32 shipmentId, uint64 deadline);

    /// @notice {createShipment} called by someone other than the seller.
    error ShipmentCallerNotSeller(bytes32 shipmentId, address caller, address seller);

    /// @notice `milestone` may not follow `status` (or is not a known milestone).
    error ShipmentMilestoneNotAllowed(bytes32 shipmentId, uint8 status, uint8 milestone);

    /// @notice `signer` is not the party assigned to sign `milestone`.
    error ShipmentSignerNotAuthorized(bytes32 shipmentId, uint8 milestone, address signer);

    /// @notice A correction's signer is not a party of the shipment.
    error ShipmentCorrectionSignerNotParty(bytes32 shipmentId, address signer);

    /// @notice A correction's reason code is not 1 (did not occur), 2 (incorrect data) or 3 (other).
    error ShipmentCorrectionReasonInvalid(bytes32 shipmentId, uint16 reasonCode);

    /// @notice The counterparty is not an assigned carrier/warehouse other than the
    ///         signer (custody transfers), or is non-zero on another milestone.
    error ShipmentCounterpartyInvalid(bytes32 shipmentId, uint8 milestone, address counterparty);

    /// @notice PICKED_UP and HANDOVER go through {recordCustodyTransfer}.
    error ShipmentCosignatureRequired(bytes32 shipmentId, uint8 milestone);

    /// @notice {recordCustodyTransfer} only takes PICKED_UP and HANDOVER.
    error ShipmentCosignatureUnexpected(bytes32 shipmentId, uint8 milestone);

    /// @notice The signature does not verify for `signer` (malformed, high-s, wrong v,
    ///         wrong domain, altered message, or rejected by the ERC-1271 wallet).
    error ShipmentSignatureInvalid(bytes32 shipmentId, address signer);

    /// @notice The signed deadline is before the block time.
    error ShipmentSignatureExpired(bytes32 shipmentId, uint256 deadline, uint256 currentTime);

    /// @notice The signed `occurredAt` is more than `MAX_CLOCK_SKEW` after the block time.
    error ShipmentMilestoneInFuture(bytes32 shipmentId, uint64 occurredAt, uint256 currentTime);

    /// @notice Reason code not allowed for this milestone.
    error ShipmentReasonInvalid(bytes32 shipmentId, uint8 milestone, uint16 reasonCode);

    /// @notice A correction referenced an entry that does not exist (yet).
    error ShipmentCorrectionIndexInvalid(bytes32 shipmentId, uint32 correctedIndex, uint32 historyLength);

    /// @notice The milestone has no planned deadline (or carries no SLA at all).
    error ShipmentNoDeadline(bytes32 shipmentId, uint8 milestone);

    /// @notice The deadline has not passed yet (flagging needs `now > plannedBy`).
    error ShipmentNotOverdue(bytes32 shipmentId, uint8 milestone, uint64 plannedBy, uint256 currentTime);

    /// @notice The shipment already reached that milestone's status.
    error ShipmentMilestoneReached(bytes32 shipmentId, uint8 milestone, uint8 status);

    /// @notice The milestone was flagged overdue before.
    error ShipmentOverdueAlreadyFlagged(bytes32 shipmentId, uint8 milestone);

    /// @notice The shipment was returned or lost; nothing is due any more.
    error ShipmentClosed(bytes32 shipmentId, uint8 status);

    /// @notice {recordMilestones} needs at least one item.
    error ShipmentBatchEmpty();

    /// @notice The shipment names `consignee`: DELIVERED needs its proof ({recordDelivery}).
    error ShipmentProofOfDeliveryRequired(bytes32 shipmentId, address consignee);

    /// @notice {recordDelivery} on a shipment whose terms name no consignee.
    error ShipmentNoConsignee(bytes32 shipmentId);

    /// @notice A delivery condition other than 1 accepted, 2 damaged, 3 refused.
    error ShipmentDeliveryConditionInvalid(bytes32 shipmentId, uint8 condition);

    /// @notice The consignee refused the goods; they can only go back ({MilestoneType-Returned}).
    error ShipmentDeliveryRefused(bytes32 shipmentId);

    // ------------------------------------------------------------ mutations

    /// @notice Register a shipment; the caller must be `terms.seller`.
    /// @dev Reverts {ShipmentCallerNotSeller}, {ShipmentIdNotSellers}, {ShipmentAlreadyExists},
    ///      {ShipmentCarrierMissing}, {ShipmentPartyInvalid}, {ShipmentWeightInvalid}, {ShipmentToleranceInvalid},
    ///      {ShipmentDeadlineInvalid}.
    function createShipment(ShipmentTerms calldata terms) external;

    /// @notice Register a shipment on the seller's behalf with the seller's signature
    ///         over `CreateShipment(ShipmentTerms terms,uint256 nonce,uint256 deadline)`.
    function createShipmentWithSig(ShipmentTerms calldata terms, uint256 nonce, uint256 deadline, bytes calldata signature)
        external;

    /// @notice Record a single-signature milestone (everything except PICKED_UP and HANDOVER).
    /// @dev Anyone may relay. Reverts {ShipmentCosignatureRequired} for custody transfers.
    function recordMilestone(Milestone calldata milestone, bytes calldata signature) external;

    /// @notice Record several single-signature milestones atomically (all or none).
    function recordMilestones(SignedMilestone[] calldata items) external;

    /// @notice Record PICKED_UP or HANDOVER: `signature` by the releasing party
    ///         (`milestone.signer`: the seller, resp. the current custodian) and
    ///         `acceptance` by the receiving party (`milestone.counterparty`), who
    ///         becomes the custodian.
    function recordCustodyTransfer(Milestone calldata milestone, bytes calldata signature, Acceptance calldata acceptance)
        external;

    /// @notice Record DELIVERED with the consignee's proof of delivery: `signature` by the carrier
    ///         holding the goods (`milestone.signer`, with `milestone.counterparty` the consignee)
    ///         and `receipt` by the consignee stating the condition. Accepted or damaged: the
    ///         shipment is Delivered and nobody holds custody. Refused: the status stays
    ///         OutForDelivery with the carrier holding the goods, and only RETURNED may follow.
    /// @dev Reverts {ShipmentNoConsignee}, {ShipmentCounterpartyInvalid} (counterparty is not the
    ///      consignee), {ShipmentDeliveryConditionInvalid}, {ShipmentDeliveryRefused}, and the
    ///      milestone checks of {recordMilestone}.
    function recordDelivery(Milestone calldata milestone, bytes calldata signature, DeliveryReceipt calldata receipt)
        external;

    /// @notice Append a signed correction of an earlier history entry. Any party
    ///         assigned to the shipment (seller included) may sign one. Status and
    ///         custodian are unchanged; state moves only through new milestones.
    function correctMilestone(Correction calldata correction, bytes calldata signature) external;

    /// @notice Flag that the shipment missed `milestone`'s planned deadline. Anyone may call,
    ///         once per milestone, after the deadline (strictly later block time) while the
    ///         status has not reached it.
    function flagOverdue(bytes32 shipmentId, uint8 milestone) external;

    // ---------------------------------------------------------------- views

    /// @notice How far a signed `occurredAt` may lie ahead of the block time (seconds). Signers
    ///         stamp events with their own clock, and a block's time trails the wall clock by up
    ///         to a block interval (longer on chains that mine on demand); more is refused with
    ///         {ShipmentMilestoneInFuture}.
    function MAX_CLOCK_SKEW() external view returns (uint256);

    /// @notice Everything stored about `shipmentId` (zeroed struct if unknown).
    function shipment(bytes32 shipmentId) external view returns (ShipmentView memory);

    /// @notice Current {Status} as uint8 (0: unknown shipment).
    function statusOf(bytes32 shipmentId) external view returns (uint8);

    /// @notice The party currently holding the goods (zero before pickup and after delivery).
    function custodianOf(bytes32 shipmentId) external view returns (address);

    /// @notice Number of history entries (milestones and corrections).
    function milestoneCount(bytes32 shipmentId) external view returns (uint32);

    /// @notice Role bits of `party` on `shipmentId`: 1 seller, 2 carrier, 4 warehouse, 8 customs broker.
    function rolesOf(bytes32 shipmentId, address party) external view returns (uint8);

    /// @notice Whether `recordHashes` (every entry's `recordHash`, in order) is exactly
    ///         the shipment's history: `head = keccak(head ‖ recordHash)` from zero.
    function verifyHistory(bytes32 shipmentId, bytes32[] calldata recordHashes) external view returns (bool);
}
