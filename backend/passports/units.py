"""Units the passport schema and the carbon calculator accept, with SI conversions.

Activity units belong to one dimension each; an emission factor's unit is
``{emissions}/{activity unit}`` (``kgCO2e/kg``, ``gCO2e/tkm``). An activity may use
another unit of the factor's dimension (``g`` against ``kgCO2e/t``); the calculator
converts it and shows the conversion as a step.
"""

from __future__ import annotations

from enum import StrEnum

from backend.passports.errors import CarbonInputInvalid


class Dimension(StrEnum):
    MASS = "mass"
    DISTANCE = "distance"
    ENERGY = "energy"
    VOLUME = "volume"
    TRANSPORT_WORK = "transport work"
    COUNT = "count"


# unit -> (dimension, size in the dimension's base unit: kg, km, kWh, L, t·km, item)
ACTIVITY_UNITS: dict[str, tuple[Dimension, float]] = {
    "g": (Dimension.MASS, 0.001),
    "kg": (Dimension.MASS, 1.0),
    "t": (Dimension.MASS, 1000.0),
    "km": (Dimension.DISTANCE, 1.0),
    # International mile, exactly 1.609344 km.
    "mi": (Dimension.DISTANCE, 1.609344),
    "kWh": (Dimension.ENERGY, 1.0),
    "MWh": (Dimension.ENERGY, 1000.0),
    "MJ": (Dimension.ENERGY, 1 / 3.6),
    "L": (Dimension.VOLUME, 1.0),
    "m3": (Dimension.VOLUME, 1000.0),
    "tkm": (Dimension.TRANSPORT_WORK, 1.0),
    "item": (Dimension.COUNT, 1.0),
}

# emissions unit -> grams CO2e
EMISSION_UNITS: dict[str, float] = {"gCO2e": 1.0, "kgCO2e": 1000.0, "tCO2e": 1_000_000.0}


def activity_unit(unit: str) -> tuple[Dimension, float]:
    try:
        return ACTIVITY_UNITS[unit]
    except KeyError:
        known = ", ".join(ACTIVITY_UNITS)
        raise CarbonInputInvalid(f"unknown activity unit {unit!r}; known: {known}") from None


def factor_unit(unit: str) -> tuple[float, str]:
    """``(grams CO2e per emissions unit, activity unit)`` of ``kgCO2e/kg``-style units."""
    emissions, sep, per = unit.partition("/")
    if not sep or emissions not in EMISSION_UNITS:
        known = ", ".join(f"{e}/<activity unit>" for e in EMISSION_UNITS)
        raise CarbonInputInvalid(f"unknown emission factor unit {unit!r}; expected {known}")
    activity_unit(per)
    return EMISSION_UNITS[emissions], per


def convert(amount: float, from_unit: str, to_unit: str) -> float:
    """``amount`` in ``from_unit`` expressed in ``to_unit`` (same dimension)."""
    dim_from, size_from = activity_unit(from_unit)
    dim_to, size_to = activity_unit(to_unit)
    if dim_from != dim_to:
        raise CarbonInputInvalid(f"cannot convert {from_unit} ({dim_from}) to {to_unit} ({dim_to})")
    if from_unit == to_unit:
        return amount
    return amount * size_from / size_to
