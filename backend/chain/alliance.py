"""Domain verbs over ``CapacityPool`` and ``EmergencyStockTransfer``.

Writes return ``TxResult`` (or the new id with it); reads return frozen
dataclasses. Signatures are produced with :mod:`backend.chain.eip712` over the
domain the contract reports, so members can sign off-line and anyone relays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Self

from eth_utils import to_checksum_address

from backend.chain import eip712
from backend.chain.client import ChainClient, TxResult
from backend.chain.eip712 import Domain
from backend.chain.typed_data.alliance import BOOKING_TRANSFER, USAGE_REPORT

# Enough of ERC-20 for approvals and balances. ``approve``/``transfer`` declare no
# outputs so the same ABI drives tokens that return no bool (USDT style).
ERC20_ABI: list[dict[str, Any]] = [
    {
        "type": "function",
        "name": "approve",
        "stateMutability": "nonpayable",
        "inputs": [{"name": "spender", "type": "address"}, {"name": "amount", "type": "uint256"}],
        "outputs": [],
    },
    {
        "type": "function",
        "name": "transfer",
        "stateMutability": "nonpayable",
        "inputs": [{"name": "to", "type": "address"}, {"name": "amount", "type": "uint256"}],
        "outputs": [],
    },
    {
        "type": "function",
        "name": "balanceOf",
        "stateMutability": "view",
        "inputs": [{"name": "account", "type": "address"}],
        "outputs": [{"name": "", "type": "uint256"}],
    },
    {
        "type": "function",
        "name": "allowance",
        "stateMutability": "view",
        "inputs": [{"name": "owner", "type": "address"}, {"name": "spender", "type": "address"}],
        "outputs": [{"name": "", "type": "uint256"}],
    },
]


class UsageStatus(IntEnum):
    """``ICapacityPool.UsageStatus``."""

    NONE = 0
    REPORTED = 1
    CONFIRMED = 2
    DISPUTED = 3
    RESOLVED = 4
    SETTLED = 5


class Terms(IntEnum):
    """``IEmergencyStockTransfer.Terms``."""

    CASH = 0
    IN_KIND = 1


class TransferStatus(IntEnum):
    """``IEmergencyStockTransfer.Status``."""

    NONE = 0
    OPEN = 1
    ACCEPTED = 2
    SETTLED = 3
    OUTSTANDING = 4
    RETURNED = 5
    REFUNDED = 6
    CANCELLED = 7


@dataclass(frozen=True)
class PoolConfig:
    """Parameters of a capacity pool (token amounts in the token's base units)."""

    token: str
    operator: str
    lease_per_period: int
    rate_per_unit: int
    dispute_window: int
    report_window: int
    cancel_penalty_bps: int = 0

    def as_tuple(self) -> tuple[Any, ...]:
        return (
            to_checksum_address(self.token),
            to_checksum_address(self.operator),
            self.lease_per_period,
            self.rate_per_unit,
            self.dispute_window,
            self.report_window,
            self.cancel_penalty_bps,
        )


@dataclass(frozen=True)
class PoolInfo:
    pool_id: int
    config: PoolConfig
    admin: str
    period_count: int


@dataclass(frozen=True)
class PeriodInfo:
    start: int
    end: int
    cutoff: int
    capacity: int
    booked: int
    settled_units: int


@dataclass(frozen=True)
class BookingInfo:
    units: int
    used_units: int
    reported_at: int
    status: UsageStatus
    locked: int


@dataclass(frozen=True)
class StockRequest:
    """What a member asks for; ``destination`` is a 5-letter UN/LOCODE."""

    gtin: int
    quantity: int
    destination: str
    needed_by: int
    terms: Terms
    max_price_per_unit: int = 0
    return_by: int = 0

    def as_tuple(self) -> tuple[Any, ...]:
        code = self.destination.encode("ascii")
        if len(code) != 5:
            raise ValueError(f"UN/LOCODE must be 5 characters, got {self.destination!r}")
        return (
            self.gtin,
            self.quantity,
            code,
            self.needed_by,
            int(self.terms),
            self.max_price_per_unit,
            self.return_by,
        )


@dataclass(frozen=True)
class TransferInfo:
    request_id: int
    request: StockRequest
    requester: str
    status: TransferStatus
    lender: str
    price_per_unit: int
    escrow: int
    offer_count: int
    shipment_id: bytes
    return_shipment_id: bytes
    accepted_at: int = 0
    outstanding_at: int = 0


@dataclass(frozen=True)
class OfferInfo:
    lender: str
    price_per_unit: int


@dataclass(frozen=True)
class NetPosition:
    """What ``a`` owes ``b`` net of the reverse (negative: ``b`` owes ``a``)."""

    a: str
    b: str
    gtin: int
    units: int
    amount: int


class TokenClient:
    """An ERC-20 (bool-returning or not) for approvals and balances."""

    def __init__(self, chain: ChainClient, address: str) -> None:
        self.chain = chain
        self.address = to_checksum_address(address)
        self.contract = chain.w3.eth.contract(address=self.address, abi=ERC20_ABI)

    def using(self, chain: ChainClient) -> TokenClient:
        return TokenClient(chain, self.address)

    def approve(self, spender: str, amount: int) -> TxResult:
        return self.chain.transact(self.contract, "approve", to_checksum_address(spender), amount)

    def transfer(self, to: str, amount: int) -> TxResult:
        return self.chain.transact(self.contract, "transfer", to_checksum_address(to), amount)

    def balance_of(self, account: str) -> int:
        return int(self.chain.call(self.contract, "balanceOf", to_checksum_address(account)))

    def allowance(self, owner: str, spender: str) -> int:
        return int(
            self.chain.call(
                self.contract,
                "allowance",
                to_checksum_address(owner),
                to_checksum_address(spender),
            )
        )

    def ensure_allowance(self, spender: str, amount: int) -> None:
        """Approve ``spender`` for ``amount`` unless the allowance already covers it."""
        if self.allowance(self.chain.address, spender) < amount:
            self.approve(spender, amount)


class CapacityPoolClient:
    """Shared factory capacity: deposits, bookings, usage, disputes and settlement."""

    def __init__(self, chain: ChainClient, address: str) -> None:
        self.chain = chain
        self.address = to_checksum_address(address)
        self.contract = chain.contract("CapacityPool", self.address)
        self._domain: Domain | None = None

    def using(self, chain: ChainClient) -> Self:
        """The same pool contract, sending from ``chain``'s account."""
        return type(self)(chain, self.address)

    @property
    def domain(self) -> Domain:
        if self._domain is None:
            self._domain = self.chain.eip712_domain(self.contract)
        return self._domain

    def _tx(self, fn: str, *args: Any) -> TxResult:
        return self.chain.transact(self.contract, fn, *args)

    def _call(self, fn: str, *args: Any) -> Any:
        return self.chain.call(self.contract, fn, *args)

    # -- pools and periods --------------------------------------------------

    def create_pool(self, config: PoolConfig, members: Sequence[str]) -> tuple[int, TxResult]:
        """Create a pool administered by the sending account; returns its id."""
        result = self._tx(
            "createPool", config.as_tuple(), [to_checksum_address(m) for m in members]
        )
        return int(result.event("PoolCreated").args["poolId"]), result

    def open_period(
        self, pool_id: int, *, start: int, end: int, cutoff: int, capacity: int
    ) -> tuple[int, TxResult]:
        """Operator opens a period; returns its id within the pool."""
        result = self._tx("openPeriod", pool_id, start, end, cutoff, capacity)
        return int(result.event("PeriodOpened").args["periodId"]), result

    # -- balances -----------------------------------------------------------

    def token(self, pool_id: int) -> TokenClient:
        return TokenClient(self.chain, self.pool(pool_id).config.token)

    def deposit(self, pool_id: int, amount: int, *, approve: bool = True) -> TxResult:
        """Deposit ``amount`` into the sender's free balance, approving first if needed."""
        if approve:
            self.token(pool_id).ensure_allowance(self.address, amount)
        return self._tx("deposit", pool_id, amount)

    def withdraw(self, pool_id: int, amount: int) -> TxResult:
        return self._tx("withdraw", pool_id, amount)

    # -- bookings -----------------------------------------------------------

    def book(self, pool_id: int, period_id: int, units: int) -> TxResult:
        return self._tx("book", pool_id, period_id, units)

    def booking_transfer_message(
        self,
        pool_id: int,
        period_id: int,
        *,
        from_: str,
        to: str,
        units: int,
        price: int,
        deadline: int,
        nonce: int | None = None,
    ) -> dict[str, Any]:
        """The ``BookingTransfer`` struct ``to`` signs (nonce read from chain if omitted)."""
        return {
            "poolId": pool_id,
            "periodId": period_id,
            "from": to_checksum_address(from_),
            "to": to_checksum_address(to),
            "units": units,
            "price": price,
            "nonce": self.nonce(to) if nonce is None else nonce,
            "deadline": deadline,
        }

    def sign_booking_transfer(self, private_key: str | bytes, message: dict[str, Any]) -> bytes:
        """The receiving member's consent signature over ``message``."""
        return eip712.sign(private_key, self.domain, BOOKING_TRANSFER, message)

    def transfer_booking(self, message: dict[str, Any], signature: bytes) -> TxResult:
        """Sender (``message['from']``) moves units to the consenting ``message['to']``."""
        return self._tx(
            "transferBooking",
            message["poolId"],
            message["periodId"],
            message["to"],
            message["units"],
            message["price"],
            message["deadline"],
            signature,
        )

    # -- usage --------------------------------------------------------------

    def report_usage(
        self, pool_id: int, period_id: int, usage: dict[str, int] | Sequence[tuple[str, int]]
    ) -> TxResult:
        """Operator reports used units per member."""
        pairs = list(usage.items()) if isinstance(usage, dict) else list(usage)
        return self._tx(
            "reportUsage",
            pool_id,
            period_id,
            [to_checksum_address(m) for m, _ in pairs],
            [u for _, u in pairs],
        )

    def usage_message(
        self,
        pool_id: int,
        period_id: int,
        *,
        member: str,
        used_units: int,
        deadline: int,
        nonce: int | None = None,
    ) -> dict[str, Any]:
        return {
            "poolId": pool_id,
            "periodId": period_id,
            "member": to_checksum_address(member),
            "usedUnits": used_units,
            "nonce": self.nonce(member) if nonce is None else nonce,
            "deadline": deadline,
        }

    def sign_usage(self, private_key: str | bytes, message: dict[str, Any]) -> bytes:
        return eip712.sign(private_key, self.domain, USAGE_REPORT, message)

    def cosign_usage(self, message: dict[str, Any], signature: bytes) -> TxResult:
        """Relay a member's co-signature of its usage report (any sender)."""
        return self._tx(
            "cosignUsage",
            message["poolId"],
            message["periodId"],
            message["member"],
            message["usedUnits"],
            message["deadline"],
            signature,
        )

    def dispute(
        self, pool_id: int, period_id: int, claimed_units: int, evidence_hash: bytes = bytes(32)
    ) -> TxResult:
        return self._tx("disputeUsage", pool_id, period_id, claimed_units, evidence_hash)

    def resolve(self, pool_id: int, period_id: int, member: str, used_units: int) -> TxResult:
        return self._tx(
            "resolveDispute", pool_id, period_id, to_checksum_address(member), used_units
        )

    def settle(
        self, pool_id: int, period_id: int, members: Sequence[str] | None = None
    ) -> TxResult:
        """Settle ``members`` of a period, or every unsettled booker when omitted."""
        if members is None:
            return self._tx("settlePeriod", pool_id, period_id)
        return self._tx("settle", pool_id, period_id, [to_checksum_address(m) for m in members])

    # -- views --------------------------------------------------------------

    def pool(self, pool_id: int) -> PoolInfo:
        (cfg, admin, period_count) = self._call("poolOf", pool_id)
        return PoolInfo(pool_id, PoolConfig(*cfg), admin, int(period_count))

    def period(self, pool_id: int, period_id: int) -> PeriodInfo:
        return PeriodInfo(*self._call("periodOf", pool_id, period_id))

    def booking(self, pool_id: int, period_id: int, member: str) -> BookingInfo:
        units, used, reported_at, status, _listed, locked = self._call(
            "bookingOf", pool_id, period_id, to_checksum_address(member)
        )
        return BookingInfo(units, used, reported_at, UsageStatus(status), locked)

    def bookers(self, pool_id: int, period_id: int) -> list[str]:
        return list(self._call("bookersOf", pool_id, period_id))

    def free_balance(self, pool_id: int, account: str) -> int:
        return int(self._call("freeBalanceOf", pool_id, to_checksum_address(account)))

    def operator_credit(self, pool_id: int) -> int:
        return int(self._call("operatorCreditOf", pool_id))

    def lock_for(self, pool_id: int, period_id: int, units: int) -> int:
        return int(self._call("lockFor", pool_id, period_id, units))

    def nonce(self, account: str) -> int:
        return int(self._call("nonces", to_checksum_address(account)))

    def role(self, name: str) -> bytes:
        return bytes(self._call(name))


class EmergencyStockTransferClient:
    """Emergency stock loans between members: escrow, release, refund, in-kind returns."""

    def __init__(self, chain: ChainClient, address: str) -> None:
        self.chain = chain
        self.address = to_checksum_address(address)
        self.contract = chain.contract("EmergencyStockTransfer", self.address)

    def using(self, chain: ChainClient) -> Self:
        """The same contract, sending from ``chain``'s account."""
        return type(self)(chain, self.address)

    def _tx(self, fn: str, *args: Any) -> TxResult:
        return self.chain.transact(self.contract, fn, *args)

    def _call(self, fn: str, *args: Any) -> Any:
        return self.chain.call(self.contract, fn, *args)

    def token(self) -> TokenClient:
        return TokenClient(self.chain, self._call("token"))

    def grant_member(self, account: str) -> TxResult:
        """Admin grants MEMBER_ROLE."""
        role = self._call("MEMBER_ROLE")
        return self._tx("grantRole", role, to_checksum_address(account))

    def request(self, request: StockRequest) -> tuple[int, TxResult]:
        result = self._tx("requestStock", request.as_tuple())
        return int(result.event("StockRequested").args["requestId"]), result

    def offer(self, request_id: int, price_per_unit: int = 0) -> tuple[int, TxResult]:
        result = self._tx("offer", request_id, price_per_unit)
        return int(result.event("StockOffered").args["offerId"]), result

    def accept(self, request_id: int, offer_id: int, *, approve: bool = True) -> TxResult:
        """Requester accepts an offer; cash terms approve and escrow ``quantity * price``."""
        if approve:
            t = self.transfer(request_id)
            chosen = self.offer_of(request_id, offer_id)
            amount = chosen.price_per_unit * t.request.quantity
            if amount:
                self.token().ensure_allowance(self.address, amount)
        return self._tx("acceptOffer", request_id, offer_id)

    def link_shipment(self, request_id: int, shipment_id: bytes) -> TxResult:
        return self._tx("linkShipment", request_id, shipment_id)

    def release(self, request_id: int) -> TxResult:
        return self._tx("release", request_id)

    def confirm_receipt(self, request_id: int) -> TxResult:
        return self._tx("confirmReceipt", request_id)

    def withdraw(self) -> TxResult:
        return self._tx("withdraw")

    # -- views --------------------------------------------------------------

    def transfer(self, request_id: int) -> TransferInfo:
        (
            req,
            requester,
            status,
            lender,
            price,
            escrow,
            offers,
            shipment,
            ret,
            accepted_at,
            outstanding_at,
        ) = self._call("transferOf", request_id)
        gtin, qty, dest, needed_by, terms, max_price, return_by = req
        return TransferInfo(
            request_id=request_id,
            request=StockRequest(
                gtin=gtin,
                quantity=qty,
                destination=bytes(dest).decode("ascii", errors="replace"),
                needed_by=needed_by,
                terms=Terms(terms),
                max_price_per_unit=max_price,
                return_by=return_by,
            ),
            requester=requester,
            status=TransferStatus(status),
            lender=lender,
            price_per_unit=price,
            escrow=escrow,
            offer_count=offers,
            shipment_id=bytes(shipment),
            return_shipment_id=bytes(ret),
            accepted_at=int(accepted_at),
            outstanding_at=int(outstanding_at),
        )

    def offer_of(self, request_id: int, offer_id: int) -> OfferInfo:
        lender, price = self._call("offerOf", request_id, offer_id)
        return OfferInfo(lender, price)

    def withdrawable(self, account: str) -> int:
        return int(self._call("withdrawableOf", to_checksum_address(account)))

    def net_position(self, a: str, b: str, gtin: int) -> NetPosition:
        units, amount = self._call(
            "netPosition", to_checksum_address(a), to_checksum_address(b), gtin
        )
        return NetPosition(a, b, gtin, int(units), int(amount))
