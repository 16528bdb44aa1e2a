"""Waymark milestones mapped onto CBV 2.0 business steps and dispositions.

Values are the bare CBV 2.0 terms used in EPCIS 2.0 JSON-LD; the EPCIS context
expands them to ``https://ref.gs1.org/cbv/BizStep-<term>`` and
``https://ref.gs1.org/cbv/Disp-<term>``. The table (and why each term) is in
docs/epcis.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

CBV_BASE = "https://ref.gs1.org/cbv/"


class MilestoneCode(StrEnum):
    """The milestones of ``ShipmentRegistry`` by their contract names.

    Members carry the names of ``backend.chain.typed_data.shipments.MilestoneType``
    (a test holds the two sets equal), so ``MilestoneCode[MilestoneType(n).name]``
    maps a recorded milestone onto this vocabulary.
    """

    PICKED_UP = "PICKED_UP"
    EXPORT_CLEARED = "EXPORT_CLEARED"
    DEPARTED = "DEPARTED"
    ARRIVED = "ARRIVED"
    CUSTOMS_HOLD = "CUSTOMS_HOLD"
    CUSTOMS_RELEASED = "CUSTOMS_RELEASED"
    IMPORT_CLEARED = "IMPORT_CLEARED"
    WAREHOUSE_INBOUND = "WAREHOUSE_INBOUND"
    HANDOVER = "HANDOVER"
    OUT_FOR_DELIVERY = "OUT_FOR_DELIVERY"
    DELIVERED = "DELIVERED"
    RETURNED = "RETURNED"
    EXCEPTION = "EXCEPTION"


@dataclass(frozen=True, slots=True)
class CbvMapping:
    biz_step: str
    disposition: str


MILESTONE_CBV: dict[MilestoneCode, CbvMapping] = {
    # Carrier takes the goods at the seller's dock: the outbound shipping step.
    MilestoneCode.PICKED_UP: CbvMapping("shipping", "in_transit"),
    # Export customs reviewed the consignment's documents and let it go.
    MilestoneCode.EXPORT_CLEARED: CbvMapping("inspecting", "in_transit"),
    # The vessel / aircraft / truck leaves a location.
    MilestoneCode.DEPARTED: CbvMapping("departing", "in_transit"),
    # It reaches the next location (port of discharge, hub).
    MilestoneCode.ARRIVED: CbvMapping("arriving", "in_transit"),
    # Segregated for review: intact, but nobody may take it until released.
    MilestoneCode.CUSTOMS_HOLD: CbvMapping("holding", "sellable_not_accessible"),
    # Import customs finished its review; the goods move on.
    MilestoneCode.CUSTOMS_RELEASED: CbvMapping("inspecting", "in_transit"),
    # Import customs cleared the goods without a hold.
    MilestoneCode.IMPORT_CLEARED: CbvMapping("inspecting", "in_transit"),
    # A warehouse takes the goods into storage (it becomes the custodian).
    MilestoneCode.WAREHOUSE_INBOUND: CbvMapping("receiving", "sellable_not_accessible"),
    # Custody passes from one party to another (transshipment, cross-dock).
    MilestoneCode.HANDOVER: CbvMapping("accepting", "in_transit"),
    # The last-mile vehicle leaves the depot.
    MilestoneCode.OUT_FOR_DELIVERY: CbvMapping("departing", "in_transit"),
    # The consignee receives the goods into its inventory.
    MilestoneCode.DELIVERED: CbvMapping("receiving", "in_progress"),
    # The seller takes the goods back.
    MilestoneCode.RETURNED: CbvMapping("receiving", "returned"),
    # Something went wrong (delay, damage, loss); ``exception_cbv`` refines the disposition.
    MilestoneCode.EXCEPTION: CbvMapping("inspecting", "unknown"),
}

# EXCEPTION reason codes (ShipmentRegistry ``ExceptionReason``) to dispositions.
_EXCEPTION_DISPOSITIONS = {1: "in_transit", 2: "damaged", 3: "unknown", 4: "non_conformant"}


def exception_cbv(reason_code: int) -> CbvMapping:
    """The CBV pair of an EXCEPTION milestone: delayed goods still move, damaged are damaged."""
    return CbvMapping("inspecting", _EXCEPTION_DISPOSITIONS.get(reason_code, "unknown"))


# Aggregation (packing items into a logistic unit and taking them out again).
PACKING = CbvMapping("packing", "container_closed")
UNPACKING = CbvMapping("unpacking", "in_progress")

BIZ_STEP_PREFIX = CBV_BASE + "BizStep-"
DISPOSITION_PREFIX = CBV_BASE + "Disp-"
BTT_PREFIX = CBV_BASE + "BTT-"
SDT_PREFIX = CBV_BASE + "SDT-"
