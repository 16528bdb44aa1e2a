"""Red / yellow / green for a shipment: one pure function over a snapshot.

The rule, first match wins (every matching reason is listed):

* **red**: the shipment is lost; an exception reported damage or loss; a milestone
  was flagged overdue on chain; a weight discrepancy beyond the shipment's tolerance
  was recorded; a customs hold has lasted more than 48 hours; an SLA deadline has
  passed without the milestone being reached (overdue even if nobody flagged it).
* **yellow**: a milestone was recorded late; the shipment is on customs hold (48 h
  or less); an exception reported a delay (or "other"); the next SLA deadline is
  within 24 hours.
* **green**: none of the above.

Delivered and returned shipments are closed: they keep their history but are not
coloured (``Colour.CLOSED``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from backend.chain.typed_data.shipments import ExceptionReason, MilestoneType, Status

HOUR = 3600
CUSTOMS_HOLD_RED_AFTER = 48 * HOUR
DEADLINE_WARNING = 24 * HOUR

CLOSED_STATUSES = frozenset({Status.DELIVERED, Status.RETURNED})

# The status a milestone's SLA deadline is met by (ServiceLevel field order).
SLA_TARGETS: tuple[tuple[str, MilestoneType, Status], ...] = (
    ("picked_up_by", MilestoneType.PICKED_UP, Status.PICKED_UP),
    ("export_cleared_by", MilestoneType.EXPORT_CLEARED, Status.EXPORT_CLEARED),
    ("departed_by", MilestoneType.DEPARTED, Status.IN_TRANSIT),
    ("arrived_by", MilestoneType.ARRIVED, Status.ARRIVED),
    ("import_cleared_by", MilestoneType.IMPORT_CLEARED, Status.IMPORT_CLEARED),
    ("delivered_by", MilestoneType.DELIVERED, Status.DELIVERED),
)


class Colour(StrEnum):
    RED = "red"
    YELLOW = "yellow"
    GREEN = "green"
    CLOSED = "closed"


@dataclass(frozen=True)
class WeightDeviation:
    reference_grams: int
    measured_grams: int

    @property
    def deviation_pct(self) -> float:
        if self.reference_grams == 0:
            return 0.0
        return 100.0 * (self.measured_grams - self.reference_grams) / self.reference_grams


@dataclass(frozen=True)
class ShipmentSnapshot:
    """What the colour rule needs to know about one shipment (times in Unix seconds)."""

    shipment_id: str
    status: Status
    origin: str = ""
    destination: str = ""
    # Planned deadline per milestone reached through SLA_TARGETS; 0 = none.
    deadlines: dict[MilestoneType, int] = field(default_factory=dict)
    # Highest status reached so far (a shipment on customs hold has reached ARRIVED).
    reached: Status | None = None
    late: tuple[MilestoneType, ...] = ()
    overdue_flagged: tuple[MilestoneType, ...] = ()
    weight_discrepancies: tuple[WeightDeviation, ...] = ()
    customs_hold_since: int | None = None
    exceptions: tuple[ExceptionReason, ...] = ()
    last_location: str = ""
    last_event_at: int | None = None


@dataclass(frozen=True)
class Assessment:
    colour: Colour
    reasons: tuple[str, ...]
    next_deadline: tuple[MilestoneType, int] | None = None


def _progress(status: Status) -> int:
    # CUSTOMS_HOLD sits between ARRIVED and IMPORT_CLEARED; LOST/RETURNED end progress.
    return int(status)


def next_deadline(snapshot: ShipmentSnapshot) -> tuple[MilestoneType, int] | None:
    """The earliest planned deadline whose milestone status is not reached yet."""
    reached = snapshot.reached or snapshot.status
    pending = [
        (planned, kind)
        for _, kind, target in SLA_TARGETS
        if (planned := snapshot.deadlines.get(kind, 0)) and _progress(reached) < _progress(target)
    ]
    if not pending:
        return None
    planned, kind = min(pending)
    return kind, planned


def assess(snapshot: ShipmentSnapshot, now: int) -> Assessment:
    """Colour and reasons for ``snapshot`` at time ``now`` (see the module docstring)."""
    if snapshot.status in CLOSED_STATUSES:
        return Assessment(Colour.CLOSED, (f"{snapshot.status.name.lower()}",))
    red: list[str] = []
    yellow: list[str] = []
    upcoming = next_deadline(snapshot)

    if snapshot.status is Status.LOST:
        red.append("lost")
    for reason in snapshot.exceptions:
        if reason in (ExceptionReason.DAMAGED, ExceptionReason.LOST):
            red.append(f"exception: {reason.name.lower()}")
        else:
            yellow.append(f"exception: {reason.name.lower()}")
    for kind in snapshot.overdue_flagged:
        red.append(f"{kind.name} flagged overdue")
    for dev in snapshot.weight_discrepancies:
        red.append(
            f"weight {dev.measured_grams / 1000:g} kg vs {dev.reference_grams / 1000:g} kg "
            f"({dev.deviation_pct:+.1f} %)"
        )
    if snapshot.status is Status.CUSTOMS_HOLD and snapshot.customs_hold_since is not None:
        held = now - snapshot.customs_hold_since
        text = f"customs hold for {held // HOUR} h"
        (red if held > CUSTOMS_HOLD_RED_AFTER else yellow).append(text)
    if snapshot.status is not Status.LOST:
        reached = snapshot.reached or snapshot.status
        for _, kind, target in SLA_TARGETS:
            planned = snapshot.deadlines.get(kind, 0)
            missed = planned and now > planned and _progress(reached) < _progress(target)
            if missed and kind not in snapshot.overdue_flagged:
                red.append(f"{kind.name} deadline passed {(now - planned) // HOUR} h ago")
    for kind in snapshot.late:
        yellow.append(f"{kind.name} recorded late")
    if upcoming is not None and 0 <= upcoming[1] - now <= DEADLINE_WARNING:
        yellow.append(f"{upcoming[0].name} due in {(upcoming[1] - now) // HOUR} h")

    if red:
        return Assessment(Colour.RED, tuple(red + yellow), upcoming)
    if yellow:
        return Assessment(Colour.YELLOW, tuple(yellow), upcoming)
    return Assessment(Colour.GREEN, (), upcoming)
