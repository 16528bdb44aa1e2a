"""Assemble the consumer page view from a passport document, its journey and proofs.

Pure: the service loads rows and chain facts and passes them in as the small
input dataclasses below; this module turns them into display-ready
:class:`~backend.qr.view.ProductPage` values (carbon working from the
calculator, customs status in plain words, places from UN/LOCODEs).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from backend.passports import carbon
from backend.passports.schemas import PassportDocument
from backend.passports.units import convert
from backend.qr import view

CHAIN_NAMES = {
    1: "Ethereum",
    10: "OP Mainnet",
    8453: "Base",
    42161: "Arbitrum One",
    11155111: "Sepolia",
    84532: "Base Sepolia",
    11155420: "OP Sepolia",
    31337: "Anvil (local development chain)",
    1337: "local development chain",
    131277322940537: "eth-tester (local test chain)",
}
# What each chain is, for people: where "anchored on chain" actually happened.
CHAIN_KINDS = {
    1: "Ethereum mainnet, a public blockchain",
    10: "OP Mainnet, a public Ethereum layer-2 network",
    8453: "Base, a public Ethereum layer-2 network",
    42161: "Arbitrum One, a public Ethereum layer-2 network",
    11155111: "Sepolia, a public Ethereum test network",
    84532: "Base Sepolia, a public test network",
    11155420: "OP Sepolia, a public test network",
    31337: "a local development chain (Anvil), not a public blockchain",
    1337: "a local development chain, not a public blockchain",
    131277322940537: "a local test chain (eth-tester), not a public blockchain",
}
STAGE_TITLES = {
    "raw_materials": "Raw materials",
    "manufacturing": "Manufacturing",
    "packaging": "Packaging",
    "distribution": "Distribution",
    "use": "Use",
    "end_of_life": "End of life",
}
MILESTONE_TITLES = {
    "PICKED_UP": "Picked up by the carrier",
    "EXPORT_CLEARED": "Export customs cleared",
    "DEPARTED": "Departed",
    "ARRIVED": "Arrived",
    "CUSTOMS_HOLD": "Held by import customs",
    "CUSTOMS_RELEASED": "Released by import customs",
    "IMPORT_CLEARED": "Import customs cleared",
    "WAREHOUSE_INBOUND": "Received at the warehouse",
    "HANDOVER": "Handed over",
    "OUT_FOR_DELIVERY": "Out for delivery",
    "DELIVERED": "Delivered",
    "RETURNED": "Returned to the seller",
    "EXCEPTION": "Exception reported",
}
_CUSTOMS = {
    "EXPORT_CLEARED": view.CustomsStatus.CLEARED,
    "CUSTOMS_HOLD": view.CustomsStatus.HELD,
    "CUSTOMS_RELEASED": view.CustomsStatus.RELEASED,
    "IMPORT_CLEARED": view.CustomsStatus.RELEASED,
}
_EXCEPTIONS = {1: "delayed", 2: "damaged", 3: "lost", 4: "other"}


@dataclass(frozen=True, slots=True)
class JourneyStep:
    """A recorded shipment milestone, as the read model holds it."""

    milestone: str  # ShipmentRegistry MilestoneType name
    occurred_at: datetime
    location: str  # UN/LOCODE, "" when unknown
    signer: str
    reason_code: int = 0
    late: bool = False
    weight_discrepancy: str | None = None


def facility_text(facility_id: str | None) -> str | None:
    """``urn:gln:8936045870007`` → ``facility GLN 8936045870007``; other ids as given."""
    if facility_id is None:
        return None
    if facility_id.startswith("urn:gln:"):
        return "facility GLN " + facility_id.removeprefix("urn:gln:")
    return facility_id


def locode_place(code: str) -> view.Place:
    """A place from a UN/LOCODE (``USLAX`` → Los Angeles, United States)."""
    code = code.strip().replace(" ", "").upper()
    if len(code) < 2:
        return view.Place("ZZ", city="Unknown place")
    known = carbon.LOCODES.get(code)
    return view.Place(code[:2], city=known[0] if known else code)


def _dec(value: float) -> Decimal:
    return Decimal(repr(float(value)))


def carbon_stages(
    doc: PassportDocument, legs: Sequence[carbon.TransportLeg] = ()
) -> tuple[tuple[view.CarbonStage, ...], tuple[view.WaterStage, ...]]:
    """Per-stage carbon working (document lines + transport legs) and water use."""
    fp = carbon.footprint(doc, legs)
    stages: list[view.CarbonStage] = []
    water: list[view.WaterStage] = []
    for stage in fp.stages:
        steps: list[view.CalculationStep] = []
        view_legs: list[view.TransportLeg] = []
        # The calculator appends the legs, in order, after the distribution lines.
        first_leg = len(stage.steps) - len(legs) if stage.stage == "distribution" else None
        for i, step in enumerate(stage.steps):
            if first_leg is None or i < first_leg:
                steps.append(
                    view.CalculationStep(
                        activity=step.description,
                        amount=_dec(step.activity),
                        unit=step.activity_unit,
                        factor=_dec(step.factor),
                        factor_unit=step.factor_unit,
                        factor_source=step.source,
                        result_kg=_dec(step.result_g_co2e / 1000.0),
                    )
                )
                continue
            leg = legs[i - first_leg]
            mass_t = convert(leg.mass, leg.mass_unit, "t")
            km = step.activity / mass_t if mass_t else 0.0
            view_legs.append(
                view.TransportLeg(
                    mode=leg.mode,
                    origin=locode_place(leg.origin or ""),
                    destination=locode_place(leg.destination or ""),
                    distance_km=_dec(round(km, 1)),
                    mass_t=_dec(mass_t),
                    factor=_dec(step.factor / 1000.0),
                    factor_source=step.source,
                    result_kg=_dec(step.result_g_co2e / 1000.0),
                )
            )
        if steps or view_legs:
            stages.append(
                view.CarbonStage(
                    stage=STAGE_TITLES.get(stage.stage, stage.stage),
                    total_kg=_dec(stage.total_g_co2e / 1000.0),
                    steps=tuple(steps),
                    legs=tuple(view_legs),
                )
            )
        if stage.water_litres:
            water.append(
                view.WaterStage(
                    STAGE_TITLES.get(stage.stage, stage.stage), _dec(stage.water_litres)
                )
            )
    return tuple(stages), tuple(water)


def journey(
    steps: Iterable[JourneyStep], signer_names: dict[str, str]
) -> tuple[view.Milestone, ...]:
    """Timeline entries, oldest first."""
    out = []
    for step in sorted(steps, key=lambda s: s.occurred_at):
        exception = None
        if step.milestone == "EXCEPTION":
            exception = _EXCEPTIONS.get(step.reason_code, "reported")
        out.append(
            view.Milestone(
                title=MILESTONE_TITLES.get(
                    step.milestone, step.milestone.replace("_", " ").title()
                ),
                place=locode_place(step.location),
                at=step.occurred_at.astimezone(UTC),
                signed_by=signer_names.get(step.signer.lower(), step.signer),
                customs=_CUSTOMS.get(step.milestone),
                late=step.late,
                exception=exception,
                weight_discrepancy=step.weight_discrepancy,
            )
        )
    return tuple(out)


def certifications(
    doc: PassportDocument, today: date, revoked: frozenset[str] = frozenset()
) -> tuple[view.Certification, ...]:
    out = []
    for cert in doc.certifications:
        if cert.id in revoked:
            status = view.AttestationStatus.REVOKED
        elif cert.valid_until < today:
            status = view.AttestationStatus.EXPIRED
        else:
            status = view.AttestationStatus.VALID
        out.append(
            view.Certification(
                name=cert.scheme,
                issuer=cert.issuer,
                status=status,
                valid_until=cert.valid_until,
                reference=cert.certificate_number,
            )
        )
    return tuple(out)


def chain_name(chain_id: int) -> str:
    return CHAIN_NAMES.get(chain_id, f"chain {chain_id}")


def chain_kind(chain_id: int) -> str:
    """``a local test chain (eth-tester), not a public blockchain``, ``Base, a public …``."""
    return CHAIN_KINDS.get(chain_id, f"the chain with id {chain_id}")
