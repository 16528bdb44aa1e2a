"""Domain verbs over ``ShipmentRegistry``.

Messages are built and signed with :mod:`backend.chain.typed_data.shipments`
(offline, no chain needed); this client relays them and reads state back.
Per-entry history is not stored on chain: :meth:`ShipmentRegistryClient.history`
rebuilds it from events and proves it against the on-chain history head.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from backend.chain.client import ChainClient, TxResult
from backend.chain.eip712 import Domain
from backend.chain.errors import ChainError
from backend.chain.typed_data.shipments import (
    CORRECTION,
    MILESTONE,
    SHIPMENT_TERMS,
    DeliveryCondition,
    MilestoneType,
    Role,
    Status,
    as_abi_tuple,
    locode_text,
)

ZERO_ADDRESS = "0x" + "00" * 20


class HistoryMismatch(ChainError):
    """Events read from the node do not hash to the on-chain history head."""


@dataclass(frozen=True)
class ServiceLevelInfo:
    """Planned deadlines (Unix seconds; 0: none)."""

    picked_up_by: int
    export_cleared_by: int
    departed_by: int
    arrived_by: int
    import_cleared_by: int
    delivered_by: int


@dataclass(frozen=True)
class ShipmentInfo:
    """Everything the registry stores about one shipment."""

    shipment_id: bytes
    seller: str
    status: Status
    custodian: str | None
    history_length: int
    history_head: bytes
    last_measured_weight_grams: int
    declared_weight_grams: int
    weight_tolerance_bps: int
    piece_count: int
    origin: str
    destination: str
    manifest_hash: bytes
    sla: ServiceLevelInfo
    overdue_flags: int
    delivered_at: int | None
    consignee: str | None = None
    created_at: int = 0
    delivery_condition: DeliveryCondition = DeliveryCondition.NONE


@dataclass(frozen=True)
class HistoryEntry:
    """One history entry (a milestone or a correction) rebuilt from its event."""

    index: int
    kind: str  # "milestone" | "correction"
    signer: str
    record_hash: bytes
    block_number: int
    tx_hash: str
    milestone: MilestoneType | None = None
    status: Status | None = None
    custodian: str | None = None
    occurred_at: int | None = None
    location: str = ""
    measured_weight_grams: int = 0
    evidence_hash: bytes = b""
    reason_code: int = 0
    corrected_index: int | None = None
    corrected_record_hash: bytes | None = None


@dataclass(frozen=True)
class Delivery:
    """``deliveryOf`` as a dataclass."""

    seller: str
    delivered: bool
    delivered_at: int


@dataclass(frozen=True)
class DeliveryFacts:
    """``deliveryFacts``: what the registry proves about a delivery (``IProofOfDelivery``)."""

    seller: str
    consignee: str | None
    created_at: int
    status: Status
    condition: DeliveryCondition
    condition_at: int
    declared_weight_grams: int
    last_measured_weight_grams: int
    weight_tolerance_bps: int


class ShipmentRegistryClient:
    """Create shipments, relay signed milestones and read shipment state."""

    def __init__(self, chain: ChainClient, address: str) -> None:
        self.chain = chain
        self.address = address
        self.contract = chain.contract("ShipmentRegistry", address)
        self._domain: Domain | None = None

    # -- signing context ------------------------------------------------

    def domain(self) -> Domain:
        """The EIP-712 domain read from ``eip712Domain()`` (cached)."""
        if self._domain is None:
            self._domain = self.chain.eip712_domain(self.contract)
        return self._domain

    def nonce(self, party: str) -> int:
        """The next nonce ``party`` must sign with."""
        return int(self.chain.call(self.contract, "nonces", party))

    def with_chain(self, chain: ChainClient) -> ShipmentRegistryClient:
        """The same registry seen through another account (e.g. a seller sending directly)."""
        return ShipmentRegistryClient(chain, self.address)

    # -- writes ----------------------------------------------------------

    def create_shipment(self, terms: Mapping[str, Any]) -> TxResult:
        """Create as the seller itself (the client's account must be ``terms['seller']``)."""
        return self.chain.transact(
            self.contract, "createShipment", as_abi_tuple(SHIPMENT_TERMS, terms)
        )

    def create_shipment_with_sig(
        self, terms: Mapping[str, Any], *, nonce: int, deadline: int, signature: bytes
    ) -> TxResult:
        """Relay a creation the seller signed (``sign_create_shipment``)."""
        return self.chain.transact(
            self.contract,
            "createShipmentWithSig",
            as_abi_tuple(SHIPMENT_TERMS, terms),
            nonce,
            deadline,
            signature,
        )

    def record_milestone(self, message: Mapping[str, Any], signature: bytes) -> TxResult:
        """Relay one single-signature milestone."""
        return self.chain.transact(
            self.contract, "recordMilestone", as_abi_tuple(MILESTONE, message), signature
        )

    def record_milestones(
        self, items: Iterable[tuple[Mapping[str, Any], bytes]], *, gas: int | None = None
    ) -> TxResult:
        """Relay many single-signature milestones in one transaction (all or none)."""
        batch = [(as_abi_tuple(MILESTONE, m), sig) for m, sig in items]
        return self.chain.transact(self.contract, "recordMilestones", batch, gas=gas)

    def record_custody_transfer(
        self,
        message: Mapping[str, Any],
        signature: bytes,
        *,
        acceptance_nonce: int,
        acceptance_deadline: int,
        acceptance_signature: bytes,
    ) -> TxResult:
        """Relay PICKED_UP / HANDOVER with the releasing and the receiving party's signatures."""
        return self.chain.transact(
            self.contract,
            "recordCustodyTransfer",
            as_abi_tuple(MILESTONE, message),
            signature,
            (acceptance_nonce, acceptance_deadline, acceptance_signature),
        )

    def record_delivery(
        self,
        message: Mapping[str, Any],
        signature: bytes,
        *,
        condition: DeliveryCondition | int,
        receipt_nonce: int,
        receipt_deadline: int,
        receipt_signature: bytes,
    ) -> TxResult:
        """Relay DELIVERED with the carrier's signature and the consignee's proof of delivery."""
        return self.chain.transact(
            self.contract,
            "recordDelivery",
            as_abi_tuple(MILESTONE, message),
            signature,
            (int(condition), receipt_nonce, receipt_deadline, receipt_signature),
        )

    def correct(self, message: Mapping[str, Any], signature: bytes) -> TxResult:
        """Relay a signed correction of an earlier history entry."""
        return self.chain.transact(
            self.contract, "correctMilestone", as_abi_tuple(CORRECTION, message), signature
        )

    def flag_overdue(self, shipment_id: bytes, milestone: MilestoneType | int) -> TxResult:
        """Flag a milestone whose planned deadline passed (anyone may)."""
        return self.chain.transact(self.contract, "flagOverdue", shipment_id, int(milestone))

    def calldata_record_milestones(self, items: Sequence[tuple[Mapping[str, Any], bytes]]) -> str:
        """Encoded batch call, for callers that manage sending and fee bumps themselves."""
        batch = [(as_abi_tuple(MILESTONE, m), sig) for m, sig in items]
        return self.chain.encode(self.contract, "recordMilestones", batch)

    # -- reads -----------------------------------------------------------

    def shipment(self, shipment_id: bytes, block: int | str = "latest") -> ShipmentInfo | None:
        """The stored shipment, or None if unknown."""
        v = self.chain.call(self.contract, "shipment", shipment_id, block=block)
        (
            seller,
            status,
            custodian,
            length,
            head,
            last_weight,
            declared,
            tolerance,
            pieces,
            origin,
            destination,
            manifest,
            sla,
            overdue,
            delivered_at,
            consignee,
            created_at,
            condition,
        ) = v
        if status == Status.NONE:
            return None
        return ShipmentInfo(
            shipment_id=shipment_id,
            seller=seller,
            status=Status(status),
            custodian=None if custodian == ZERO_ADDRESS else custodian,
            history_length=int(length),
            history_head=bytes(head),
            last_measured_weight_grams=int(last_weight),
            declared_weight_grams=int(declared),
            weight_tolerance_bps=int(tolerance),
            piece_count=int(pieces),
            origin=locode_text(bytes(origin)),
            destination=locode_text(bytes(destination)),
            manifest_hash=bytes(manifest),
            sla=ServiceLevelInfo(*(int(x) for x in sla)),
            overdue_flags=int(overdue),
            delivered_at=int(delivered_at) or None,
            consignee=None if consignee == ZERO_ADDRESS else consignee,
            created_at=int(created_at),
            delivery_condition=DeliveryCondition(condition),
        )

    def status(self, shipment_id: bytes) -> Status:
        return Status(self.chain.call(self.contract, "statusOf", shipment_id))

    def custodian(self, shipment_id: bytes) -> str | None:
        """Who holds the goods now (None before pickup and after delivery)."""
        addr = str(self.chain.call(self.contract, "custodianOf", shipment_id))
        return None if addr == ZERO_ADDRESS else addr

    def milestone_count(self, shipment_id: bytes) -> int:
        return int(self.chain.call(self.contract, "milestoneCount", shipment_id))

    def roles_of(self, shipment_id: bytes, party: str) -> Role:
        return Role(self.chain.call(self.contract, "rolesOf", shipment_id, party))

    def delivery_of(self, shipment_id: bytes) -> Delivery:
        seller, delivered, at = self.chain.call(self.contract, "deliveryOf", shipment_id)
        return Delivery(seller, bool(delivered), int(at))

    def delivery_facts(self, shipment_id: bytes) -> DeliveryFacts:
        f = self.chain.call(self.contract, "deliveryFacts", shipment_id)
        seller, consignee, created, status, condition, at, declared, measured, tolerance = f
        return DeliveryFacts(
            seller=seller,
            consignee=None if consignee == ZERO_ADDRESS else consignee,
            created_at=int(created),
            status=Status(status),
            condition=DeliveryCondition(condition),
            condition_at=int(at),
            declared_weight_grams=int(declared),
            last_measured_weight_grams=int(measured),
            weight_tolerance_bps=int(tolerance),
        )

    def verify_history(self, shipment_id: bytes, record_hashes: Sequence[bytes]) -> bool:
        return bool(
            self.chain.call(self.contract, "verifyHistory", shipment_id, list(record_hashes))
        )

    def history(
        self, shipment_id: bytes, *, from_block: int = 0, to_block: int | None = None
    ) -> list[HistoryEntry]:
        """Every history entry of ``shipment_id`` from events, checked against the head.

        Raises :class:`HistoryMismatch` if the events found do not hash to the
        on-chain head (e.g. ``from_block`` is after the shipment was created).
        """
        last = self.chain.block_number() if to_block is None else to_block
        entries: list[HistoryEntry] = []
        for ev in self.chain.get_logs([self.address], from_block, last):
            if ev.args.get("shipmentId") != shipment_id:
                continue
            a = ev.args
            if ev.name == "MilestoneRecorded":
                entries.append(
                    HistoryEntry(
                        index=int(a["index"]),
                        kind="milestone",
                        signer=a["signer"],
                        record_hash=bytes(a["recordHash"]),
                        block_number=ev.block_number,
                        tx_hash=ev.tx_hash,
                        milestone=MilestoneType(a["milestone"]),
                        status=Status(a["status"]),
                        custodian=None if a["custodian"] == ZERO_ADDRESS else a["custodian"],
                        occurred_at=int(a["occurredAt"]),
                        location=locode_text(bytes(a["location"])),
                        measured_weight_grams=int(a["measuredWeightGrams"]),
                        evidence_hash=bytes(a["evidenceHash"]),
                        reason_code=int(a["reasonCode"]),
                    )
                )
            elif ev.name == "MilestoneCorrected":
                entries.append(
                    HistoryEntry(
                        index=int(a["index"]),
                        kind="correction",
                        signer=a["signer"],
                        record_hash=bytes(a["recordHash"]),
                        block_number=ev.block_number,
                        tx_hash=ev.tx_hash,
                        evidence_hash=bytes(a["evidenceHash"]),
                        reason_code=int(a["reasonCode"]),
                        corrected_index=int(a["correctedIndex"]),
                        corrected_record_hash=bytes(a["correctedRecordHash"]),
                    )
                )
        entries.sort(key=lambda e: e.index)
        if not self.verify_history(shipment_id, [e.record_hash for e in entries]):
            raise HistoryMismatch(
                f"{len(entries)} events for shipment 0x{shipment_id.hex()} "
                "do not match the history head"
            )
        return entries

    def milestone_at(self, shipment_id: bytes, index: int, *, from_block: int = 0) -> HistoryEntry:
        """History entry ``index`` (IndexError if there is none)."""
        return self.history(shipment_id, from_block=from_block)[index]
