"""Domain verbs over ``DeliveryAgreement``: purchase-order escrow with logistics clauses.

Writes return ``TxResult`` (or the new id with it); reads return frozen
dataclasses. The seller's acceptance is signed off-line over the domain the
contract reports (:meth:`DeliveryAgreementClient.sign_acceptance`) and relayed
by anyone; proposing, bonding and withdrawing move the caller's own tokens.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Self

from eth_utils import to_checksum_address

from backend.chain import eip712
from backend.chain.alliance import TokenClient
from backend.chain.client import ChainClient, TxResult
from backend.chain.eip712 import Domain
from backend.chain.typed_data.agreements import ACCEPTANCE, AGREEMENT_TERMS
from backend.chain.typed_data.shipments import DeliveryCondition

ZERO_ADDRESS = "0x" + "00" * 20


class AgreementStatus(IntEnum):
    """``IDeliveryAgreement.Status``."""

    NONE = 0
    PROPOSED = 1
    ACTIVE = 2
    DISPUTED = 3
    SETTLED = 4
    CANCELLED = 5


class Outcome(IntEnum):
    """``IDeliveryAgreement.Outcome``: how an agreement was settled."""

    NONE = 0
    ON_TIME = 1
    LATE = 2
    FAILED = 3
    RULED = 4
    REFUSED = 5


@dataclass(frozen=True)
class AgreementTerms:
    """``IDeliveryAgreement.AgreementTerms`` (amounts in token units, times in Unix seconds)."""

    buyer: str
    seller: str
    token: str
    price: int
    promised_by: int
    final_deadline: int
    compensation_per_day: int = 0
    compensation_cap: int = 0
    compensation_from_price: bool = False
    weight_tolerance_bps: int = 0
    bonder: str = ZERO_ADDRESS
    bond_amount: int = 0
    arbiter: str = ZERO_ADDRESS
    dispute_window: int = 0

    def message(self) -> dict[str, Any]:
        """The EIP-712 ``AgreementTerms`` message."""
        return {
            "buyer": to_checksum_address(self.buyer),
            "seller": to_checksum_address(self.seller),
            "token": to_checksum_address(self.token),
            "price": self.price,
            "promisedBy": self.promised_by,
            "finalDeadline": self.final_deadline,
            "compensationPerDay": self.compensation_per_day,
            "compensationCap": self.compensation_cap,
            "compensationFromPrice": self.compensation_from_price,
            "weightToleranceBps": self.weight_tolerance_bps,
            "bonder": to_checksum_address(self.bonder),
            "bondAmount": self.bond_amount,
            "arbiter": to_checksum_address(self.arbiter),
            "disputeWindow": self.dispute_window,
        }

    def as_tuple(self) -> tuple[Any, ...]:
        return tuple(self.message()[name] for _, name in AGREEMENT_TERMS.fields)

    def hash(self) -> bytes:
        """``hashTerms``: the struct hash the seller's acceptance signs."""
        return AGREEMENT_TERMS.hash_struct(self.message())

    @classmethod
    def from_tuple(cls, raw: Any) -> AgreementTerms:
        (
            buyer,
            seller,
            token,
            price,
            promised_by,
            final_deadline,
            per_day,
            cap,
            from_price,
            tolerance,
            bonder,
            bond,
            arbiter,
            window,
        ) = raw
        return cls(
            buyer=buyer,
            seller=seller,
            token=token,
            price=int(price),
            promised_by=int(promised_by),
            final_deadline=int(final_deadline),
            compensation_per_day=int(per_day),
            compensation_cap=int(cap),
            compensation_from_price=bool(from_price),
            weight_tolerance_bps=int(tolerance),
            bonder=bonder,
            bond_amount=int(bond),
            arbiter=arbiter,
            dispute_window=int(window),
        )


@dataclass(frozen=True)
class AgreementInfo:
    """An agreement as stored."""

    agreement_id: int
    terms: AgreementTerms
    status: AgreementStatus
    outcome: Outcome
    bond_posted: int
    shipment_id: bytes
    accepted_at: int
    dispute_ends_at: int


@dataclass(frozen=True)
class Payout:
    """What a settlement pays each party (``preview`` or the ``AgreementSettled`` event)."""

    outcome: Outcome
    to_buyer: int
    to_seller: int
    to_bonder: int
    days_late: int


class DeliveryAgreementClient:
    """Propose, bond, accept, settle and withdraw purchase agreements."""

    def __init__(self, chain: ChainClient, address: str) -> None:
        self.chain = chain
        self.address = to_checksum_address(address)
        self.contract = chain.contract("DeliveryAgreement", self.address)
        self._domain: Domain | None = None

    def using(self, chain: ChainClient) -> Self:
        """The same contract, sending from ``chain``'s account."""
        return type(self)(chain, self.address)

    def _tx(self, fn: str, *args: Any) -> TxResult:
        return self.chain.transact(self.contract, fn, *args)

    def _call(self, fn: str, *args: Any) -> Any:
        return self.chain.call(self.contract, fn, *args)

    # -- signing ----------------------------------------------------------

    def domain(self) -> Domain:
        """The EIP-712 domain read from ``eip712Domain()`` (cached)."""
        if self._domain is None:
            self._domain = self.chain.eip712_domain(self.contract)
        return self._domain

    def nonce(self, account: str) -> int:
        return int(self._call("nonces", to_checksum_address(account)))

    def acceptance_message(
        self, agreement_id: int, terms: AgreementTerms, shipment_id: bytes, *, deadline: int
    ) -> dict[str, Any]:
        return {
            "agreementId": agreement_id,
            "termsHash": terms.hash(),
            "shipmentId": shipment_id,
            "nonce": self.nonce(terms.seller),
            "deadline": deadline,
        }

    def sign_acceptance(self, key: bytes | str, message: dict[str, Any]) -> bytes:
        """The seller's signature for :meth:`accept_with_sig`."""
        return eip712.sign(key, self.domain(), ACCEPTANCE, message)

    # -- writes -----------------------------------------------------------

    def propose(self, terms: AgreementTerms, *, approve: bool = True) -> tuple[int, TxResult]:
        """The buyer (this client's account) escrows the price; returns the new id."""
        if approve:
            TokenClient(self.chain, terms.token).ensure_allowance(self.address, terms.price)
        result = self._tx("propose", terms.as_tuple())
        return int(result.event("AgreementProposed").args["agreementId"]), result

    def post_bond(self, agreement_id: int, amount: int, *, approve: bool = True) -> TxResult:
        if approve:
            token = self.agreement(agreement_id).terms.token
            TokenClient(self.chain, token).ensure_allowance(self.address, amount)
        return self._tx("postBond", agreement_id, amount)

    def accept(self, agreement_id: int, shipment_id: bytes) -> TxResult:
        return self._tx("accept", agreement_id, shipment_id)

    def accept_with_sig(
        self, agreement_id: int, shipment_id: bytes, *, deadline: int, signature: bytes
    ) -> TxResult:
        return self._tx("acceptWithSig", agreement_id, shipment_id, deadline, signature)

    def settle(self, agreement_id: int) -> TxResult:
        return self._tx("settle", agreement_id)

    def resolve(self, agreement_id: int, buyer_share_bps: int) -> TxResult:
        return self._tx("resolve", agreement_id, buyer_share_bps)

    def withdraw(self, token: str) -> TxResult:
        return self._tx("withdraw", to_checksum_address(token))

    # -- reads ------------------------------------------------------------

    def agreement(self, agreement_id: int) -> AgreementInfo:
        terms, status, outcome, bond, shipment, accepted_at, ends_at = self._call(
            "agreementOf", agreement_id
        )
        return AgreementInfo(
            agreement_id=agreement_id,
            terms=AgreementTerms.from_tuple(terms),
            status=AgreementStatus(status),
            outcome=Outcome(outcome),
            bond_posted=int(bond),
            shipment_id=bytes(shipment),
            accepted_at=int(accepted_at),
            dispute_ends_at=int(ends_at),
        )

    def preview(self, agreement_id: int) -> Payout:
        """What :meth:`settle` would pay now (outcome NONE: it would open a dispute)."""
        outcome, (buyer, seller, bonder, days) = self._call("preview", agreement_id)
        return Payout(Outcome(outcome), int(buyer), int(seller), int(bonder), int(days))

    def withdrawable(self, account: str, token: str) -> int:
        return int(
            self._call("withdrawableOf", to_checksum_address(account), to_checksum_address(token))
        )

    def count(self) -> int:
        return int(self._call("agreementCount"))


def settled_payout(result: TxResult) -> Payout:
    """The payout of a settling transaction, from its ``AgreementSettled`` event."""
    a = result.event("AgreementSettled").args
    return Payout(
        Outcome(a["outcome"]),
        int(a["toBuyer"]),
        int(a["toSeller"]),
        int(a["toBonder"]),
        int(a["daysLate"]),
    )


__all__ = [
    "AgreementInfo",
    "AgreementStatus",
    "AgreementTerms",
    "DeliveryAgreementClient",
    "DeliveryCondition",
    "Outcome",
    "Payout",
    "settled_payout",
]
