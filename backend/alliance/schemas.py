"""Request and response bodies of the alliance API.

Token amounts are integers in the token's base units (the test stablecoin has
6 decimals); responses carry them as decimal strings so no JSON reader loses
precision above 2**53.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from backend.common.text import safe_text
from backend.common.types import EthAddress, WalletSignature

Uint64 = Annotated[int, Field(ge=0, le=2**64 - 1)]
Uint32 = Annotated[int, Field(ge=0, le=2**32 - 1)]
Uint128 = Annotated[int, Field(ge=0, le=2**128 - 1)]
Uint256 = Annotated[int, Field(ge=0, le=2**256 - 1)]
Label = Annotated[str, Field(max_length=200), AfterValidator(safe_text)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- member addresses -----------------------------------------------------------


class MemberCreate(Strict):
    """Register an address the organisation acts for; ``signature`` proves control.

    The address signs (EIP-191 ``personal_sign``) the text
    ``Waymark alliance member <address> for organisation <slug>``.
    """

    address: EthAddress
    signature: WalletSignature
    label: Label = ""


class MemberPublic(BaseModel):
    id: int
    address: str
    label: str


class MembersPublic(BaseModel):
    items: list[MemberPublic]


# -- relayed actions --------------------------------------------------------------


class ActionPublic(BaseModel):
    """A call the relayer sends; poll until ``status`` is ``final`` or ``failed``."""

    id: int
    action: str
    contract: str
    status: Literal["queued", "mined", "final", "failed", "orphaned"] | str
    tx_hash: str | None
    block_number: int | None
    error: str | None
    params: dict[str, object]
    pool_id: int | None = Field(
        default=None, description="For create_pool: the new pool, once indexed."
    )


class PoolCreate(Strict):
    operator: EthAddress
    lease_per_period: Uint128
    rate_per_unit: Uint128
    dispute_window: Uint32
    report_window: Uint32
    cancel_penalty_bps: Annotated[int, Field(ge=0, le=10_000)] = 0
    members: Annotated[list[EthAddress], Field(max_length=100)] = []
    token: EthAddress | None = Field(
        default=None, description="Defaults to the deployment's settlement token."
    )


class PoolMemberAdd(Strict):
    address: EthAddress


class UsageCosign(Strict):
    """A member's EIP-712 ``UsageReport`` signature, relayed by the service."""

    member: EthAddress
    used_units: Uint64
    deadline: Uint256
    signature: WalletSignature


class DisputeResolve(Strict):
    member: EthAddress
    used_units: Uint64


class SettleRequest(Strict):
    members: Annotated[list[EthAddress], Field(max_length=200)] | None = Field(
        default=None, description="Omit to settle every unsettled booker of the period."
    )


class StockMemberAdd(Strict):
    address: EthAddress


# -- read models ------------------------------------------------------------------


class PoolPublic(BaseModel):
    pool_id: int
    token: str
    operator: str
    admin: str
    lease_per_period: str
    rate_per_unit: str
    dispute_window: int
    report_window: int
    cancel_penalty_bps: int
    members: list[str]
    period_count: int


class PoolsPublic(BaseModel):
    items: list[PoolPublic]


class BookingPublic(BaseModel):
    member: str
    units: int
    locked: str
    status: str
    used_units: int
    reported_at: int | None
    claimed_units: int | None
    evidence_hash: str | None
    lease_charge: str | None
    usage_charge: str | None
    released: str | None


class PeriodPublic(BaseModel):
    pool_id: int
    period_id: int
    start: int
    end: int
    cutoff: int
    capacity: int
    booked: int
    bookings: list[BookingPublic]


class StatementPublic(BaseModel):
    """What one member owes for one period, as the read model has it."""

    pool_id: int
    period_id: int
    member: str
    status: str
    booked_units: int
    used_units: int
    lease_share: str
    variable_charge: str
    penalty: str
    total: str
    released_lock: str
    transfers_paid: str
    transfers_received: str
    settled: bool
    settlement_tx: str | None


class OfferPublic(BaseModel):
    offer_id: int
    lender: str
    price_per_unit: str


class TransferPublic(BaseModel):
    request_id: int
    requester: str
    gtin: int
    quantity: int
    destination: str
    needed_by: int
    terms: str
    max_price_per_unit: str
    return_by: int
    status: str
    lender: str | None
    price_per_unit: str
    escrow: str
    released_amount: str
    shipment_id: str | None
    return_shipment_id: str | None
    offers: list[OfferPublic]


class TransfersPublic(BaseModel):
    items: list[TransferPublic]


class NetPositionPublic(BaseModel):
    """What ``a`` owes ``b`` net of the reverse (negative: ``b`` owes ``a``)."""

    a: str
    b: str
    gtin: int
    units: int
    amount: str


class NoncePublic(BaseModel):
    address: str
    nonce: int


class AllianceConfig(BaseModel):
    chain_id: int
    capacity_pool: str | None
    stock_transfer: str | None
    delivery_agreement: str | None = None
    settlement_token: str | None
    relayer: str
    pool_domain: dict[str, object] | None


TransferStatusFilter = Literal[
    "open", "accepted", "settled", "outstanding", "returned", "refunded", "cancelled"
]
MemberText = Annotated[str, Field(max_length=42)]
