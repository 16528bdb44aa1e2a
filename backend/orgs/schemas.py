"""Request and response bodies for organisations, API keys and signer keys."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from backend.common.text import safe_text
from backend.common.types import Bytes32Hex, EthAddress, SignatureHex


class Scope(StrEnum):
    SELLER = "seller"
    SUPPLIER = "supplier"
    CARRIER = "carrier"
    CERTIFIER = "certifier"
    ADMIN = "admin"


SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")


def _slug(value: str) -> str:
    if not SLUG.fullmatch(value):
        raise ValueError("slug must be 1-64 of a-z, 0-9 and inner hyphens")
    return value


Slug = Annotated[str, AfterValidator(_slug)]
Label = Annotated[str, Field(max_length=200), AfterValidator(safe_text)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


ROLE_NAMES = (
    "admin",
    "issuer",
    "seller",
    "supplier",
    "carrier",
    "warehouse",
    "customs_broker",
    "certifier",
    "alliance_member",
    "consignee",
    "arbiter",
    "insurer",
)
RoleName = Literal[
    "admin",
    "issuer",
    "seller",
    "supplier",
    "carrier",
    "warehouse",
    "customs_broker",
    "certifier",
    "alliance_member",
    "consignee",
    "arbiter",
    "insurer",
]
# What an organisation may act in unless the operator says otherwise; certifier,
# arbiter and insurer are accreditations the operator grants explicitly.
DEFAULT_ORG_ROLES: tuple[RoleName, ...] = (
    "admin",
    "issuer",
    "seller",
    "supplier",
    "carrier",
    "warehouse",
    "customs_broker",
    "alliance_member",
    "consignee",
)


def _legal_name(value: str) -> str:
    if len(value.encode()) > 200:
        raise ValueError("name must be at most 200 bytes of UTF-8 (the registry's limit)")
    return value


class OrganisationCreate(Strict):
    slug: Slug
    name: Annotated[
        str,
        Field(min_length=1, max_length=200, description="Verified legal name, as registered."),
        AfterValidator(safe_text),
        AfterValidator(_legal_name),
    ]
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] = Field(
        default="ZZ", description="ISO 3166-1 alpha-2 country of registration."
    )
    roles: Annotated[list[RoleName], Field(min_length=1, max_length=12)] = Field(
        default_factory=lambda: list(DEFAULT_ORG_ROLES),
        description="Roles the organisation may act in (registered on chain).",
    )


class OrganisationPublic(BaseModel):
    slug: str
    name: str
    created_at: datetime
    country: str = "ZZ"
    roles: list[str] = Field(default_factory=list)
    registry_id: str = Field(
        default="", description="The organisation's id in OrganisationRegistry (bytes32)."
    )


class ApiKeyCreate(Strict):
    scopes: Annotated[list[Scope], Field(min_length=1, max_length=5)]
    label: Label = ""


class ApiKeyPublic(BaseModel):
    id: int
    prefix: str
    scopes: list[str]
    label: str
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyIssued(ApiKeyPublic):
    key: str = Field(description="The secret key; shown only once.")


class OrganisationCreated(BaseModel):
    organisation: OrganisationPublic
    admin_key: ApiKeyIssued


class ApiKeysPublic(BaseModel):
    items: list[ApiKeyPublic]
    next_cursor: int | None


class SignerCreate(Strict):
    address: EthAddress
    label: Label = ""
    roles: Annotated[list[RoleName], Field(max_length=12)] | None = Field(
        default=None,
        description="Roles of the key on chain; default: the organisation's roles but admin.",
    )
    valid_from: datetime | None = Field(
        default=None,
        description="Default: now. Never in the past: keys are judged at receipt time.",
    )


class SignerRotate(Strict):
    address: EthAddress = Field(description="The new signer address.")
    label: Label = ""


class SignerRevoke(Strict):
    revoked_at: datetime | None = Field(
        default=None,
        description="Default: now. Never in the past: signatures received before stay valid.",
    )


class SignerPublic(BaseModel):
    id: int
    address: str
    label: str
    valid_from: datetime
    revoked_at: datetime | None
    roles: list[str] = Field(default_factory=list)


class SignersPublic(BaseModel):
    items: list[SignerPublic]
    next_cursor: int | None


class DelegationCreate(Strict):
    """A ``SubjectDelegation`` signed by one of the issuer organisation's signer keys."""

    issuer: EthAddress = Field(description="The issuer's signer key that signed the grant.")
    subject: Bytes32Hex = Field(
        description="A passport id, or 32 zero bytes for every passport the issuer issues."
    )
    delegate: Slug = Field(description="The organisation allowed to add events.")
    salt: Bytes32Hex
    signature: SignatureHex


class DelegationPublic(BaseModel):
    id: int
    issuer_org: str
    issuer_name: str
    delegate_org: str
    delegate_name: str
    subject: str
    signer: str
    salt: str
    digest: str
    signature: str
    created_at: datetime
    revoked_at: datetime | None


class DelegationsPublic(BaseModel):
    items: list[DelegationPublic]
    next_cursor: int | None
