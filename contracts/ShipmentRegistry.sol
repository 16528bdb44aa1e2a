// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IProofOfDelivery} from "./interfaces/IProofOfDelivery.sol";
import {IShipmentDelivery} from "./interfaces/IShipmentDelivery.sol";
import {IShipmentRegistry} from "./interfaces/IShipmentRegistry.sol";
import {ShipmentState, ShipmentStateLibrary} from "./types/ShipmentState.sol";
import {SignatureRule} from "./utils/SignatureRule.sol";
import {Delegated} from "./utils/Delegated.sol";

/// @title ShipmentRegistry
/// @notice Shipments and their EIP-712-signed milestones; see {IShipmentRegistry}.
/// @dev No owner and no admin: every write is authorised by a shipment party's
///      signature (or, for creation, by the seller calling). Gas design: a milestone
///      touches the signer's nonce, one packed state word and the history head; terms
///      and SLA words are read only when the milestone needs them.
contract ShipmentRegistry is IShipmentRegistry, Delegated {
    /// @inheritdoc IShipmentRegistry
    uint256 public constant MAX_CLOCK_SKEW = 5 minutes;

    bytes32 public constant MILESTONE_TYPEHASH = keccak256(
        "Milestone(bytes32 shipmentId,uint8 milestone,uint16 reasonCode,uint64 occurredAt,bytes5 location,"
        "uint64 measuredWeightGrams,bytes32 evidenceHash,address signer,address counterparty,uint256 nonce,"
        "uint256 deadline)"
    );

    bytes32 public constant CUSTODY_ACCEPTANCE_TYPEHASH = keccak256(
        "CustodyAcceptance(Milestone milestone,uint256 nonce,uint256 deadline)"
        "Milestone(bytes32 shipmentId,uint8 milestone,uint16 reasonCode,uint64 occurredAt,bytes5 location,"
        "uint64 measuredWeightGrams,bytes32 evidenceHash,address signer,address counterparty,uint256 nonce,"
        "uint256 deadline)"
    );

    bytes32 public constant CORRECTION_TYPEHASH = keccak256(
        "Correction(bytes32 shipmentId,uint32 correctedIndex,bytes32 correctedRecordHash,uint16 reasonCode,"
        "bytes32 evidenceHash,address signer,uint256 nonce,uint256 deadline)"
    );

    bytes32 public constant SERVICE_LEVEL_TYPEHASH = keccak256(
        "ServiceLevel(uint64 pickedUpBy,uint64 exportClearedBy,uint64 departedBy,uint64 arrivedBy,"
        "uint64 importClearedBy,uint64 deliveredBy)"
    );

    bytes32 public constant SHIPMENT_TERMS_TYPEHASH = keccak256(
        "ShipmentTerms(bytes32 shipmentId,address seller,bytes5 origin,bytes5 destination,"
        "uint64 declaredWeightGrams,uint32 pieceCount,uint16 weightToleranceBps,bytes32 manifestHash,"
        "address[] carriers,address warehouse,address customsBroker,address consignee,ServiceLevel sla)"
        "ServiceLevel(uint64 pickedUpBy,uint64 exportClearedBy,uint64 departedBy,uint64 arrivedBy,"
        "uint64 importClearedBy,uint64 deliveredBy)"
    );

    bytes32 public constant CREATE_SHIPMENT_TYPEHASH = keccak256(
        "CreateShipment(ShipmentTerms terms,uint256 nonce,uint256 deadline)"
        "ServiceLevel(uint64 pickedUpBy,uint64 exportClearedBy,uint64 departedBy,uint64 arrivedBy,"
        "uint64 importClearedBy,uint64 deliveredBy)"
        "ShipmentTerms(bytes32 shipmentId,address seller,bytes5 origin,bytes5 destination,"
        "uint64 declaredWeightGrams,uint32 pieceCount,uint16 weightToleranceBps,bytes32 manifestHash,"
        "address[] carriers,address warehouse,address customsBroker,address consignee,ServiceLevel sla)"
    );

    bytes32 public constant PROOF_OF_DELIVERY_TYPEHASH = keccak256(
        "ProofOfDelivery(Milestone milestone,uint8 condition,uint256 nonce,uint256 deadline)"
        "Milestone(bytes32 shipmentId,uint8 milestone,uint16 reasonCode,uint64 occurredAt,bytes5 location,"
        "uint64 measuredWeightGrams,bytes32 evidenceHash,address signer,address counterparty,uint256 nonce,"
        "uint256 deadline)"
    );

    /// @notice Role bits stored per (shipment, party).
    uint8 public constant ROLE_SELLER = 1;
    uint8 public constant ROLE_CARRIER = 2;
    uint8 public constant ROLE_WAREHOUSE = 4;
    uint8 public constant ROLE_CUSTOMS_BROKER = 8;

    uint16 public constant REASON_DELAYED = 1;
    uint16 public constant REASON_DAMAGED = 2;
    uint16 public constant REASON_LOST = 3;
    uint16 public constant REASON_OTHER = 4;
    uint16 public constant CORRECTION_DID_NOT_OCCUR = 1;
    uint16 public constant CORRECTION_INCORRECT_DATA = 2;
    uint16 public constant CORRECTION_OTHER = 3;

    // Milestone values (see {IShipmentRegistry-MilestoneType}).
    uint8 private constant _PICKED_UP = 1;
    uint8 private constant _EXPORT_CLEARED = 2;
    uint8 private constant _DEPARTED = 3;
    uint8 private constant _ARRIVED = 4;
    uint8 private constant _CUSTOMS_HOLD = 5;
    uint8 private constant _CUSTOMS_RELEASED = 6;
    uint8 private constant _IMPORT_CLEARED = 7;
    uint8 private constant _WAREHOUSE_INBOUND = 8;
    uint8 private constant _HANDOVER = 9;
    uint8 private constant _OUT_FOR_DELIVERY = 10;
    uint8 private constant _DELIVERED = 11;
    uint8 private constant _RETURNED = 12;
    uint8 private constant _EXCEPTION = 13;

    // Status values (see {IShipmentRegistry-Status}).
    uint8 private constant _CREATED = 1;
    uint8 private constant _IN_TRANSIT = 4;
    uint8 private constant _IMPORT_CLEARED_STATUS = 7;
    uint8 private constant _DELIVERED_STATUS = 10;
    uint8 private constant _RETURNED_STATUS = 11;
    uint8 private constant _LOST = 12;

    // The state machine as two lookup words, indexed by milestone value.
    // _ALLOWED_FROM: 16 bits per milestone; bit s set = allowed in status s.
    // _NEXT_STATUS: 8 bits per milestone; 0 = status unchanged.
    // docs/shipments.md has the same table; tests check every (status, milestone) pair.
    uint256 private constant _ALLOWED_FROM = (uint256(1 << 1) << (16 * 1)) // PICKED_UP: Created
        | (uint256(1 << 2) << (16 * 2)) // EXPORT_CLEARED: PickedUp
        | (uint256((1 << 3) | (1 << 5)) << (16 * 3)) // DEPARTED: ExportCleared, Arrived
        | (uint256(1 << 4) << (16 * 4)) // ARRIVED: InTransit
        | (uint256(1 << 5) << (16 * 5)) // CUSTOMS_HOLD: Arrived
        | (uint256(1 << 6) << (16 * 6)) // CUSTOMS_RELEASED: CustomsHold
        | (uint256(1 << 5) << (16 * 7)) // IMPORT_CLEARED: Arrived
        | (uint256((1 << 7) | (1 << 9)) << (16 * 8)) // WAREHOUSE_INBOUND: ImportCleared, OutForDelivery
        | (uint256((1 << 2) | (1 << 3) | (1 << 5) | (1 << 7) | (1 << 8)) << (16 * 9)) // HANDOVER
        | (uint256((1 << 7) | (1 << 8)) << (16 * 10)) // OUT_FOR_DELIVERY: ImportCleared, InWarehouse
        | (uint256(1 << 9) << (16 * 11)) // DELIVERED: OutForDelivery
        | (uint256(0x3EC) << (16 * 12)) // RETURNED: PickedUp .. OutForDelivery except InTransit
        | (uint256(0x3FE) << (16 * 13)); // EXCEPTION: Created .. OutForDelivery

    uint256 private constant _NEXT_STATUS = (uint256(2) << (8 * 1)) | (uint256(3) << (8 * 2))
        | (uint256(4) << (8 * 3)) | (uint256(5) << (8 * 4)) | (uint256(6) << (8 * 5)) | (uint256(7) << (8 * 6))
        | (uint256(7) << (8 * 7)) | (uint256(8) << (8 * 8)) | (uint256(9) << (8 * 10)) | (uint256(10) << (8 * 11))
        | (uint256(11) << (8 * 12));

    // SLA slot (0..5) of a status, 8 bits per status; 0xFF = no SLA.
    uint256 private constant _SLA_SLOT = ~uint256(0xFFFFFFFFFFFFFFFFFFFFFFFF) // statuses >= 12: none
        | (uint256(0xFF) << (8 * 0)) | (uint256(0xFF) << (8 * 1)) | (uint256(0) << (8 * 2)) // PickedUp
        | (uint256(1) << (8 * 3)) // ExportCleared
        | (uint256(2) << (8 * 4)) // InTransit
        | (uint256(3) << (8 * 5)) // Arrived
        | (uint256(0xFF) << (8 * 6)) | (uint256(4) << (8 * 7)) // ImportCleared
        | (uint256(0xFF) << (8 * 8)) | (uint256(0xFF) << (8 * 9)) | (uint256(5) << (8 * 10)) // Delivered
        | (uint256(0xFF) << (8 * 11));

    uint256 private constant _MAX_UINT40 = (1 << 40) - 1;
    uint256 private constant _MAX_UINT32 = (1 << 32) - 1;
    uint256 private constant _DEADLINES_SHIFT = 56;
    uint256 private constant _FLAGS_SHIFT = 248;
    uint256 private constant _BPS = 10_000;
    // Bit 6 of the state word's SLA-mask byte (bits 0..5 are the SLA mask): the terms name a
    // consignee, so a carrier-only DELIVERED is refused without reading the consignee slot.
    uint8 private constant _POD_REQUIRED = 1 << 6;

    /// @dev Read only by views, {deliveryOf}, {deliveryFacts} and DELIVERED (writes `deliveredAt`
    ///      and `condition`). One slot.
    struct Party {
        address seller;
        uint40 deliveredAt;
        uint40 createdAt;
        DeliveryCondition condition;
    }

    /// @dev Not read on the milestone path: one slot.
    struct Meta {
        bytes5 origin;
        bytes5 destination;
        uint32 pieceCount;
    }

    struct Record {
        // Custodian, status, roles, history length, last weight, SLA mask: see {ShipmentState}.
        ShipmentState state;
        bytes32 head;
        // Everything a milestone may need to reconcile, in one slot read at most once:
        // declaredWeightGrams bits 0..39, toleranceBps 40..55, six 32-bit SLA deadlines
        // (slot i at 56+32i), overdue flags at 248+i.
        uint256 plan;
        Party party;
        Meta meta;
        bytes32 manifestHash;
        address consignee;
    }

    mapping(bytes32 shipmentId => Record) private _shipments;
    mapping(bytes32 shipmentId => mapping(address party => uint8 roles)) private _roles;

    constructor() Delegated("ShipmentRegistry") {}

    // ------------------------------------------------------------ creation

    /// @inheritdoc IShipmentRegistry
    function createShipment(ShipmentTerms calldata terms) external {
        if (msg.sender != terms.seller) revert ShipmentCallerNotSeller(terms.shipmentId, msg.sender, terms.seller);
        _create(terms);
    }

    /// @inheritdoc IShipmentRegistry
    function createShipmentWithSig(ShipmentTerms calldata terms, uint256 nonce, uint256 deadline, bytes calldata signature)
        external
    {
        if (_now() > deadline) revert ShipmentSignatureExpired(terms.shipmentId, deadline, _now());
        bytes32 structHash = keccak256(abi.encode(CREATE_SHIPMENT_TYPEHASH, _hashTerms(terms), nonce, deadline));
        _checkSignature(terms.shipmentId, terms.seller, _hashTypedDataV4(structHash), signature);
        _useCheckedNonce(terms.seller, nonce);
        _create(terms);
    }

    function _create(ShipmentTerms calldata t) private {
        bytes32 id = t.shipmentId;
        // The id commits to its seller (`seller ‖ 96-bit reference`), so nobody who sees a
        // signed creation can take the id first for another seller.
        if (address(bytes20(id)) != t.seller) revert ShipmentIdNotSellers(id, t.seller);
        Record storage r = _shipments[id];
        if (r.state.status() != 0) revert ShipmentAlreadyExists(id);
        // The seller is never zero: it is msg.sender, or a signer ECDSA/ERC-1271 accepted.
        if (t.carriers.length == 0) revert ShipmentCarrierMissing(id);
        if (t.declaredWeightGrams == 0 || t.declaredWeightGrams > _MAX_UINT40) {
            revert ShipmentWeightInvalid(id, t.declaredWeightGrams);
        }
        if (t.weightToleranceBps > _BPS) revert ShipmentToleranceInvalid(id, t.weightToleranceBps);

        uint256 deadlines = _packSla(id, t.sla);
        uint8 slaMask = 0;
        for (uint256 i; i < 6; ++i) {
            if ((deadlines >> (32 * i)) & _MAX_UINT32 != 0) slaMask |= uint8(1 << i);
        }
        if (t.consignee != address(0)) {
            slaMask |= _POD_REQUIRED;
            r.consignee = t.consignee;
        }
        r.state = ShipmentStateLibrary.initial(_CREATED, slaMask);
        // Block time < 2^40 until the year 36812.
        r.party = Party({
            seller: t.seller,
            deliveredAt: 0,
            createdAt: uint40(_now()),
            condition: DeliveryCondition.None
        });
        r.plan = uint256(t.declaredWeightGrams) | (uint256(t.weightToleranceBps) << 40)
            | (deadlines << _DEADLINES_SHIFT);
        r.meta = Meta({origin: t.origin, destination: t.destination, pieceCount: t.pieceCount});
        r.manifestHash = t.manifestHash;

        mapping(address party => uint8 roles) storage roles = _roles[id];
        roles[t.seller] |= ROLE_SELLER;
        for (uint256 i; i < t.carriers.length; ++i) {
            address carrier = t.carriers[i];
            if (carrier == address(0)) revert ShipmentPartyInvalid(id, carrier);
            roles[carrier] |= ROLE_CARRIER;
        }
        if (t.warehouse != address(0)) roles[t.warehouse] |= ROLE_WAREHOUSE;
        if (t.customsBroker != address(0)) roles[t.customsBroker] |= ROLE_CUSTOMS_BROKER;

        emit ShipmentCreated(id, t.seller, t);
    }

    function _packSla(bytes32 id, ServiceLevel calldata s) private pure returns (uint256 packed) {
        uint64[6] memory d =
            [s.pickedUpBy, s.exportClearedBy, s.departedBy, s.arrivedBy, s.importClearedBy, s.deliveredBy];
        for (uint256 i; i < 6; ++i) {
            if (d[i] > _MAX_UINT32) revert ShipmentDeadlineInvalid(id, d[i]);
            packed |= uint256(d[i]) << (32 * i);
        }
    }

    function _hashTerms(ShipmentTerms calldata t) private pure returns (bytes32) {
        bytes32 slaHash = keccak256(abi.encode(SERVICE_LEVEL_TYPEHASH, t.sla));
        return keccak256(
            bytes.concat(
                abi.encode(
                    SHIPMENT_TERMS_TYPEHASH,
                    t.shipmentId,
                    t.seller,
                    t.origin,
                    t.destination,
                    t.declaredWeightGrams,
                    t.pieceCount,
                    t.weightToleranceBps
                ),
                abi.encode(
                    t.manifestHash,
                    keccak256(abi.encodePacked(t.carriers)),
                    t.warehouse,
                    t.customsBroker,
                    t.consignee,
                    slaHash
                )
            )
        );
    }

    // ---------------------------------------------------------- milestones

    /// @inheritdoc IShipmentRegistry
    function recordMilestone(Milestone calldata milestone, bytes calldata signature) external {
        _recordSingle(milestone, signature);
    }

    /// @inheritdoc IShipmentRegistry
    function recordMilestones(SignedMilestone[] calldata items) external {
        uint256 n = items.length;
        if (n == 0) revert ShipmentBatchEmpty();
        for (uint256 i; i < n; ++i) {
            _recordSingle(items[i].milestone, items[i].signature);
        }
    }

    function _recordSingle(Milestone calldata m, bytes calldata signature) private {
        bytes32 id = m.shipmentId;
        uint8 kind = m.milestone;
        if (kind == _PICKED_UP || kind == _HANDOVER) revert ShipmentCosignatureRequired(id, kind);
        Record storage r = _shipments[id];
        ShipmentState st = r.state;
        uint8 next = _transition(id, st.status(), kind, m.reasonCode);
        if (m.counterparty != address(0)) revert ShipmentCounterpartyInvalid(id, kind, m.counterparty);

        address signer = m.signer;
        if (kind == _DEPARTED || kind == _ARRIVED || kind == _OUT_FOR_DELIVERY || kind == _DELIVERED) {
            // The carrier holding the goods reports their movement; no role lookup needed.
            if (signer != st.custodian() || st.custodianRoles() & ROLE_CARRIER == 0) {
                revert ShipmentSignerNotAuthorized(id, kind, signer);
            }
            if (kind == _DELIVERED) {
                if (st.slaMask() & _POD_REQUIRED != 0) revert ShipmentProofOfDeliveryRequired(id, r.consignee);
                st = st.withCustodian(address(0), 0);
            }
        } else {
            uint8 roles = _roles[id][signer];
            if (roles & _requiredRole(kind) == 0) revert ShipmentSignerNotAuthorized(id, kind, signer);
            if (kind == _WAREHOUSE_INBOUND || kind == _RETURNED) st = st.withCustodian(signer, roles);
        }
        bytes32 recordHash = _verify(m, signature);
        // occurredAt <= block time < 2^40 was checked by _verify.
        if (kind == _DELIVERED) r.party.deliveredAt = uint40(m.occurredAt);
        _commit(r, st, m, next, recordHash);
    }

    /// @inheritdoc IShipmentRegistry
    function recordDelivery(Milestone calldata m, bytes calldata signature, DeliveryReceipt calldata receipt)
        external
    {
        Record storage r = _shipments[m.shipmentId];
        (ShipmentState st, uint8 next, address consignee) = _prepareDelivery(r, m, receipt.condition);
        bytes32 recordHash = _verify(m, signature);
        _receipt(m.shipmentId, consignee, recordHash, receipt);

        Party memory party = r.party;
        party.condition = DeliveryCondition(receipt.condition);
        // occurredAt <= block time < 2^40 was checked by _verify. For a refusal it is the time
        // of the refused attempt; {deliveryOf} still reports the shipment as not delivered.
        party.deliveredAt = uint40(m.occurredAt);
        if (party.condition == DeliveryCondition.Refused) {
            // The goods stay with the carrier, who takes them back (RETURNED).
            next = st.status();
        } else {
            st = st.withCustodian(address(0), 0);
        }
        r.party = party;
        emit DeliveryReceipted(m.shipmentId, consignee, party.condition, m.occurredAt, st.historyLength());
        _commit(r, st, m, next, recordHash);
    }

    /// @dev Checks a delivery's parties and condition; returns the state, next status and consignee.
    function _prepareDelivery(Record storage r, Milestone calldata m, uint8 condition)
        private
        view
        returns (ShipmentState st, uint8 next, address consignee)
    {
        bytes32 id = m.shipmentId;
        if (m.milestone != _DELIVERED) revert ShipmentCosignatureUnexpected(id, m.milestone);
        st = r.state;
        next = _transition(id, st.status(), _DELIVERED, m.reasonCode);
        consignee = r.consignee;
        if (consignee == address(0)) revert ShipmentNoConsignee(id);
        if (m.counterparty != consignee) revert ShipmentCounterpartyInvalid(id, _DELIVERED, m.counterparty);
        if (m.signer != st.custodian() || st.custodianRoles() & ROLE_CARRIER == 0) {
            revert ShipmentSignerNotAuthorized(id, _DELIVERED, m.signer);
        }
        if (r.party.condition == DeliveryCondition.Refused) revert ShipmentDeliveryRefused(id);
        if (condition == 0 || condition > uint8(DeliveryCondition.Refused)) {
            revert ShipmentDeliveryConditionInvalid(id, condition);
        }
    }

    /// @dev The consignee's proof of delivery over the carrier's milestone struct hash.
    function _receipt(bytes32 id, address consignee, bytes32 recordHash, DeliveryReceipt calldata receipt) private {
        if (_now() > receipt.deadline) revert ShipmentSignatureExpired(id, receipt.deadline, _now());
        bytes32 receiptHash = keccak256(
            abi.encode(PROOF_OF_DELIVERY_TYPEHASH, recordHash, receipt.condition, receipt.nonce, receipt.deadline)
        );
        _checkSignature(id, consignee, _hashTypedDataV4(receiptHash), receipt.signature);
        _useCheckedNonce(consignee, receipt.nonce);
    }

    /// @inheritdoc IShipmentRegistry
    function recordCustodyTransfer(Milestone calldata m, bytes calldata signature, Acceptance calldata acceptance)
        external
    {
        Record storage r = _shipments[m.shipmentId];
        (ShipmentState st, uint8 next) = _prepareTransfer(r, m);
        bytes32 recordHash = _verify(m, signature);
        _accept(m.shipmentId, m.counterparty, recordHash, acceptance);
        _commit(r, st, m, next, recordHash);
    }

    /// @dev Checks a custody transfer's parties; returns the state with the new custodian.
    function _prepareTransfer(Record storage r, Milestone calldata m)
        private
        view
        returns (ShipmentState st, uint8 next)
    {
        bytes32 id = m.shipmentId;
        uint8 kind = m.milestone;
        if (kind != _PICKED_UP && kind != _HANDOVER) revert ShipmentCosignatureUnexpected(id, kind);
        st = r.state;
        next = _transition(id, st.status(), kind, m.reasonCode);

        mapping(address party => uint8 roles) storage roles = _roles[id];
        if (kind == _PICKED_UP ? roles[m.signer] & ROLE_SELLER == 0 : m.signer != st.custodian()) {
            revert ShipmentSignerNotAuthorized(id, kind, m.signer);
        }
        address receiver = m.counterparty;
        uint8 receiverRoles = roles[receiver];
        uint8 acceptedRoles = kind == _PICKED_UP ? ROLE_CARRIER : ROLE_CARRIER | ROLE_WAREHOUSE;
        if (receiver == m.signer || receiverRoles & acceptedRoles == 0) {
            revert ShipmentCounterpartyInvalid(id, kind, receiver);
        }
        st = st.withCustodian(receiver, receiverRoles);
    }

    /// @dev The receiving party's countersignature over the milestone's struct hash.
    function _accept(bytes32 id, address receiver, bytes32 recordHash, Acceptance calldata acceptance) private {
        if (_now() > acceptance.deadline) revert ShipmentSignatureExpired(id, acceptance.deadline, _now());
        bytes32 acceptanceHash =
            keccak256(abi.encode(CUSTODY_ACCEPTANCE_TYPEHASH, recordHash, acceptance.nonce, acceptance.deadline));
        _checkSignature(id, receiver, _hashTypedDataV4(acceptanceHash), acceptance.signature);
        _useCheckedNonce(receiver, acceptance.nonce);
    }

    /// @dev Checks the transition and reason code; returns the status after `kind`.
    function _transition(bytes32 id, uint8 status, uint8 kind, uint16 reason) private pure returns (uint8 next) {
        if (status == 0) revert ShipmentUnknown(id);
        // Unknown milestone values (0, > 13) have no allowed status, so they fail here too.
        if (kind > _EXCEPTION || (_ALLOWED_FROM >> (16 * uint256(kind) + status)) & 1 == 0) {
            revert ShipmentMilestoneNotAllowed(id, status, kind);
        }
        next = uint8(_NEXT_STATUS >> (8 * uint256(kind)));
        if (kind == _EXCEPTION) {
            if (reason == 0 || reason > REASON_OTHER) revert ShipmentReasonInvalid(id, kind, reason);
            if (reason == REASON_LOST) next = _LOST;
        } else if (kind != _CUSTOMS_HOLD && reason != 0) {
            revert ShipmentReasonInvalid(id, kind, reason);
        }
        if (next == 0) next = status;
    }

    function _requiredRole(uint8 kind) private pure returns (uint8) {
        if (kind == _WAREHOUSE_INBOUND) return ROLE_WAREHOUSE;
        if (kind == _RETURNED) return ROLE_SELLER;
        if (kind == _EXCEPTION) return ROLE_SELLER | ROLE_CARRIER | ROLE_WAREHOUSE | ROLE_CUSTOMS_BROKER;
        // EXPORT_CLEARED, CUSTOMS_HOLD, CUSTOMS_RELEASED, IMPORT_CLEARED.
        return ROLE_CUSTOMS_BROKER;
    }

    /// @dev Deadline, clock, signature and nonce of a signed milestone; returns its struct hash.
    function _verify(Milestone calldata m, bytes calldata signature) private returns (bytes32 recordHash) {
        uint256 nowTs = _now();
        if (nowTs > m.deadline) revert ShipmentSignatureExpired(m.shipmentId, m.deadline, nowTs);
        if (m.occurredAt > nowTs + MAX_CLOCK_SKEW) {
            revert ShipmentMilestoneInFuture(m.shipmentId, m.occurredAt, nowTs);
        }
        if (m.measuredWeightGrams > _MAX_UINT40) revert ShipmentWeightInvalid(m.shipmentId, m.measuredWeightGrams);
        recordHash = _hashMilestone(m);
        _checkSignature(m.shipmentId, m.signer, _hashTypedDataV4(recordHash), signature);
        _useCheckedNonce(m.signer, m.nonce);
    }

    /// @dev Weight reconciliation, SLA, history head, state write and event.
    function _commit(Record storage r, ShipmentState st, Milestone calldata m, uint8 next, bytes32 recordHash)
        private
    {
        bytes32 id = m.shipmentId;
        uint256 measured = m.measuredWeightGrams;
        uint256 slot = uint8(_SLA_SLOT >> (8 * uint256(next)));
        bool slaDue = slot != 0xFF && next != st.status() && (st.slaMask() >> slot) & 1 != 0;
        if (measured != 0 || slaDue) {
            uint256 plan = r.plan;
            if (measured != 0) {
                uint256 declared = plan & _MAX_UINT40;
                uint256 tolerance = uint16(plan >> 40);
                if (_outside(declared, measured, tolerance)) {
                    emit WeightDiscrepancy(id, uint64(declared), uint64(measured), m.signer);
                }
                uint256 previous = st.lastWeightGrams();
                if (previous != 0 && previous != declared && _outside(previous, measured, tolerance)) {
                    emit WeightDiscrepancy(id, uint64(previous), uint64(measured), m.signer);
                }
                // measured <= 2^40-1, checked in _verify.
                st = st.withLastWeightGrams(uint40(measured));
            }
            if (slaDue) {
                uint64 plannedBy = uint64((plan >> (_DEADLINES_SHIFT + 32 * slot)) & _MAX_UINT32);
                if (plannedBy != 0 && m.occurredAt > plannedBy) {
                    emit MilestoneLate(id, m.milestone, plannedBy, m.occurredAt);
                }
            }
        }

        uint32 index = st.historyLength();
        r.head = _chain(r.head, recordHash);
        // Cannot overflow in practice: 2^32 entries per shipment would cost > 2^32 * 21 000 gas.
        unchecked {
            st = st.withStatus(next).withHistoryLength(index + 1);
        }
        r.state = st;
        _emitRecorded(m, index, next, st.custodian(), recordHash);
    }

    function _emitRecorded(Milestone calldata m, uint32 index, uint8 status, address custodian, bytes32 recordHash)
        private
    {
        emit MilestoneRecorded(
            m.shipmentId,
            m.milestone,
            m.signer,
            index,
            status,
            custodian,
            m.occurredAt,
            m.location,
            m.measuredWeightGrams,
            m.evidenceHash,
            m.reasonCode,
            recordHash
        );
    }

    function _outside(uint256 expected, uint256 measured, uint256 toleranceBps) private pure returns (bool) {
        uint256 diff = measured > expected ? measured - expected : expected - measured;
        // Both factors are below 2^40 * 10^4: no overflow.
        return diff * _BPS > expected * toleranceBps;
    }

    function _chain(bytes32 head, bytes32 recordHash) private pure returns (bytes32 next) {
        assembly ("memory-safe") {
            mstore(0x00, head)
            mstore(0x20, recordHash)
            next := keccak256(0x00, 0x40)
        }
    }

    /// @dev `hashStruct(Milestone)`. Every field is a static 32-byte word, so the ABI
    ///      encoding of the calldata struct is exactly EIP-712 `encodeData`; it is copied
    ///      and hashed as is. Non-canonical (dirty) words change the hash, so such
    ///      calldata fails signature verification instead of being reinterpreted.
    function _hashMilestone(Milestone calldata m) private pure returns (bytes32 h) {
        bytes32 typehash = MILESTONE_TYPEHASH;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, typehash)
            calldatacopy(add(ptr, 0x20), m, 0x160)
            h := keccak256(ptr, 0x180)
        }
    }

    /// @dev {SignatureRule} (ECDSA first, then ERC-1271), reverting with the shipment id.
    function _checkSignature(bytes32 id, address signer, bytes32 digest, bytes calldata signature) private view {
        if (!SignatureRule.isValidNow(signer, digest, signature)) revert ShipmentSignatureInvalid(id, signer);
    }

    // --------------------------------------------------------- corrections

    /// @inheritdoc IShipmentRegistry
    function correctMilestone(Correction calldata c, bytes calldata signature) external {
        bytes32 id = c.shipmentId;
        Record storage r = _shipments[id];
        ShipmentState st = r.state;
        uint32 length = st.historyLength();
        if (st.status() == 0) revert ShipmentUnknown(id);
        if (c.correctedIndex >= length) {
            revert ShipmentCorrectionIndexInvalid(id, c.correctedIndex, length);
        }
        if (c.reasonCode == 0 || c.reasonCode > CORRECTION_OTHER) {
            revert ShipmentCorrectionReasonInvalid(id, c.reasonCode);
        }
        if (_roles[id][c.signer] == 0) revert ShipmentCorrectionSignerNotParty(id, c.signer);
        if (_now() > c.deadline) revert ShipmentSignatureExpired(id, c.deadline, _now());
        bytes32 recordHash = keccak256(abi.encode(CORRECTION_TYPEHASH, c));
        _checkSignature(id, c.signer, _hashTypedDataV4(recordHash), signature);
        _useCheckedNonce(c.signer, c.nonce);

        uint32 index = length;
        r.head = _chain(r.head, recordHash);
        // See _commit.
        unchecked {
            r.state = st.withHistoryLength(index + 1);
        }
        emit MilestoneCorrected(
            id, c.correctedIndex, c.signer, index, c.correctedRecordHash, c.reasonCode, c.evidenceHash, recordHash
        );
    }

    // ----------------------------------------------------------------- SLA

    /// @inheritdoc IShipmentRegistry
    function flagOverdue(bytes32 shipmentId, uint8 milestone) external {
        Record storage r = _shipments[shipmentId];
        uint8 status = r.state.status();
        if (status == 0) revert ShipmentUnknown(shipmentId);
        if (status == _RETURNED_STATUS || status == _LOST) revert ShipmentClosed(shipmentId, status);
        uint256 target = milestone <= _EXCEPTION ? uint8(_NEXT_STATUS >> (8 * uint256(milestone))) : 0;
        uint256 slot = uint8(_SLA_SLOT >> (8 * target));
        uint256 plan = r.plan;
        uint64 plannedBy =
            slot == 0xFF || target == 0 ? 0 : uint64((plan >> (_DEADLINES_SHIFT + 32 * slot)) & _MAX_UINT32);
        if (plannedBy == 0) revert ShipmentNoDeadline(shipmentId, milestone);
        if (status >= target) revert ShipmentMilestoneReached(shipmentId, milestone, status);
        uint256 nowTs = _now();
        if (nowTs <= plannedBy) revert ShipmentNotOverdue(shipmentId, milestone, plannedBy, nowTs);
        uint256 flag = uint256(1) << (_FLAGS_SHIFT + slot);
        if (plan & flag != 0) revert ShipmentOverdueAlreadyFlagged(shipmentId, milestone);
        r.plan = plan | flag;
        emit MilestoneOverdue(shipmentId, milestone, plannedBy, uint64(nowTs), msg.sender);
    }

    // --------------------------------------------------------------- views

    /// @inheritdoc IShipmentRegistry
    function shipment(bytes32 shipmentId) external view returns (ShipmentView memory v) {
        Record storage r = _shipments[shipmentId];
        ShipmentState st = r.state;
        uint256 plan = r.plan;
        uint256 d = plan >> _DEADLINES_SHIFT;
        v.seller = r.party.seller;
        v.status = st.status();
        v.custodian = st.custodian();
        v.historyLength = st.historyLength();
        v.historyHead = r.head;
        v.lastMeasuredWeightGrams = st.lastWeightGrams();
        v.declaredWeightGrams = uint64(plan & _MAX_UINT40);
        v.weightToleranceBps = uint16(plan >> 40);
        v.pieceCount = r.meta.pieceCount;
        v.origin = r.meta.origin;
        v.destination = r.meta.destination;
        v.manifestHash = r.manifestHash;
        v.sla = ServiceLevel({
            pickedUpBy: uint32(d),
            exportClearedBy: uint32(d >> 32),
            departedBy: uint32(d >> 64),
            arrivedBy: uint32(d >> 96),
            importClearedBy: uint32(d >> 128),
            deliveredBy: uint32(d >> 160)
        });
        v.overdueFlags = uint8(plan >> _FLAGS_SHIFT);
        Party memory party = r.party;
        v.deliveredAt = party.deliveredAt;
        v.consignee = r.consignee;
        v.createdAt = party.createdAt;
        v.deliveryCondition = party.condition;
    }

    /// @inheritdoc IShipmentRegistry
    function statusOf(bytes32 shipmentId) external view returns (uint8) {
        return _shipments[shipmentId].state.status();
    }

    /// @inheritdoc IShipmentRegistry
    function custodianOf(bytes32 shipmentId) external view returns (address) {
        return _shipments[shipmentId].state.custodian();
    }

    /// @inheritdoc IShipmentRegistry
    function milestoneCount(bytes32 shipmentId) external view returns (uint32) {
        return _shipments[shipmentId].state.historyLength();
    }

    /// @inheritdoc IShipmentRegistry
    function rolesOf(bytes32 shipmentId, address party) external view returns (uint8) {
        return _roles[shipmentId][party];
    }

    /// @inheritdoc IShipmentRegistry
    function verifyHistory(bytes32 shipmentId, bytes32[] calldata recordHashes) external view returns (bool) {
        Record storage r = _shipments[shipmentId];
        if (recordHashes.length != r.state.historyLength()) return false;
        bytes32 head = bytes32(0);
        for (uint256 i; i < recordHashes.length; ++i) {
            head = _chain(head, recordHashes[i]);
        }
        return head == r.head;
    }

    /// @inheritdoc IShipmentDelivery
    function deliveryOf(bytes32 shipmentId) external view returns (address seller, bool delivered, uint64 deliveredAt) {
        Record storage r = _shipments[shipmentId];
        seller = r.party.seller;
        delivered = r.state.status() == _DELIVERED_STATUS;
        deliveredAt = r.party.deliveredAt;
    }

    /// @inheritdoc IProofOfDelivery
    function deliveryFacts(bytes32 shipmentId) external view returns (DeliveryFacts memory f) {
        Record storage r = _shipments[shipmentId];
        Party memory party = r.party;
        ShipmentState st = r.state;
        uint256 plan = r.plan;
        f.seller = party.seller;
        f.consignee = r.consignee;
        f.createdAt = party.createdAt;
        f.status = st.status();
        f.condition = party.condition;
        f.conditionAt = party.deliveredAt;
        f.declaredWeightGrams = uint64(plan & _MAX_UINT40);
        f.lastMeasuredWeightGrams = st.lastWeightGrams();
        f.weightToleranceBps = uint16(plan >> 40);
    }
}
