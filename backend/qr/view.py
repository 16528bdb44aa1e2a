"""View model of the consumer product page.

Everything here is public by construction: the page shows exactly these fields,
and none of them is a key, an internal database id or an API-key owner. Values
are display-ready (place names, plain-words customs status) so templates stay
free of business logic.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache

import pycountry


class PageState(StrEnum):
    """Which banner the page shows; the order of checks is the order of severity."""

    VERIFIED = "verified"
    PENDING = "pending"
    RECALLED = "recalled"
    TAMPERED = "tampered"


class AttestationStatus(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    REVOKED = "revoked"
    # Written into the brand's own document, with no matching on-chain attestation
    # by a registered certifier: never shown as attested.
    DECLARED = "declared"


class CustomsStatus(StrEnum):
    HELD = "held"
    RELEASED = "released"
    CLEARED = "cleared"  # export clearance at origin


@lru_cache(maxsize=512)
def country_name(code: str) -> str:
    """English short name of an ISO 3166-1 alpha-2 code (the code itself if unknown)."""
    country = pycountry.countries.get(alpha_2=code.upper())
    if country is None:
        return code
    return str(getattr(country, "common_name", None) or country.name)


@dataclass(frozen=True, slots=True)
class Place:
    country_code: str
    region: str | None = None
    facility: str | None = None
    city: str | None = None

    @property
    def country(self) -> str:
        return country_name(self.country_code)

    @property
    def short(self) -> str:
        """City (or region) and country, e.g. ``Los Angeles, United States``."""
        local = self.city or self.region
        return f"{local}, {self.country}" if local else self.country


@dataclass(frozen=True, slots=True)
class Material:
    name: str
    share_percent: Decimal
    origin: Place | None = None
    recycled_percent: Decimal | None = None


@dataclass(frozen=True, slots=True)
class CalculationStep:
    """One ``activity × factor = result`` row of a footprint calculation."""

    activity: str
    amount: Decimal
    unit: str
    factor: Decimal
    factor_unit: str
    factor_source: str
    result_kg: Decimal


@dataclass(frozen=True, slots=True)
class TransportLeg:
    """A freight leg: mass × distance gives tonne-kilometres, times a per-t·km factor."""

    mode: str
    origin: Place
    destination: Place
    distance_km: Decimal
    mass_t: Decimal
    factor: Decimal
    factor_source: str
    result_kg: Decimal

    @property
    def tonne_km(self) -> Decimal:
        return self.mass_t * self.distance_km


@dataclass(frozen=True, slots=True)
class CarbonStage:
    stage: str
    total_kg: Decimal
    steps: tuple[CalculationStep, ...] = ()
    legs: tuple[TransportLeg, ...] = ()


@dataclass(frozen=True, slots=True)
class WaterStage:
    stage: str
    litres: Decimal
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Signer:
    """A signing key shown by its verified organisation name and role; address on demand."""

    name: str
    address: str
    role: str | None = None
    verified: bool = True

    @property
    def label(self) -> str:
        return f"{self.name} · {self.role}" if self.role else self.name


@dataclass(frozen=True, slots=True)
class Certification:
    name: str
    # The certifier the brand's document names (free text, not verified).
    issuer: str
    status: AttestationStatus
    valid_until: date | None = None
    reference: str | None = None
    # The registered certifier whose on-chain attestation backs it, if any.
    attested_by: Signer | None = None


@dataclass(frozen=True, slots=True)
class Milestone:
    title: str
    place: Place
    at: datetime
    signed_by: Signer
    customs: CustomsStatus | None = None
    late: bool = False
    exception: str | None = None
    weight_discrepancy: str | None = None

    @property
    def customs_text(self) -> str | None:
        """Customs status in plain words, e.g. ``Held by customs at Los Angeles``."""
        where = self.place.city or self.place.region or self.place.country
        match self.customs:
            case CustomsStatus.HELD:
                return f"Held by customs at {where}"
            case CustomsStatus.RELEASED:
                return f"Released by customs at {where}"
            case CustomsStatus.CLEARED:
                return f"Cleared for export at {where}"
        return None


@dataclass(frozen=True, slots=True)
class ShipmentJourney:
    """One shipment that carried the product: its route, dates and milestones."""

    origin: Place | None
    destination: Place | None
    milestones: tuple[Milestone, ...]

    @property
    def started(self) -> datetime | None:
        return self.milestones[0].at if self.milestones else None

    @property
    def last(self) -> datetime | None:
        return self.milestones[-1].at if self.milestones else None


@dataclass(frozen=True, slots=True)
class Recall:
    reason: str
    issued_at: datetime | None
    instructions: str


@dataclass(frozen=True, slots=True)
class ChainProof:
    """Where the passport and journey are anchored; all values are public chain data."""

    chain_id: int
    chain_name: str
    contract: str
    transaction: str
    block_number: int
    merkle_root: str
    signers: tuple[Signer, ...]
    anchored_at: datetime | None


@dataclass(frozen=True, slots=True)
class Tamper:
    """A served document whose hash differs from the one anchored on chain."""

    document: str
    anchored_hash: str
    served_hash: str


@dataclass(frozen=True, slots=True)
class ProductPage:
    product_name: str
    # The issuer organisation's verified name (never the document's free text).
    brand: str
    gtin: str
    digital_link: str
    proof_bundle_url: str
    # The passport as a UNTP Digital Product Passport credential (vc+jwt / JSON-LD).
    credential_url: str = ""
    # Restricted sections: (title, who may read them); the content is never on the page.
    restricted: tuple[tuple[str, str], ...] = ()
    lot: str | None = None
    serial: str | None = None
    description: str | None = None
    origin: Place | None = None
    materials: tuple[Material, ...] = ()
    carbon: tuple[CarbonStage, ...] = ()
    water: tuple[WaterStage, ...] = ()
    certifications: tuple[Certification, ...] = ()
    journey: tuple[Milestone, ...] = ()
    # Where records are anchored, in words (``a local test chain …``, ``Base, a public …``).
    anchored_on: str | None = None
    # The same milestones, one group per shipment (a lot can travel on several).
    shipments: tuple[ShipmentJourney, ...] = ()
    recall: Recall | None = None
    proof: ChainProof | None = None
    tamper: Tamper | None = None
    # Which passport answered: "item passport", "batch passport (lot …)", "model passport".
    resolved_level: str | None = None
    lang: str = "en"
    brand_signer: Signer | None = None
    qr_image_src: str | None = field(default=None, repr=False)

    @property
    def state(self) -> PageState:
        if self.tamper is not None:
            return PageState.TAMPERED
        if self.recall is not None:
            return PageState.RECALLED
        if self.proof is None:
            return PageState.PENDING
        return PageState.VERIFIED

    @property
    def journey_groups(self) -> tuple[ShipmentJourney, ...]:
        """Per-shipment groups; a journey given without them is one group with no route."""
        if self.shipments:
            return self.shipments
        return (ShipmentJourney(None, None, self.journey),) if self.journey else ()

    @property
    def carbon_total_kg(self) -> Decimal:
        return sum((s.total_kg for s in self.carbon), Decimal(0))

    @property
    def water_total_litres(self) -> Decimal:
        return sum((s.litres for s in self.water), Decimal(0))


def _jsonable(value: object) -> object:
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def public_dict(page: ProductPage) -> dict[str, object]:
    """The page as JSON-ready data (the ``application/json`` representation of a link).

    Decimals are strings so no precision is lost; the QR image is left out.
    """
    data = {f.name: getattr(page, f.name) for f in fields(page) if f.name != "qr_image_src"}
    out = {
        k: _jsonable(asdict(v) if is_dataclass(v) and not isinstance(v, type) else v)
        for k, v in data.items()
    }
    for key in ("materials", "carbon", "water", "certifications", "journey", "shipments"):
        out[key] = [_jsonable(asdict(item)) for item in getattr(page, key)]
    out["state"] = page.state.value
    return out
