"""Parties, terms and a driver that signs and relays shipment milestones in tests.

Also holds the Python model of the state machine the property tests compare
the contract against.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from backend.chain import ChainClient, TxResult
from backend.chain.deployments import Deployment
from backend.chain.shipments import ShipmentRegistryClient
from backend.chain.typed_data import shipments as td
from backend.chain.typed_data.shipments import (
    ALLOWED_FROM,
    DeliveryCondition,
    ExceptionReason,
    MilestoneType,
    Status,
)
from tests.conftest import deployment_for

M = MilestoneType
S = Status
HOUR = 3600


def account(label: str) -> LocalAccount:
    """A deterministic test account."""
    return Account.from_key(keccak(text=f"waymark-test-{label}"))


@dataclass(frozen=True)
class Parties:
    seller: LocalAccount = field(default_factory=lambda: account("seller"))
    carrier_a: LocalAccount = field(default_factory=lambda: account("carrier-a"))
    carrier_b: LocalAccount = field(default_factory=lambda: account("carrier-b"))
    warehouse: LocalAccount = field(default_factory=lambda: account("warehouse"))
    broker: LocalAccount = field(default_factory=lambda: account("broker"))
    outsider: LocalAccount = field(default_factory=lambda: account("outsider"))

    def by_address(self, address: str) -> LocalAccount:
        for acct in (self.seller, self.carrier_a, self.carrier_b, self.warehouse, self.broker):
            if acct.address.lower() == address.lower():
                return acct
        raise KeyError(address)


PARTIES = Parties()


def shipment_id(label: str, seller: str | None = None) -> bytes:
    """The id of shipment ``label`` of ``seller`` (default: the test seller)."""
    return td.shipment_id(seller or PARTIES.seller.address, f"shipment-{label}")


class ShipmentDriver:
    """Builds, signs and relays messages for one registry; tracks nothing itself.

    With a ``consignee``, created shipments name it and DELIVERED goes through
    ``recordDelivery`` with its proof of delivery (condition ACCEPTED).
    """

    def __init__(
        self,
        registry: ShipmentRegistryClient,
        parties: Parties = PARTIES,
        consignee: LocalAccount | None = None,
    ) -> None:
        self.registry = registry
        self.chain = registry.chain
        self.parties = parties
        self.consignee = consignee
        self._counter = 0

    @property
    def domain(self) -> td.Domain:
        return self.registry.domain()

    def now(self) -> int:
        # Mine first: after a snapshot revert the head block can be minutes old,
        # while the next block takes the wall clock.
        self.chain.mine()
        return int(self.chain.block()["timestamp"])

    def terms(self, label: str | None = None, **overrides: Any) -> dict[str, Any]:
        if label is None:
            self._counter += 1
            # Unique across drivers sharing a seller and a block time.
            label = f"auto-{self._counter}-{self.now()}-{secrets.token_hex(8)}"
        p = self.parties
        seller = overrides.get("seller", p.seller.address)
        base = td.shipment_terms(
            shipment_id=shipment_id(label, seller),
            seller=p.seller.address,
            origin="CNSHA",
            destination="NLRTM",
            declared_weight_grams=120_000,
            piece_count=12,
            weight_tolerance_bps=200,
            manifest_hash=keccak(text=f"manifest-{label}"),
            carriers=[p.carrier_a.address, p.carrier_b.address],
            warehouse=p.warehouse.address,
            customs_broker=p.broker.address,
            consignee=self.consignee.address if self.consignee else td.ZERO_ADDRESS,
        )
        base.update(overrides)
        return base

    def create(self, label: str | None = None, **overrides: Any) -> bytes:
        """Create via the seller's signature, relayed; returns the shipment id."""
        terms = self.terms(label, **overrides)
        seller = (
            self.parties.by_address(terms["seller"])
            if "seller" in overrides
            else self.parties.seller
        )
        nonce = self.registry.nonce(seller.address)
        deadline = self.now() + HOUR
        sig = td.sign_create_shipment(
            seller.key, self.domain, terms, nonce=nonce, deadline=deadline
        )
        self.registry.create_shipment_with_sig(terms, nonce=nonce, deadline=deadline, signature=sig)
        return bytes(terms["shipmentId"])

    def message(
        self, sid: bytes, kind: M | int, signer: LocalAccount | str, **fields: Any
    ) -> dict[str, Any]:
        address = signer if isinstance(signer, str) else signer.address
        now = self.now()
        values: dict[str, Any] = {
            "shipment_id": sid,
            "kind": kind,
            "signer": address,
            "nonce": self.registry.nonce(address),
            "deadline": now + HOUR,
            "occurred_at": now,
            "location": "CNSHA",
            "evidence_hash": keccak(text=f"evidence-{int(kind)}-{now}"),
        }
        if kind == M.EXCEPTION:
            values["reason_code"] = ExceptionReason.DELAYED
        values.update(fields)
        return td.milestone(**values)

    def sign(self, key: LocalAccount, message: dict[str, Any]) -> bytes:
        return td.sign_milestone(key.key, self.domain, message)

    def signed(
        self, sid: bytes, kind: M | int, signer: LocalAccount, **fields: Any
    ) -> tuple[dict[str, Any], bytes]:
        msg = self.message(sid, kind, signer, **fields)
        return msg, self.sign(signer, msg)

    def record(self, sid: bytes, kind: M | int, signer: LocalAccount, **fields: Any) -> TxResult:
        msg, sig = self.signed(sid, kind, signer, **fields)
        return self.registry.record_milestone(msg, sig)

    def transfer(
        self,
        sid: bytes,
        kind: M | int,
        releaser: LocalAccount,
        receiver: LocalAccount,
        **fields: Any,
    ) -> TxResult:
        msg, sig = self.signed(sid, kind, releaser, counterparty=receiver.address, **fields)
        nonce = self.registry.nonce(receiver.address)
        deadline = self.now() + HOUR
        acc = td.sign_acceptance(receiver.key, self.domain, msg, nonce=nonce, deadline=deadline)
        return self.registry.record_custody_transfer(
            msg, sig, acceptance_nonce=nonce, acceptance_deadline=deadline, acceptance_signature=acc
        )

    def deliver(
        self,
        sid: bytes,
        consignee: LocalAccount,
        condition: DeliveryCondition = DeliveryCondition.ACCEPTED,
        *,
        carrier: LocalAccount | None = None,
        **fields: Any,
    ) -> TxResult:
        """DELIVERED by the carrier (default carrier B) with ``consignee``'s proof of delivery."""
        msg, sig = self.signed(
            sid,
            M.DELIVERED,
            carrier or self.parties.carrier_b,
            counterparty=consignee.address,
            **fields,
        )
        nonce = self.registry.nonce(consignee.address)
        deadline = self.now() + HOUR
        receipt = td.sign_proof_of_delivery(
            consignee.key, self.domain, msg, condition=condition, nonce=nonce, deadline=deadline
        )
        return self.registry.record_delivery(
            msg,
            sig,
            condition=condition,
            receipt_nonce=nonce,
            receipt_deadline=deadline,
            receipt_signature=receipt,
        )

    def _delivered(self, sid: bytes) -> None:
        if self.consignee is None:
            self.record(sid, M.DELIVERED, self.parties.carrier_b)
        else:
            self.deliver(sid, self.consignee)

    # The canonical route, one step per status, with the party that signs it.
    def advance(self, sid: bytes, to: Status) -> None:
        """Drive a fresh shipment along the canonical route until it reaches ``to``."""
        p = self.parties
        steps: list[tuple[Status, Any]] = [
            (S.PICKED_UP, lambda: self.transfer(sid, M.PICKED_UP, p.seller, p.carrier_a)),
            (S.EXPORT_CLEARED, lambda: self.record(sid, M.EXPORT_CLEARED, p.broker)),
            (S.IN_TRANSIT, lambda: self.record(sid, M.DEPARTED, p.carrier_a)),
            (S.ARRIVED, lambda: self.record(sid, M.ARRIVED, p.carrier_a)),
            (S.IMPORT_CLEARED, lambda: self.record(sid, M.IMPORT_CLEARED, p.broker)),
            (S.IN_WAREHOUSE, lambda: self.record(sid, M.WAREHOUSE_INBOUND, p.warehouse)),
            (S.OUT_FOR_DELIVERY, self._out_for_delivery_from_warehouse(sid)),
            (S.DELIVERED, lambda: self._delivered(sid)),
        ]
        if to == S.CUSTOMS_HOLD:
            self.advance(sid, S.ARRIVED)
            self.record(sid, M.CUSTOMS_HOLD, p.broker, reason_code=7)
            return
        if to in (S.RETURNED, S.LOST):
            self.advance(sid, S.PICKED_UP)
            if to == S.RETURNED:
                self.record(sid, M.RETURNED, p.seller)
            else:
                self.record(sid, M.EXCEPTION, p.carrier_a, reason_code=ExceptionReason.LOST)
            return
        for status, step in steps:
            if to == S.CREATED:
                return
            step()
            if status == to:
                return

    def _out_for_delivery_from_warehouse(self, sid: bytes) -> Any:
        p = self.parties

        def run() -> None:
            self.transfer(sid, M.HANDOVER, p.warehouse, p.carrier_b)
            self.record(sid, M.OUT_FOR_DELIVERY, p.carrier_b)

        return run


@pytest.fixture
def registry(chain: ChainClient, deployment: Deployment) -> ShipmentRegistryClient:
    return ShipmentRegistryClient(chain, deployment.address("ShipmentRegistry"))


@pytest.fixture
def tester_registry(tester: ChainClient) -> ShipmentRegistryClient:
    return ShipmentRegistryClient(tester, deployment_for(tester).address("ShipmentRegistry"))


@pytest.fixture
def driver(tester_registry: ShipmentRegistryClient) -> ShipmentDriver:
    return ShipmentDriver(tester_registry)


@pytest.fixture
def any_driver(registry: ShipmentRegistryClient) -> ShipmentDriver:
    """A driver on every chain backend (tester and anvil)."""
    return ShipmentDriver(registry)


def funded(chain: ChainClient, acct: LocalAccount) -> ChainClient:
    """A client sending from ``acct``, funded by the relayer."""
    chain.send_value(acct.address, 10**18)
    return chain.with_account(acct)


# --------------------------------------------------------------------- model

# The contract's state machine as the service mirrors it: the state-machine tests
# drive the contract with it, so the two cannot drift apart.
ALLOWED: dict[M, frozenset[S]] = ALLOWED_FROM

NEXT: dict[M, S | None] = {
    M.PICKED_UP: S.PICKED_UP,
    M.EXPORT_CLEARED: S.EXPORT_CLEARED,
    M.DEPARTED: S.IN_TRANSIT,
    M.ARRIVED: S.ARRIVED,
    M.CUSTOMS_HOLD: S.CUSTOMS_HOLD,
    M.CUSTOMS_RELEASED: S.IMPORT_CLEARED,
    M.IMPORT_CLEARED: S.IMPORT_CLEARED,
    M.WAREHOUSE_INBOUND: S.IN_WAREHOUSE,
    M.HANDOVER: None,
    M.OUT_FOR_DELIVERY: S.OUT_FOR_DELIVERY,
    M.DELIVERED: S.DELIVERED,
    M.RETURNED: S.RETURNED,
    M.EXCEPTION: None,
}

CARRIER_MOVES = frozenset({M.DEPARTED, M.ARRIVED, M.OUT_FOR_DELIVERY, M.DELIVERED})
BROKER_STEPS = frozenset({M.EXPORT_CLEARED, M.CUSTOMS_HOLD, M.CUSTOMS_RELEASED, M.IMPORT_CLEARED})


@dataclass(frozen=True)
class ModelState:
    """What the contract should hold: status and custodian (a party label or None)."""

    status: S = S.CREATED
    custodian: str | None = None


CARRIERS = frozenset({"carrier_a", "carrier_b"})


@dataclass(frozen=True)
class Step:
    """One attempted milestone: who signs, who receives, and the expected outcome."""

    kind: M
    signer: str
    receiver: str | None
    reason: int
    error: str | None
    after: ModelState


def plan_step(state: ModelState, kind: M, reason: int = 0) -> Step:
    """The signer a relayer would pick for ``kind`` and what the contract must do."""
    custodian = state.custodian
    if kind in CARRIER_MOVES or kind == M.HANDOVER:
        signer = custodian or "carrier_a"
    elif kind in BROKER_STEPS:
        signer = "broker"
    elif kind == M.WAREHOUSE_INBOUND:
        signer = "warehouse"
    else:  # PICKED_UP, RETURNED, EXCEPTION
        signer = "seller"
    receiver = None
    if kind == M.PICKED_UP:
        receiver = "carrier_a"
    elif kind == M.HANDOVER:
        receiver = "carrier_b" if custodian != "carrier_b" else "carrier_a"
    if kind == M.CUSTOMS_HOLD:
        reason = reason or 7
    if kind == M.EXCEPTION:
        reason = reason or ExceptionReason.DELAYED
    if kind != M.EXCEPTION and kind != M.CUSTOMS_HOLD:
        reason = 0

    if state.status not in ALLOWED[kind]:
        return Step(kind, signer, receiver, reason, "ShipmentMilestoneNotAllowed", state)
    if kind in CARRIER_MOVES and (custodian is None or custodian not in CARRIERS):
        return Step(kind, signer, receiver, reason, "ShipmentSignerNotAuthorized", state)
    if kind == M.HANDOVER and custodian is None:
        return Step(kind, signer, receiver, reason, "ShipmentSignerNotAuthorized", state)

    status = NEXT[kind] or state.status
    if kind == M.EXCEPTION and reason == ExceptionReason.LOST:
        status = S.LOST
    if kind in (M.PICKED_UP, M.HANDOVER):
        custodian = receiver
    elif kind == M.WAREHOUSE_INBOUND:
        custodian = "warehouse"
    elif kind == M.RETURNED:
        custodian = "seller"
    elif kind == M.DELIVERED:
        custodian = None
    return Step(
        kind, signer, receiver, reason, None, replace(state, status=status, custodian=custodian)
    )


def attempt(driver: ShipmentDriver, sid: bytes, step: Step) -> TxResult:
    """Relay ``step`` with its planned parties."""
    p = driver.parties
    signer = getattr(p, step.signer)
    if step.kind in (M.PICKED_UP, M.HANDOVER):
        assert step.receiver is not None
        return driver.transfer(sid, step.kind, signer, getattr(p, step.receiver))
    return driver.record(sid, step.kind, signer, reason_code=step.reason)


def walk(state: ModelState, kinds: list[M]) -> Iterator[Step]:
    for kind in kinds:
        step = plan_step(state, kind)
        state = step.after
        yield step
