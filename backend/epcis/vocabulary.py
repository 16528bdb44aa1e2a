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
    PICKED_UP = "PICKED_UP"
    EXPORT_CLEARED = "EXPORT_CLEARED"
    DEPARTED = "DEPARTED"
    ARRIVED = "ARRIVED"
    CUSTOMS_HOLD = "CUSTOMS_HOLD"
    CUSTOMS_RELEASED = "CUSTOMS_RELEASED"
    DELIVERED = "DELIVERED"


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
    # The consignee receives the goods into its inventory.
    MilestoneCode.DELIVERED: CbvMapping("receiving", "in_progress"),
}

# Aggregation (packing items into a logistic unit and taking them out again).
PACKING = CbvMapping("packing", "container_closed")
UNPACKING = CbvMapping("unpacking", "in_progress")

BIZ_STEP_PREFIX = CBV_BASE + "BizStep-"
DISPOSITION_PREFIX = CBV_BASE + "Disp-"
BTT_PREFIX = CBV_BASE + "BTT-"
SDT_PREFIX = CBV_BASE + "SDT-"
