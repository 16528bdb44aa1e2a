"""Request and response bodies of the passports API (signed fields camelCase as signed)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from backend.common.text import safe_text
from backend.common.types import Bytes32, Bytes32Hex, EthAddress, WalletSignature

Uint16 = Annotated[int, Field(ge=0, le=2**16 - 1)]
Uint32 = Annotated[int, Field(ge=0, le=2**32 - 1)]
Uint64 = Annotated[int, Field(ge=0, le=2**64 - 1)]
Uint256 = Annotated[int, Field(ge=0, le=2**256 - 1)]
# Signed free text: control and bidi characters are refused before anything is signed on.
Reason = Annotated[str, StringConstraints(max_length=1000), AfterValidator(safe_text)]
Uri = Annotated[str, StringConstraints(max_length=2048), AfterValidator(safe_text)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class PassportContentIn(_Body):
    document_hash: Bytes32Hex = Field(alias="documentHash")
    uri: Uri
    origin_country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] = Field(
        alias="originCountry"
    )
    recycled_content_bps: Uint16 = Field(alias="recycledContentBps")
    carbon_grams_co2e: Uint64 = Field(alias="carbonGramsCO2e")
    water_litres: Uint64 = Field(alias="waterLitres")


class PassportCreate(_Body):
    """An issuer-signed ``IssuePassport`` plus the document whose hash it commits to."""

    passport_id: Bytes32 = Field(alias="passportId")
    content: PassportContentIn
    issuer: EthAddress
    nonce: Uint256
    deadline: Uint256
    signature: WalletSignature
    document: dict[str, Any]


class PassportAmend(_Body):
    """An issuer-signed ``AmendPassport`` on top of ``baseVersion``, plus the new document."""

    base_version: Uint32 = Field(alias="baseVersion")
    content: PassportContentIn
    issuer: EthAddress
    nonce: Uint256
    deadline: Uint256
    signature: WalletSignature
    document: dict[str, Any]


class PassportStatusChangeIn(_Body):
    """An issuer-signed ``RecallPassport`` / ``RevokePassport``."""

    reason_code: Annotated[int, Field(ge=1, le=2**16 - 1)] = Field(alias="reasonCode")
    reason: Reason
    issuer: EthAddress
    nonce: Uint256
    deadline: Uint256
    signature: WalletSignature


class AttestationCreate(_Body):
    """A certifier-signed ``Attest`` over one version's document hash."""

    version: Annotated[int, Field(ge=1, le=2**32 - 1)]
    document_hash: Bytes32 = Field(alias="documentHash")
    claim: Bytes32
    valid_until: Uint64 = Field(alias="validUntil")
    certifier: EthAddress
    nonce: Uint256
    deadline: Uint256
    signature: WalletSignature


class AttestationRevoke(_Body):
    """A certifier-signed ``RevokeAttestation``."""

    reason_code: Annotated[int, Field(ge=1, le=2**16 - 1)] = Field(alias="reasonCode")
    reason: Reason
    certifier: EthAddress
    nonce: Uint256
    deadline: Uint256
    signature: WalletSignature


class PassportVersionPublic(BaseModel):
    version: int
    document_hash: str
    uri: str
    origin_country: str
    recycled_content_bps: int
    carbon_grams_co2e: int
    water_litres: int
    tx_hash: str
    block_number: int


class AttestationPublic(BaseModel):
    id: str
    certifier: str
    claim: str
    version: int
    document_hash: str
    valid_until: int
    status: str  # valid | expired | revoked
    revoked_reason_code: int | None
    revoked_reason: str | None
    tx_hash: str
    block_number: int


class PassportPublicView(BaseModel):
    """What anyone may see about a passport: head, versions, attestations, stored document."""

    id: str
    issuer: str
    gtin: str | None
    lot: str | None
    serial: str | None
    status: str  # active | recalled | revoked
    reason_code: int | None
    reason: str | None
    version: int
    versions: list[PassportVersionPublic]
    attestations: list[AttestationPublic]
    document: dict[str, Any] | None
    document_hash: str | None
    # None: no document stored for the latest version; False: the stored
    # document's canonical hash equals the on-chain hash; True: it does not.
    tampered: bool | None
    tx_hash: str
    block_number: int
