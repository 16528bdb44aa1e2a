"""The table registry: imports every domain's tables so ``metadata`` is complete.

Alembic's ``env.py``, the schema check and the tests take ``metadata`` from here;
``backend.db`` itself stays below the domains and never imports them.
"""

from backend.agreements.models import AgreementEvent, AgreementView
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
from backend.anchoring.models import AnchorBatch, ChainAnchor, EventProof
from backend.credentials.models import AccessGrant, CredentialKey, StatusEntry
from backend.dashboard.models import ServiceSecret
from backend.db.base import Base
from backend.events.models import EpcisCapture, EpcisEvent, EpcisEventObject, Outbox, SupplyEvent
from backend.fieldapp.models import SignInNonce
from backend.indexer.models import ChainCursor, IndexedBlock
from backend.orgs.models import (
    ApiKey,
    Delegation,
    Organisation,
    RateBucket,
    RegistryKey,
    RegistryOrganisation,
    RegistryPrefix,
    RegistryRoleGrant,
    SignerKey,
)
from backend.pages.models import PassportPage
from backend.passports.models import (
    Attestation,
    Passport,
    PassportDocumentRecord,
    PassportStatusChange,
    PassportVersion,
)
from backend.relayer.models import RelayRequest, RelayWrite, SentTransaction
from backend.shipments.models import (
    ManifestLine,
    Milestone,
    MilestoneCorrection,
    OverdueFlag,
    Shipment,
    ShipmentEvidence,
    ShipmentManifest,
)
from backend.webhooks.models import (
    ShipmentColour,
    WebhookAttempt,
    WebhookDelivery,
    WebhookMessage,
    WebhookSecret,
    WebhookSubscription,
)

metadata = Base.metadata

__all__ = [
    "AccessGrant",
    "AgreementEvent",
    "AgreementView",
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
    "CredentialKey",
    "Delegation",
    "EpcisCapture",
    "EpcisEvent",
    "EpcisEventObject",
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
    "PassportPage",
    "PassportStatusChange",
    "PassportVersion",
    "PeriodView",
    "PoolMemberView",
    "PoolView",
    "RateBucket",
    "RegistryKey",
    "RegistryOrganisation",
    "RegistryPrefix",
    "RegistryRoleGrant",
    "RelayRequest",
    "RelayWrite",
    "SentTransaction",
    "ServiceSecret",
    "Shipment",
    "ShipmentColour",
    "ShipmentEvidence",
    "ShipmentManifest",
    "SignInNonce",
    "SignerKey",
    "StatusEntry",
    "SupplyEvent",
    "TransferView",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookMessage",
    "WebhookSecret",
    "WebhookSubscription",
    "metadata",
]
