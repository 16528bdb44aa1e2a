"""Imports every table so ``Base.metadata`` is complete (Alembic, checks)."""

from backend.anchoring.models import AnchorBatch, EventProof
from backend.db.base import Base
from backend.events.models import Outbox, SupplyEvent
from backend.indexer.models import ChainAnchor, ChainCursor, IndexedBlock
from backend.orgs.models import ApiKey, Organisation, SignerKey
from backend.passports.models import (
    Attestation,
    Passport,
    PassportDocumentRecord,
    PassportStatusChange,
    PassportVersion,
    PassportWrite,
)
from backend.relayer.models import RelayRequest, SentTransaction
from backend.shipments.models import (
    ManifestLine,
    Milestone,
    MilestoneCorrection,
    OverdueFlag,
    Shipment,
    ShipmentManifest,
    ShipmentWrite,
)

__all__ = [
    "AnchorBatch",
    "ApiKey",
    "Attestation",
    "Base",
    "ChainAnchor",
    "ChainCursor",
    "EventProof",
    "IndexedBlock",
    "ManifestLine",
    "Milestone",
    "MilestoneCorrection",
    "Organisation",
    "Outbox",
    "OverdueFlag",
    "Passport",
    "PassportDocumentRecord",
    "PassportStatusChange",
    "PassportVersion",
    "PassportWrite",
    "RelayRequest",
    "SentTransaction",
    "Shipment",
    "ShipmentManifest",
    "ShipmentWrite",
    "SignerKey",
    "SupplyEvent",
]
