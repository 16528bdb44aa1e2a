"""API shapes of purchase agreements (amounts in token units, times in Unix seconds)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator

from backend.alliance.schemas import Strict
from backend.common.schemas import RowModel
from backend.common.types import Bytes32, WalletSignature

Uint64 = Annotated[int, Field(ge=0, le=2**64 - 1)]

ZERO_ADDRESS = "0x" + "00" * 20
AgreementStatusName = Literal["proposed", "active", "disputed", "settled", "cancelled"]
OutcomeName = Literal["none", "on_time", "late", "failed", "ruled", "refused"]


class ClausePublic(RowModel):
    """The agreed terms (see docs/agreements.md for the formulas)."""

    buyer: str
    seller: str
    token: str
    price: int
    promised_by: int
    final_deadline: int
    compensation_per_day: int
    compensation_cap: int
    compensation_from_price: bool
    weight_tolerance_bps: int
    bonder: str | None = Field(description="null: no bond")
    bond_amount: int
    arbiter: str
    dispute_window: int

    @field_validator("bonder", mode="before")
    @classmethod
    def _no_bonder(cls, value: object) -> object:
        return None if value == ZERO_ADDRESS else value


class PayoutPublic(BaseModel):
    """What a settlement paid (or would pay now), per party, and why."""

    outcome: OutcomeName
    to_buyer: int
    to_seller: int
    to_bonder: int
    days_late: int
    why: str


class AgreementPublic(BaseModel):
    agreement_id: int
    status: AgreementStatusName
    clause: ClausePublic
    shipment_id: str | None
    bond_posted: int
    accepted_at: int | None
    dispute_ends_at: int | None
    due_at: int | None = Field(
        description="Active or disputed: when settle becomes possible (null once it is)."
    )
    payout: PayoutPublic | None = Field(
        description="Settled: what was paid. Active and due: what settle would pay now."
    )
    settled_tx: str | None


class AgreementsPublic(BaseModel):
    items: list[AgreementPublic]


class AgreementAccept(Strict):
    """The seller's EIP-712 ``Acceptance`` (``waymark agreement accept`` signs it off line)."""

    shipment_id: Bytes32
    deadline: Uint64
    signature: WalletSignature
