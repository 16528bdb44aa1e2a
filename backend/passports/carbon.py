"""Carbon and water footprint of a passport, with every calculation step kept.

Each document line is ``activity x emission factor``; each transport leg is
``mass (t) x distance (km) x mode intensity (gCO2e/t·km)`` in the manner of
ISO 14083:2023 and the GLEC Framework v3.0 (transport work times a well-to-wheel
emission intensity). Legs are added to the ``distribution`` stage next to the
document's own distribution lines. Results are returned as dataclasses so a page
can show the working: ``0.0012 t x 14,500 km = 17.4 tkm; 17.4 tkm x 16 gCO2e/tkm = 278.4 gCO2e``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from backend.passports.errors import CarbonInputInvalid
from backend.passports.schemas import LIFECYCLE_STAGES, CarbonActivity, PassportDocument
from backend.passports.units import EMISSION_UNITS, Dimension, activity_unit, convert, factor_unit

TIMES = "\u00d7"  # the multiplication sign shown in formulas

GLEC_SOURCE = (
    "Default well-to-wheel intensity after the GLEC Framework v3.0 (Smart Freight Centre, 2023) "
    "and ISO 14083:2023 default values; replace with carrier-specific data where available"
)


@dataclass(frozen=True)
class ModeFactor:
    """Default emission intensity of a transport mode."""

    g_co2e_per_tkm: float
    description: str
    source: str = GLEC_SOURCE


# Indicative defaults (WTW, gCO2e per tonne-km) for general cargo, average load factors.
# Override per leg with `TransportLeg.factor_g_per_tkm` and `factor_source`.
MODE_FACTORS: dict[str, ModeFactor] = {
    "sea": ModeFactor(16.0, "deep-sea container ship, average size and utilisation"),
    "air": ModeFactor(602.0, "long-haul air freight, freighter and belly average"),
    "road": ModeFactor(78.0, "articulated truck up to 40 t, average load, diesel"),
    "rail": ModeFactor(22.0, "freight train, diesel and electric average"),
}

# EN 16258 / GLEC: planned air distance is great-circle distance plus 95 km.
AIR_GCD_UPLIFT_KM = 95.0
EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius

# UN/LOCODE -> (name, latitude, longitude) for the demo ports.
LOCODES: dict[str, tuple[str, float, float]] = {
    "VNSGN": ("Ho Chi Minh City", 10.7626, 106.7916),
    "VNHPH": ("Haiphong", 20.8449, 106.6881),
    "CNSZX": ("Shenzhen", 22.5431, 114.0579),
    "CNNGB": ("Ningbo", 29.8683, 121.5440),
    "USLAX": ("Los Angeles", 33.7405, -118.2775),
    "USLGB": ("Long Beach", 33.7542, -118.2165),
    "USOAK": ("Oakland", 37.7955, -122.2800),
}


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance on a sphere of the mean Earth radius."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def locode_distance_km(origin: str, destination: str) -> float:
    """Great-circle distance between two UN/LOCODEs of :data:`LOCODES`."""
    try:
        _, lat1, lon1 = LOCODES[origin]
        _, lat2, lon2 = LOCODES[destination]
    except KeyError as exc:
        raise CarbonInputInvalid(
            f"no coordinates for UN/LOCODE {exc.args[0]!r}; give the leg's distance instead"
        ) from None
    return haversine_km(lat1, lon1, lat2, lon2)


@dataclass(frozen=True)
class TransportLeg:
    """One transport leg attributable to the product.

    ``distance`` may be omitted when ``origin`` and ``destination`` are UN/LOCODEs
    with known coordinates: the great-circle distance is used (plus 95 km for air).
    Great-circle distance understates sea and road routes, so routed distances are
    preferred when known. ``source`` names the evidence, e.g. the shipment milestone.
    """

    mode: str
    mass: float
    mass_unit: str = "kg"
    distance: float | None = None
    distance_unit: str = "km"
    origin: str | None = None
    destination: str | None = None
    factor_g_per_tkm: float | None = None
    factor_source: str | None = None
    source: str = ""


@dataclass(frozen=True)
class Input:
    """A figure as given, before conversion."""

    name: str
    amount: float
    unit: str


@dataclass(frozen=True)
class CalculationStep:
    """``activity x factor = result``, with the inputs it came from."""

    stage: str
    description: str
    inputs: tuple[Input, ...]
    activity: float
    activity_unit: str
    factor: float
    factor_unit: str
    result: float
    result_unit: str
    result_g_co2e: float
    source: str
    conversions: tuple[str, ...] = ()
    evidence: str = ""

    @property
    def formula(self) -> str:
        return (
            f"{_num(self.activity)} {self.activity_unit} {TIMES} {_num(self.factor)} "
            f"{self.factor_unit} = {_num(self.result)} {self.result_unit}"
        )


@dataclass(frozen=True)
class StageFootprint:
    stage: str
    steps: tuple[CalculationStep, ...]
    total_g_co2e: float
    water_litres: float


@dataclass(frozen=True)
class Footprint:
    """Per-stage breakdown and totals of one passport."""

    stages: tuple[StageFootprint, ...]
    total_g_co2e: float
    total_water_litres: float

    @property
    def total_kg_co2e(self) -> float:
        return self.total_g_co2e / 1000.0

    def stage(self, name: str) -> StageFootprint:
        for stage in self.stages:
            if stage.stage == name:
                return stage
        raise KeyError(name)

    @property
    def steps(self) -> tuple[CalculationStep, ...]:
        return tuple(step for stage in self.stages for step in stage.steps)


def activity_step(stage: str, line: CarbonActivity) -> CalculationStep:
    """One document line: convert the activity to the factor's unit, multiply."""
    grams_per_unit, per = factor_unit(line.factor.unit)
    amount = convert(line.activity.amount, line.activity.unit, per)
    result = amount * line.factor.value
    emissions_unit = line.factor.unit.partition("/")[0]
    return CalculationStep(
        stage=stage,
        description=line.description,
        inputs=(Input("activity", line.activity.amount, line.activity.unit),),
        activity=amount,
        activity_unit=per,
        factor=line.factor.value,
        factor_unit=line.factor.unit,
        result=result,
        result_unit=emissions_unit,
        result_g_co2e=result * grams_per_unit,
        source=line.source,
        conversions=_conversion(line.activity.amount, line.activity.unit, amount, per),
    )


def leg_step(leg: TransportLeg, stage: str = "distribution") -> CalculationStep:
    """``t x km x gCO2e/tkm`` for one leg."""
    mode = MODE_FACTORS.get(leg.mode)
    if mode is None:
        raise CarbonInputInvalid(
            f"unknown transport mode {leg.mode!r}; known: {', '.join(MODE_FACTORS)}"
        )
    if activity_unit(leg.mass_unit)[0] is not Dimension.MASS:
        raise CarbonInputInvalid(f"leg mass unit {leg.mass_unit!r} is not a mass unit")
    if not math.isfinite(leg.mass) or leg.mass < 0:
        raise CarbonInputInvalid(f"leg mass must not be negative, got {leg.mass:g}")
    tonnes = convert(leg.mass, leg.mass_unit, "t")
    inputs = [Input("mass", leg.mass, leg.mass_unit)]
    if leg.distance is not None:
        if not math.isfinite(leg.distance) or leg.distance < 0:
            raise CarbonInputInvalid(f"leg distance must not be negative, got {leg.distance:g}")
        if activity_unit(leg.distance_unit)[0] is not Dimension.DISTANCE:
            raise CarbonInputInvalid(f"leg distance unit {leg.distance_unit!r} is not a distance")
        km = convert(leg.distance, leg.distance_unit, "km")
        inputs.append(Input("distance", leg.distance, leg.distance_unit))
    elif leg.origin and leg.destination:
        km = locode_distance_km(leg.origin, leg.destination)
        if leg.mode == "air":
            km += AIR_GCD_UPLIFT_KM
        inputs.append(Input(f"great-circle distance {leg.origin}→{leg.destination}", km, "km"))
    else:
        raise CarbonInputInvalid("a leg needs a distance or an origin and destination UN/LOCODE")
    if leg.factor_g_per_tkm is not None:
        if not math.isfinite(leg.factor_g_per_tkm) or leg.factor_g_per_tkm < 0:
            raise CarbonInputInvalid(
                f"leg emission factor must not be negative, got {leg.factor_g_per_tkm:g}"
            )
        factor = leg.factor_g_per_tkm
        source = leg.factor_source or "carrier-specific factor"
    else:
        factor, source = mode.g_co2e_per_tkm, f"{mode.description}: {mode.source}"
    tkm = tonnes * km
    conversions = [
        *_conversion(leg.mass, leg.mass_unit, tonnes, "t"),
        *(
            _conversion(leg.distance, leg.distance_unit, km, "km")
            if leg.distance is not None
            else ()
        ),
        f"{_num(tonnes)} t {TIMES} {_num(km)} km = {_num(tkm)} tkm",
    ]
    route = f" {leg.origin}→{leg.destination}" if leg.origin and leg.destination else ""
    return CalculationStep(
        stage=stage,
        description=f"{leg.mode} transport{route}",
        inputs=tuple(inputs),
        activity=tkm,
        activity_unit="tkm",
        factor=factor,
        factor_unit="gCO2e/tkm",
        result=tkm * factor,
        result_unit="gCO2e",
        result_g_co2e=tkm * factor,
        source=source,
        conversions=tuple(conversions),
        evidence=leg.source,
    )


def footprint(doc: PassportDocument, legs: Iterable[TransportLeg] = ()) -> Footprint:
    """The document's lines per stage plus ``legs`` in distribution, with totals."""
    leg_steps = tuple(leg_step(leg) for leg in legs)
    stages = []
    for name in LIFECYCLE_STAGES:
        steps = tuple(activity_step(name, line) for line in getattr(doc.carbon, name))
        if name == "distribution":
            steps += leg_steps
        stages.append(
            StageFootprint(
                stage=name,
                steps=steps,
                total_g_co2e=math.fsum(s.result_g_co2e for s in steps),
                water_litres=float(getattr(doc.water, name)),
            )
        )
    return Footprint(
        stages=tuple(stages),
        total_g_co2e=math.fsum(s.total_g_co2e for s in stages),
        total_water_litres=math.fsum(s.water_litres for s in stages),
    )


def to_grams(amount: float, unit: str) -> float:
    """Emissions in ``gCO2e``/``kgCO2e``/``tCO2e`` as grams CO2e."""
    try:
        return amount * EMISSION_UNITS[unit]
    except KeyError:
        raise CarbonInputInvalid(
            f"unknown emissions unit {unit!r}; known: {', '.join(EMISSION_UNITS)}"
        ) from None


def _conversion(amount: float, unit: str, converted: float, to_unit: str) -> tuple[str, ...]:
    if unit == to_unit:
        return ()
    return (f"{_num(amount)} {unit} = {_num(converted)} {to_unit}",)


def _num(x: float) -> str:
    return f"{x:,.6g}" if abs(x) < 1e6 else f"{x:,.0f}"
