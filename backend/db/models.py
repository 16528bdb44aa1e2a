"""Imports every table so ``Base.metadata`` is complete (Alembic, checks)."""

from backend.alliance.models import (
    AllianceAction,
    AllianceEvent,
    AllianceMember,
    BookingView,
    OfferView,
    PeriodView,
    PoolMemberView,
    PoolView,
    TransferView,
)
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
    "AllianceAction",
    "AllianceEvent",
    "AllianceMember",
    "AnchorBatch",
    "ApiKey",
    "Base",
    "BookingView",
    "ChainAnchor",
    "ChainCursor",
    "EventProof",
    "IndexedBlock",
    "MilestoneView",
    "OfferView",
    "Organisation",
    "Outbox",
    "PassportView",
    "PeriodView",
    "PoolMemberView",
    "PoolView",
    "RelayRequest",
    "SentTransaction",
    "ShipmentView",
    "SignerKey",
    "SupplyEvent",
    "TransferView",
]
