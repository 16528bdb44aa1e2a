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
from backend.webhooks.models import (
    ShipmentColour,
    WebhookAttempt,
    WebhookDelivery,
    WebhookMessage,
    WebhookSecret,
    WebhookSubscription,
)

__all__ = [
    "AllianceAction",
    "AllianceEvent",
    "AllianceMember",
    "AnchorBatch",
    "ApiKey",
    "Attestation",
    "Base",
    "BookingView",
    "ChainAnchor",
    "ChainCursor",
    "EventProof",
    "IndexedBlock",
    "ManifestLine",
    "Milestone",
    "MilestoneCorrection",
    "OfferView",
    "Organisation",
    "Outbox",
    "OverdueFlag",
    "Passport",
    "PassportDocumentRecord",
    "PassportStatusChange",
    "PassportVersion",
    "PassportWrite",
    "PeriodView",
    "PoolMemberView",
    "PoolView",
    "RelayRequest",
    "SentTransaction",
    "Shipment",
    "ShipmentColour",
    "ShipmentManifest",
    "ShipmentWrite",
    "SignerKey",
    "SupplyEvent",
    "TransferView",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookMessage",
    "WebhookSecret",
    "WebhookSubscription",
]
