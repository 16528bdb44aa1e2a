"""Imports every table so ``Base.metadata`` is complete (Alembic, checks)."""

from backend.anchoring.models import AnchorBatch, EventProof
from backend.db.base import Base
from backend.events.models import Outbox, SupplyEvent
from backend.indexer.models import (
    ChainAnchor,
    ChainCursor,
    IndexedBlock,
    MilestoneView,
    PassportView,
    ShipmentView,
)
from backend.orgs.models import ApiKey, Organisation, SignerKey
from backend.relayer.models import RelayRequest, SentTransaction

__all__ = [
    "AnchorBatch",
    "ApiKey",
    "Base",
    "ChainAnchor",
    "ChainCursor",
    "EventProof",
    "IndexedBlock",
    "MilestoneView",
    "Organisation",
    "Outbox",
    "PassportView",
    "RelayRequest",
    "SentTransaction",
    "ShipmentView",
    "SignerKey",
    "SupplyEvent",
]
