"""Request and response bodies for organisations, API keys and signer keys."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from backend.common.schemas import RowModel
from backend.common.text import safe_text
from backend.common.types import Bytes32, Bytes32Hex, EthAddress, WalletSignature


class OrgRole(StrEnum):
    """Roles an organisation (and its signer keys) may act in on chain (``OrganisationRegistry``)."""

    ISSUER = "issuer"
    SELLER = "seller"
    SUPPLIER = "supplier"
    CARRIER = "carrier"
    WAREHOUSE = "warehouse"
    CUSTOMS_BROKER = "customs_broker"
    CERTIFIER = "certifier"
    ALLIANCE_MEMBER = "alliance_member"
    CONSIGNEE = "consignee"
    ARBITER = "arbiter"
    INSURER = "insurer"


#: Roles of an organisation created without a ``roles`` list. Certifier, arbiter and
#: insurer are accreditations the operator grants explicitly.
DEFAULT_ORG_ROLES = (
    OrgRole.ISSUER,
    OrgRole.SELLER,
    OrgRole.SUPPLIER,
    OrgRole.CARRIER,
    OrgRole.WAREHOUSE,
    OrgRole.CUSTOMS_BROKER,
    OrgRole.ALLIANCE_MEMBER,
    OrgRole.CONSIGNEE,
)

COUNTRY = re.compile(r"^[A-Z]{2}$")
GS1_PREFIX = re.compile(r"^[0-9]{6,12}$")
DOMAIN = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def _country(value: str) -> str:
    if not COUNTRY.fullmatch(value):
        raise ValueError("country must be an ISO 3166-1 alpha-2 code (two upper-case letters)")
    return value


def _prefix(value: str) -> str:
    if not GS1_PREFIX.fullmatch(value):
        raise ValueError("a GS1 company prefix is 6 to 12 digits")
    return value


def _domain(value: str) -> str:
    if value and not DOMAIN.fullmatch(value):
        raise ValueError("web_domain must be a lower-case DNS name such as brand.example")
    return value


CountryCode = Annotated[str, AfterValidator(_country)]
Gs1Prefix = Annotated[str, AfterValidator(_prefix)]
WebDomain = Annotated[str, Field(max_length=253), AfterValidator(_domain)]
RoleList = Annotated[list[OrgRole], Field(min_length=1, max_length=len(OrgRole))]


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


class OrganisationCreate(Strict):
    slug: Slug
    name: Annotated[str, Field(min_length=1, max_length=200), AfterValidator(safe_text)] = Field(
        description="Verified legal name; registered on chain as is."
    )
    country: CountryCode = Field(
        default="XX", description="ISO 3166-1 alpha-2 country of registration (XX: not stated)."
    )
    web_domain: WebDomain = ""
    gs1_prefixes: Annotated[list[Gs1Prefix], Field(max_length=20)] = Field(
        default_factory=list,
        description="GS1 company prefixes the organisation holds; no two organisations overlap.",
    )
    roles: RoleList | None = Field(
        default=None,
        description="Roles its keys may act in; default: every role except certifier, arbiter "
        "and insurer.",
    )


class OrganisationPublic(BaseModel):
    slug: str
    name: str
    created_at: datetime
    country: str = "XX"
    web_domain: str = ""
    roles: list[str] = Field(default_factory=list)
    chain_org_id: str = Field(
        default="", description="The organisation's id in OrganisationRegistry (0x-hex)."
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


class OrganisationRegister(Strict):
    """Registration of an organisation created before OrganisationRegistry (backfill)."""

    country: CountryCode | None = Field(
        default=None, description="ISO 3166-1 alpha-2 country (default: the one on record)."
    )
    web_domain: WebDomain | None = None
    gs1_prefixes: Annotated[list[Gs1Prefix], Field(max_length=20)] = Field(
        default_factory=list,
        description="GS1 company prefixes the organisation holds; no two organisations overlap.",
    )
    roles: RoleList | None = Field(
        default=None,
        description="Roles its keys may act in; default: every role except certifier, arbiter "
        "and insurer.",
    )


class OrganisationRegistered(BaseModel):
    organisation: OrganisationPublic
    keys: list[str] = Field(description="Signer keys whose addition was queued.")


class OrganisationCreated(BaseModel):
    organisation: OrganisationPublic
    admin_key: ApiKeyIssued


class ApiKeysPublic(BaseModel):
    items: list[ApiKeyPublic]
    next_cursor: int | None


class SignerCreate(Strict):
    address: EthAddress
    label: Label = ""
    roles: RoleList | None = Field(
        default=None,
        description="Roles the key acts in on chain; default: all of the organisation's roles.",
    )
    valid_from: datetime | None = Field(
        default=None,
        description="Default: now. Never in the past: keys are judged at receipt time.",
    )


class SignerRotate(Strict):
    address: EthAddress = Field(description="The new signer address.")
    label: Label = ""
    roles: RoleList | None = Field(
        default=None, description="Roles of the new key; default: all of the organisation's roles."
    )


class SignerRevoke(Strict):
    revoked_at: datetime | None = Field(
        default=None,
        description="Default: now. Never in the past: signatures received before stay valid.",
    )


class SignerPublic(RowModel):
    id: int
    address: str
    label: str
    valid_from: datetime
    revoked_at: datetime | None


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
    salt: Bytes32
    signature: WalletSignature


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
