"""The red / yellow / green rule, one row per condition and its boundary."""

from __future__ import annotations

import pytest

from backend.chain.typed_data.shipments import ExceptionReason, MilestoneType, Status
from backend.dashboard.rules import (
    Colour,
    ShipmentSnapshot,
    WeightDeviation,
    assess,
    next_deadline,
)

NOW = 1_800_000_000
H = 3600
M = MilestoneType


def snap(status: Status = Status.IN_TRANSIT, **kw: object) -> ShipmentSnapshot:
    return ShipmentSnapshot(shipment_id="0x01", status=status, **kw)  # type: ignore[arg-type]


CASES = [
    ("nothing to report", snap(), Colour.GREEN),
    (
        "delivered is closed even if late",
        snap(Status.DELIVERED, late=(M.DELIVERED,)),
        Colour.CLOSED,
    ),
    ("returned is closed", snap(Status.RETURNED), Colour.CLOSED),
    ("lost", snap(Status.LOST, exceptions=(ExceptionReason.LOST,)), Colour.RED),
    ("damage reported", snap(exceptions=(ExceptionReason.DAMAGED,)), Colour.RED),
    ("delay reported", snap(exceptions=(ExceptionReason.DELAYED,)), Colour.YELLOW),
    ("other exception", snap(exceptions=(ExceptionReason.OTHER,)), Colour.YELLOW),
    ("flagged overdue", snap(overdue_flagged=(M.ARRIVED,)), Colour.RED),
    (
        "weight discrepancy",
        snap(weight_discrepancies=(WeightDeviation(100_000, 112_000),)),
        Colour.RED,
    ),
    ("late milestone", snap(late=(M.DEPARTED,)), Colour.YELLOW),
    (
        "customs hold 47 h",
        snap(Status.CUSTOMS_HOLD, customs_hold_since=NOW - 47 * H),
        Colour.YELLOW,
    ),
    (
        "customs hold exactly 48 h is still yellow",
        snap(Status.CUSTOMS_HOLD, customs_hold_since=NOW - 48 * H),
        Colour.YELLOW,
    ),
    (
        "customs hold 48 h + 1 s",
        snap(Status.CUSTOMS_HOLD, customs_hold_since=NOW - 48 * H - 1),
        Colour.RED,
    ),
    ("deadline in 23 h", snap(deadlines={M.ARRIVED: NOW + 23 * H}), Colour.YELLOW),
    ("deadline in exactly 24 h", snap(deadlines={M.ARRIVED: NOW + 24 * H}), Colour.YELLOW),
    ("deadline in 25 h", snap(deadlines={M.ARRIVED: NOW + 25 * H}), Colour.GREEN),
    ("deadline now is not yet missed", snap(deadlines={M.ARRIVED: NOW}), Colour.YELLOW),
    ("deadline passed unmet", snap(deadlines={M.ARRIVED: NOW - 1}), Colour.RED),
    (
        "deadline passed but milestone reached",
        snap(Status.IMPORT_CLEARED, deadlines={M.ARRIVED: NOW - H}),
        Colour.GREEN,
    ),
    (
        "passed deadline already flagged is reported once",
        snap(deadlines={M.ARRIVED: NOW - H}, overdue_flagged=(M.ARRIVED,)),
        Colour.RED,
    ),
    (
        "customs hold counts as arrived for the arrival deadline",
        snap(Status.CUSTOMS_HOLD, customs_hold_since=NOW - H, deadlines={M.ARRIVED: NOW - H}),
        Colour.YELLOW,
    ),
    (
        "red wins over yellow",
        snap(late=(M.DEPARTED,), weight_discrepancies=(WeightDeviation(10, 20),)),
        Colour.RED,
    ),
]


@pytest.mark.parametrize(("label", "snapshot", "colour"), CASES, ids=[c[0] for c in CASES])
def test_colour_rule(label: str, snapshot: ShipmentSnapshot, colour: Colour) -> None:
    result = assess(snapshot, NOW)
    assert result.colour is colour, (label, result.reasons)
    if colour in (Colour.RED, Colour.YELLOW):
        assert result.reasons


def test_red_lists_yellow_reasons_too() -> None:
    result = assess(snap(late=(M.DEPARTED,), overdue_flagged=(M.ARRIVED,)), NOW)
    assert result.reasons == ("ARRIVED flagged overdue", "DEPARTED recorded late")


def test_passed_flagged_deadline_is_not_reported_twice() -> None:
    result = assess(snap(deadlines={M.ARRIVED: NOW - 2 * H}, overdue_flagged=(M.ARRIVED,)), NOW)
    assert result.reasons == ("ARRIVED flagged overdue",)


def test_weight_reason_shows_both_weights_and_deviation() -> None:
    result = assess(snap(weight_discrepancies=(WeightDeviation(480_000, 540_000),)), NOW)
    assert result.reasons == ("weight 540 kg vs 480 kg (+12.5 %)",)


def test_next_deadline_is_the_earliest_unmet_one() -> None:
    s = snap(
        Status.ARRIVED,
        deadlines={
            M.DEPARTED: NOW - 9 * H,
            M.IMPORT_CLEARED: NOW + 5 * H,
            M.DELIVERED: NOW + 9 * H,
        },
    )
    assert next_deadline(s) == (M.IMPORT_CLEARED, NOW + 5 * H)
    assert next_deadline(snap(Status.DELIVERED, deadlines={M.DELIVERED: NOW})) is None
