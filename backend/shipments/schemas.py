"""Request and response bodies of the shipments API (camelCase fields as signed)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from backend.common.text import safe_text
from backend.common.types import Bytes32, EthAddress, WalletSignature
from backend.gs1.sscc import SsccInvalid, validate_sscc

Uint16 = Annotated[int, Field(ge=0, le=2**16 - 1)]
Uint32 = Annotated[int, Field(ge=0, le=2**32 - 1)]
Uint64 = Annotated[int, Field(ge=0, le=2**64 - 1)]
Uint256 = Annotated[int, Field(ge=0, le=2**256 - 1)]
Locode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Z]{2} ?[A-Z0-9]{3}$"),
    Field(description="UN/LOCODE, e.g. CNSHA"),
]
OptionalLocode = Annotated[
    str, StringConstraints(to_upper=True, pattern=r"^([A-Z]{2} ?[A-Z0-9]{3})?$")
]
SellerReference = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64),
    AfterValidator(safe_text),
    Field(
        description="The seller's own reference (PO or booking number, free text), "
        "shown next to the shipment id and searchable; not signed, not on chain.",
        examples=["HG-2611-001"],
    ),
]
TransportMode = Literal["sea", "air", "road", "rail"]
ZERO_ADDRESS = "0x" + "00" * 20


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ServiceLevelIn(_Body):
    picked_up_by: Uint64 = Field(0, alias="pickedUpBy")
    export_cleared_by: Uint64 = Field(0, alias="exportClearedBy")
    departed_by: Uint64 = Field(0, alias="departedBy")
    arrived_by: Uint64 = Field(0, alias="arrivedBy")
    import_cleared_by: Uint64 = Field(0, alias="importClearedBy")
    delivered_by: Uint64 = Field(0, alias="deliveredBy")


class ShipmentTermsIn(_Body):
    shipment_id: Bytes32 = Field(alias="shipmentId")
    seller: EthAddress
    origin: Locode
    destination: Locode
    declared_weight_grams: Uint64 = Field(alias="declaredWeightGrams")
    piece_count: Uint32 = Field(alias="pieceCount")
    weight_tolerance_bps: Uint16 = Field(alias="weightToleranceBps")
    manifest_hash: Bytes32 = Field(alias="manifestHash")
    carriers: list[EthAddress] = Field(max_length=16)
    warehouse: EthAddress = ZERO_ADDRESS
    customs_broker: EthAddress = Field(ZERO_ADDRESS, alias="customsBroker")
    consignee: EthAddress = ZERO_ADDRESS
    sla: ServiceLevelIn = Field(default_factory=lambda: ServiceLevelIn.model_validate({}))


class ManifestLineIn(_Body):
    """One manifest line: a passport id, or a GS1 key (GTIN with optional lot / serial)."""

    passport_id: Bytes32 | None = Field(None, alias="passportId")
    gtin: Annotated[str, StringConstraints(pattern=r"^[0-9]{8,14}$")] | None = None
    lot: Annotated[str, StringConstraints(min_length=1, max_length=20)] | None = None
    serial: Annotated[str, StringConstraints(min_length=1, max_length=20)] | None = None
    quantity: Annotated[int, Field(ge=1, le=2**53)]

    @model_validator(mode="after")
    def _keyed(self) -> ManifestLineIn:
        if self.passport_id is None and self.gtin is None:
            raise ValueError("a manifest line needs passportId or gtin")
        return self


class ManifestIn(_Body):
    """The off-chain manifest; ``keccak256(JCS(manifest))`` is the signed ``manifestHash``."""

    transport_mode: TransportMode = Field(alias="transportMode")
    lines: list[ManifestLineIn] = Field(min_length=1, max_length=1000)
    # The logistic unit's SSCC (AI 00): its label's Digital Link ``/00/{sscc}`` opens
    # the public tracking page. Part of the signed manifest, so the seller binds it.
    sscc: Annotated[str, StringConstraints(max_length=18)] | None = None

    @field_validator("sscc")
    @classmethod
    def _sscc(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return validate_sscc(value)
        except SsccInvalid as exc:
            raise ValueError(str(exc)) from None


class ShipmentCreate(_Body):
    """A seller-signed ``CreateShipment`` plus the manifest it commits to."""

    terms: ShipmentTermsIn
    nonce: Uint256
    deadline: Uint256
    signature: WalletSignature
    manifest: ManifestIn
    reference: SellerReference | None = None


class MilestoneIn(_Body):
    shipment_id: Bytes32 = Field(alias="shipmentId")
    milestone: Annotated[int, Field(ge=1, le=13)]
    reason_code: Uint16 = Field(0, alias="reasonCode")
    occurred_at: Uint64 = Field(alias="occurredAt")
    location: OptionalLocode = ""
    measured_weight_grams: Uint64 = Field(0, alias="measuredWeightGrams")
    evidence_hash: Bytes32 = Field(bytes(32), alias="evidenceHash")
    signer: EthAddress
    counterparty: EthAddress = ZERO_ADDRESS
    nonce: Uint256
    deadline: Uint256


class AcceptanceIn(_Body):
    """The receiving party's ``CustodyAcceptance`` countersignature (PICKED_UP / HANDOVER)."""

    nonce: Uint256
    deadline: Uint256
    signature: WalletSignature


class MilestoneCreate(_Body):
    milestone: MilestoneIn
    signature: WalletSignature
    acceptance: AcceptanceIn | None = None


class DeliveryReceiptIn(_Body):
    """The consignee's ``ProofOfDelivery`` over the carrier's DELIVERED milestone.

    ``condition``: ``accepted`` (in good order), ``damaged`` (a damage exception) or
    ``refused`` (the goods stay with the carrier, who takes them back).
    """

    condition: Literal["accepted", "damaged", "refused"]
    nonce: Uint256
    deadline: Uint256
    signature: WalletSignature


class DeliveryCreate(_Body):
    """DELIVERED signed by the carrier holding the goods, with the consignee's receipt."""

    milestone: MilestoneIn
    signature: WalletSignature
    receipt: DeliveryReceiptIn


class MilestoneBatchItem(_Body):
    milestone: MilestoneIn
    signature: WalletSignature


class MilestoneBatchCreate(_Body):
    """Single-signature milestones relayed in one transaction (all or none)."""

    items: list[MilestoneBatchItem] = Field(min_length=1, max_length=200)


class CorrectionIn(_Body):
    shipment_id: Bytes32 = Field(alias="shipmentId")
    corrected_index: Uint32 = Field(alias="correctedIndex")
    corrected_record_hash: Bytes32 = Field(alias="correctedRecordHash")
    reason_code: Uint16 = Field(alias="reasonCode")
    evidence_hash: Bytes32 = Field(bytes(32), alias="evidenceHash")
    signer: EthAddress
    nonce: Uint256
    deadline: Uint256


class CorrectionCreate(_Body):
    correction: CorrectionIn
    signature: WalletSignature


class MilestonePublic(BaseModel):
    index: int
    milestone: int
    milestone_name: str
    signer: str
    counterparty: str | None
    status: str
    custodian: str | None
    occurred_at: int
    location: str
    measured_weight_grams: int
    evidence_hash: str
    evidence_photos: list[str] = Field(
        default_factory=list,
        description="SHA-256 of each evidence photo the evidenceHash covers, in order, when "
        "the service's evidence store holds them (each at …/evidence/{hash})",
    )
    reason_code: int
    record_hash: str
    late: bool
    planned_by: int | None
    weight_reference_grams: int | None
    weight_measured_grams: int | None
    corrected_by_index: int | None
    tx_hash: str
    block_number: int
    credential: str = Field(
        description="path of the milestone as a UNTP Digital Traceability Event credential "
        "(vc+jwt or JSON-LD; readable by the shipment's seller and parties)"
    )


class CorrectionPublic(BaseModel):
    index: int
    corrected_index: int
    corrected_record_hash: str
    signer: str
    reason_code: int
    evidence_hash: str
    record_hash: str
    tx_hash: str
    block_number: int


class OverduePublic(BaseModel):
    milestone: int
    milestone_name: str
    planned_by: int
    flagged_at: int
    flagged_by: str


class CustodyPublic(BaseModel):
    """A change of custodian: who held the goods from when (``None``: nobody, delivered)."""

    custodian: str | None
    since: int
    milestone_name: str
    location: str


class ShipmentPublic(BaseModel):
    id: str
    reference: str | None = Field(description="The seller's own reference (PO / booking).")
    seller: str
    origin: str
    destination: str
    declared_weight_grams: int
    last_measured_weight_grams: int
    piece_count: int
    weight_tolerance_bps: int
    manifest_hash: str
    carriers: list[str]
    warehouse: str | None
    customs_broker: str | None
    sla: dict[str, int]
    status: str
    custodian: str | None
    overdue_milestones: list[str]
    history_length: int
    delivered_at: int | None
    transport_mode: str | None
    tx_hash: str
    block_number: int


class ShipmentsPublic(BaseModel):
    items: list[ShipmentPublic]
    next_after: str | None


class ShipmentDetail(ShipmentPublic):
    manifest: dict[str, object] | None
    milestones: list[MilestonePublic]
    corrections: list[CorrectionPublic]
    overdue: list[OverduePublic]
    custody: list[CustodyPublic]
