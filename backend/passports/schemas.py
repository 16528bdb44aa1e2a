"""The passport document: the off-chain JSON whose JCS hash a passport version commits to.

``PassportDocument.model_validate`` checks structure and the domain rules below;
:func:`parse_document` wraps it and raises :class:`DocumentInvalid` whose
``problems`` read ``"materials[1].mass_share_pct: must be between 0 and 100 %, got 120"``.

Rules: shares are percentages in [0, 100]; material mass shares sum to 100 within
``MASS_SHARE_TOLERANCE_PCT``; countries are ISO 3166-1 alpha-2; activity amounts,
emission factors and water volumes are non-negative (removals and offsets are not
netted into a passport footprint); units come from :mod:`backend.passports.units`
and an activity's unit has the dimension of its factor's denominator.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any, Final, Literal

import pycountry
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from backend.gs1.digital_link import DigitalLink
from backend.gs1.errors import IdentifierInvalid
from backend.gs1.keys import key as gs1_key
from backend.passports.errors import DocumentInvalid, PassportError
from backend.passports.units import activity_unit, factor_unit

SCHEMA_VERSION: Final = "waymark.passport/1"
MASS_SHARE_TOLERANCE_PCT = 0.1
ISO_3166_ALPHA2: frozenset[str] = frozenset(c.alpha_2 for c in pycountry.countries)
LIFECYCLE_STAGES = (
    "raw_materials",
    "manufacturing",
    "packaging",
    "distribution",
    "use",
    "end_of_life",
)
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


def _country(value: str) -> str:
    if value not in ISO_3166_ALPHA2:
        raise ValueError(f"unknown ISO 3166-1 alpha-2 country code {value!r}")
    return value


def _percent(value: float, what: str) -> float:
    if not math.isfinite(value) or value < 0 or value > 100:
        raise ValueError(f"{what} must be between 0 and 100 %, got {value:g}")
    return value


def _non_negative(value: float, what: str) -> float:
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{what} must not be negative, got {value:g}")
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Identity(_Model):
    """The GS1 key the passport is for; ``gtin`` is stored as GTIN-14."""

    gtin: str
    lot: str | None = None
    serial: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            try:
                key = gs1_key(str(data.get("gtin", "")), data.get("lot"), data.get("serial"))
            except IdentifierInvalid as exc:
                raise ValueError(str(exc)) from None
            return {**data, "gtin": key.gtin}
        return data

    @property
    def key(self) -> DigitalLink:
        return DigitalLink(self.gtin, self.lot, self.serial)


class Issuer(_Model):
    """The brand that issues the passport."""

    name: str = Field(min_length=1)
    account: str | None = None
    url: str | None = None

    @field_validator("account")
    @classmethod
    def _account(cls, value: str | None) -> str | None:
        if value is not None and not _ADDRESS.match(value):
            raise ValueError(f"account must be a 0x-prefixed 20-byte hex address, got {value!r}")
        return value


class Product(_Model):
    name: str = Field(min_length=1)
    category: str = Field(min_length=1)
    description: str | None = None


class Origin(_Model):
    """Where the product was made."""

    country: str
    region: str | None = None
    facility_id: str | None = None

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        return _country(value)


class Material(_Model):
    name: str = Field(min_length=1)
    mass_share_pct: float
    recycled_share_pct: float = 0.0
    origin_country: str
    certifications: list[str] = Field(default_factory=list)

    @field_validator("mass_share_pct")
    @classmethod
    def _mass(cls, value: float) -> float:
        return _percent(value, "mass share")

    @field_validator("recycled_share_pct")
    @classmethod
    def _recycled(cls, value: float) -> float:
        return _percent(value, "recycled share")

    @field_validator("origin_country")
    @classmethod
    def _origin(cls, value: str) -> str:
        return _country(value)


def _known_unit(check: Callable[[str], object], value: str) -> str:
    """``value`` if ``check`` accepts it; its error message as a validation error otherwise."""
    try:
        check(value)
    except PassportError as exc:
        raise ValueError(str(exc)) from None
    return value


class Quantity(_Model):
    amount: float
    unit: str

    @field_validator("amount")
    @classmethod
    def _amount(cls, value: float) -> float:
        return _non_negative(value, "activity amount")

    @field_validator("unit")
    @classmethod
    def _unit(cls, value: str) -> str:
        return _known_unit(activity_unit, value)


class EmissionFactor(_Model):
    value: float
    unit: str

    @field_validator("value")
    @classmethod
    def _value(cls, value: float) -> float:
        return _non_negative(value, "emission factor")

    @field_validator("unit")
    @classmethod
    def _unit(cls, value: str) -> str:
        return _known_unit(factor_unit, value)


class CarbonActivity(_Model):
    """One line of a stage's footprint: activity x factor."""

    description: str = Field(min_length=1)
    activity: Quantity
    factor: EmissionFactor
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _compatible(self) -> CarbonActivity:
        _grams, per = factor_unit(self.factor.unit)
        have, _ = activity_unit(self.activity.unit)
        want, _ = activity_unit(per)
        if have != want:
            raise ValueError(
                f"activity unit {self.activity.unit!r} ({have}) does not match factor unit "
                f"{self.factor.unit!r} (per {want})"
            )
        return self


class LifecycleCarbon(_Model):
    """Footprint lines per lifecycle stage (ISO 14067 / PEF stage split)."""

    raw_materials: list[CarbonActivity] = Field(default_factory=list)
    manufacturing: list[CarbonActivity] = Field(default_factory=list)
    packaging: list[CarbonActivity] = Field(default_factory=list)
    distribution: list[CarbonActivity] = Field(default_factory=list)
    use: list[CarbonActivity] = Field(default_factory=list)
    end_of_life: list[CarbonActivity] = Field(default_factory=list)


class LifecycleWater(_Model):
    """Water use per lifecycle stage, in litres."""

    raw_materials: float = 0.0
    manufacturing: float = 0.0
    packaging: float = 0.0
    distribution: float = 0.0
    use: float = 0.0
    end_of_life: float = 0.0

    @field_validator(*LIFECYCLE_STAGES)
    @classmethod
    def _litres(cls, value: float) -> float:
        return _non_negative(value, "water use")


class Certification(_Model):
    """A certificate held for the product or one of its materials."""

    id: str = Field(min_length=1)
    scheme: str = Field(min_length=1)
    issuer: str = Field(min_length=1)
    certificate_number: str | None = None
    valid_from: date
    valid_until: date

    @model_validator(mode="after")
    def _dates(self) -> Certification:
        if self.valid_until < self.valid_from:
            raise ValueError(
                f"valid_until {self.valid_until} is before valid_from {self.valid_from}"
            )
        return self


class Instructions(_Model):
    care: list[str] = Field(default_factory=list)
    repair: list[str] = Field(default_factory=list)
    recycling: list[str] = Field(default_factory=list)


ACCESS_LEVELS = ("public", "legitimate_interest", "authority")
RestrictedLevel = Literal["legitimate_interest", "authority"]
_SALT = re.compile(r"^0x[0-9a-f]{64}$")
_SECTION_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class RestrictedSection(_Model):
    """A section only parties granted its access level may read (ESPR style).

    Full form: ``name``, ``access``, ``salt`` (32 random bytes, so a short section
    cannot be guessed from its digest) and ``content``. Public form: ``name``,
    ``access`` and ``digest`` = keccak256 of the RFC 8785 bytes of
    ``{"content": …, "salt": …}``. The document hash is taken over the public form
    (:mod:`backend.passports.canonical`), so both forms hash the same.
    """

    name: str
    access: RestrictedLevel
    salt: str | None = None
    content: dict[str, Any] | None = None
    digest: str | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _SECTION_NAME.match(value):
            raise ValueError(f"section name must match {_SECTION_NAME.pattern}, got {value!r}")
        return value

    @model_validator(mode="after")
    def _form(self) -> RestrictedSection:
        full = self.salt is not None and self.content is not None
        if full == (self.digest is not None) or (not full and (self.salt or self.content)):
            raise ValueError(
                f"section {self.name!r}: give either salt and content (full form) "
                "or digest alone (public form)"
            )
        for field, value in (("salt", self.salt), ("digest", self.digest)):
            if value is not None and not _SALT.match(value):
                raise ValueError(f"section {self.name!r}: {field} must be 0x + 64 lower-case hex")
        return self


class PassportDocument(_Model):
    """A digital product passport document (schema ``waymark.passport/1``)."""

    schema_version: Literal["waymark.passport/1"] = SCHEMA_VERSION
    identity: Identity
    issuer: Issuer
    product: Product
    origin: Origin
    materials: list[Material] = Field(min_length=1)
    carbon: LifecycleCarbon
    water: LifecycleWater
    certifications: list[Certification] = Field(default_factory=list)
    instructions: Instructions = Field(default_factory=Instructions)
    # Absent in documents without restricted sections, whose hash is then unchanged.
    restricted_sections: list[RestrictedSection] | None = None

    @model_validator(mode="after")
    def _cross_checks(self) -> PassportDocument:
        total = sum(m.mass_share_pct for m in self.materials)
        if abs(total - 100.0) > MASS_SHARE_TOLERANCE_PCT:
            raise ValueError(
                f"material mass shares sum to {total:g} %, expected 100 % "
                f"(tolerance ±{MASS_SHARE_TOLERANCE_PCT:g})"
            )
        names = [r.name for r in self.restricted_sections or ()]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(
                f"restricted section names must be unique; repeated: {', '.join(repeated)}"
            )
        ids = [c.id for c in self.certifications]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"certification ids must be unique; repeated: {', '.join(duplicates)}")
        for material in self.materials:
            for ref in material.certifications:
                if ref not in ids:
                    raise ValueError(
                        f"material {material.name!r} refers to certification {ref!r}, "
                        "which the document does not list"
                    )
        return self

    @property
    def passport_id(self) -> bytes:
        return self.identity.key.passport_id

    def to_json_dict(self) -> dict[str, Any]:
        """The published form: JSON types, absent optional fields omitted."""
        return self.model_dump(mode="json", exclude_none=True)

    def recycled_content_pct(self) -> float:
        """Mass-weighted recycled content of the product, in percent."""
        return sum(m.mass_share_pct * m.recycled_share_pct for m in self.materials) / 100.0


def parse_document(data: Mapping[str, Any] | str | bytes) -> PassportDocument:
    """Validate a document (mapping or JSON text); raise :class:`DocumentInvalid`."""
    try:
        if isinstance(data, (str, bytes)):
            data = json.loads(data)
        return PassportDocument.model_validate(data)
    except json.JSONDecodeError as exc:
        raise DocumentInvalid([f"$: not valid JSON ({exc.msg} at line {exc.lineno})"]) from exc
    except ValidationError as exc:
        raise DocumentInvalid([_problem(err) for err in exc.errors()]) from exc


def _problem(err: Any) -> str:
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"]).lstrip(".")
    message = str(err["msg"]).removeprefix("Value error, ")
    return f"{path or '$'}: {message}"
