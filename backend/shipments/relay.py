"""Relay handlers for shipment writes: the effect is looked up in the indexed read model."""

from __future__ import annotations

from backend.chain import ChainClient
from backend.relayer.service import RelayHandler
from backend.relayer.signed import EffectHandler
from backend.shipments import writes


def shipment_relay_handlers(chain: ChainClient) -> dict[str, RelayHandler]:
    """One handler per shipment purpose; "already exists" reverts mean done."""
    return {
        writes.PURPOSE_CREATE: EffectHandler(
            chain, done_errors=frozenset({"ShipmentAlreadyExists"})
        ),
        writes.PURPOSE_MILESTONES: EffectHandler(chain),
        writes.PURPOSE_CORRECTION: EffectHandler(chain),
        writes.PURPOSE_OVERDUE: EffectHandler(
            chain, done_errors=frozenset({"ShipmentOverdueAlreadyFlagged"})
        ),
    }
