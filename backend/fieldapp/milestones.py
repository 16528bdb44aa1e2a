"""What a party may record next on a shipment: the contract's state machine, in words.

``ShipmentRegistry`` decides (a simulation answers 409 with its custom error
before anything is queued); this table only lets the app offer the milestones
that can succeed and say what is expected of whom.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from backend.chain.typed_data.shipments import (
    ALLOWED_FROM,
    CUSTODY_TRANSFERS,
    ExceptionReason,
    MilestoneType,
    Status,
)
from backend.chain.typed_data.shipments import Role as PartyRole

M, S = MilestoneType, Status


# Reported by the carrier holding the goods; no role lookup on chain.
CUSTODIAN_MOVES = frozenset({M.DEPARTED, M.ARRIVED, M.OUT_FOR_DELIVERY, M.DELIVERED})
REQUIRED_ROLE: dict[MilestoneType, PartyRole] = {
    M.EXPORT_CLEARED: PartyRole.CUSTOMS_BROKER,
    M.CUSTOMS_HOLD: PartyRole.CUSTOMS_BROKER,
    M.CUSTOMS_RELEASED: PartyRole.CUSTOMS_BROKER,
    M.IMPORT_CLEARED: PartyRole.CUSTOMS_BROKER,
    M.WAREHOUSE_INBOUND: PartyRole.WAREHOUSE,
    M.RETURNED: PartyRole.SELLER,
    M.EXCEPTION: PartyRole.SELLER
    | PartyRole.CARRIER
    | PartyRole.WAREHOUSE
    | PartyRole.CUSTOMS_BROKER,
}

LABELS: dict[MilestoneType, str] = {
    M.PICKED_UP: "picked up",
    M.EXPORT_CLEARED: "cleared for export",
    M.DEPARTED: "departed",
    M.ARRIVED: "arrived",
    M.CUSTOMS_HOLD: "held by customs",
    M.CUSTOMS_RELEASED: "released by customs",
    M.IMPORT_CLEARED: "cleared for import",
    M.WAREHOUSE_INBOUND: "received into the warehouse",
    M.HANDOVER: "handed over",
    M.OUT_FOR_DELIVERY: "out for delivery",
    M.DELIVERED: "delivered",
    M.RETURNED: "returned",
    M.EXCEPTION: "reported as an exception",
}
REASONS = {r.value: r.name.lower() for r in ExceptionReason}


@dataclass(frozen=True, slots=True)
class Offer:
    """A milestone this party may sign now; ``cosigned``: the receiver must co-sign."""

    milestone: MilestoneType
    label: str
    cosigned: bool


def offers(
    *, status: Status, roles: PartyRole, custodian: str | None, mine: Iterable[str]
) -> list[Offer]:
    """The milestones a party with ``roles`` on the shipment (its addresses ``mine``) may sign."""
    own = {a.lower() for a in mine}
    holds = custodian is not None and custodian.lower() in own
    out: list[Offer] = []
    for kind, statuses in ALLOWED_FROM.items():
        if status not in statuses:
            continue
        if kind in CUSTODIAN_MOVES or kind == M.HANDOVER:
            allowed = holds
        elif kind == M.PICKED_UP:
            allowed = bool(roles & PartyRole.SELLER)
        else:
            allowed = bool(roles & REQUIRED_ROLE[kind])
        if allowed:
            out.append(Offer(kind, LABELS[kind], kind in CUSTODY_TRANSFERS))
    return out


def expected_next(status: Status) -> str:
    """What the shipment waits for next, in plain words."""
    waits = [LABELS[k] for k, s in ALLOWED_FROM.items() if status in s and k != M.EXCEPTION]
    if not waits:
        return "nothing more: the shipment is closed"
    return "next: " + " or ".join(waits)
