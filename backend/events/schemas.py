"""Signed supply event bodies and ingestion results."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

from backend.chain.typed_data.events import EventKind
from backend.common.schemas import RowModel
from backend.common.types import Bytes32, EthAddress, WalletSignature

UINT64_MAX = 2**64 - 1


class SupplyEventCreate(BaseModel):
    """The ``SupplyEvent`` EIP-712 message fields plus the signature, and who signed it.

    Without ``signer`` the signature is a plain key's (65 bytes) and names its signer by
    recovery; with it, ``signer`` may also be a contract wallet whose ERC-1271
    ``isValidSignature`` accepts the signature (checked at the chain head on receipt).
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    event_id: Bytes32 = Field(alias="eventId")
    subject: Bytes32 = Field(description="Shipment id or passport id.")
    kind: EventKind
    occurred_at: Annotated[int, Field(ge=0, le=UINT64_MAX, alias="occurredAt")]
    location: Annotated[str, Field(pattern=r"^[A-Z0-9]{2,8}$", description="UN/LOCODE, e.g. NLRTM")]
    payload_hash: Bytes32 = Field(alias="payloadHash")
    signature: WalletSignature
    signer: EthAddress | None = Field(
        default=None,
        description="The signing key or ERC-1271 contract wallet; needed for a wallet's signature.",
    )


class SupplyEventBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: Annotated[list[SupplyEventCreate], Field(min_length=1)]


class SupplyEventAccepted(BaseModel):
    """The same body for a first post and for any repeat of the same event."""

    digest: str
    event_id: str
    signer: str
    received_at: datetime


class BatchItemResult(BaseModel):
    index: int
    status: Literal["accepted", "rejected"]
    event: SupplyEventAccepted | None = None
    error: str | None = None
    detail: str | None = None


class BatchResult(BaseModel):
    accepted: int
    rejected: int
    results: list[BatchItemResult]


class SupplyEventPublic(RowModel):
    digest: str
    event_id: str
    subject: str
    kind: int
    occurred_at: int
    location: str
    payload_hash: str
    signer: str
    signature: str
    status: str

    @computed_field  # type: ignore[prop-decorator]
    @property
    def kind_name(self) -> str:
        return EventKind(self.kind).name.lower()
