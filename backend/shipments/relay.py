"""Relay handlers for shipment writes: the effect is looked up in the indexed read model."""

from __future__ import annotations

from sqlalchemy.orm import Session

from backend.chain import ChainClient
from backend.relayer.models import RelayRequest
from backend.relayer.service import RelayHandler
from backend.relayer.signed import EffectHandler
from backend.shipments import service


def _find(session: Session, request: RelayRequest) -> tuple[str, int] | None:
    return service.write_effect(session, request.id)


def shipment_relay_handlers(chain: ChainClient) -> dict[str, RelayHandler]:
    """One handler per shipment purpose; "already exists" reverts mean done."""
    return {
        service.PURPOSE_CREATE: EffectHandler(chain, _find, frozenset({"ShipmentAlreadyExists"})),
        service.PURPOSE_MILESTONES: EffectHandler(chain, _find),
        service.PURPOSE_CORRECTION: EffectHandler(chain, _find),
        service.PURPOSE_OVERDUE: EffectHandler(
            chain, _find, frozenset({"ShipmentOverdueAlreadyFlagged"})
        ),
    }
