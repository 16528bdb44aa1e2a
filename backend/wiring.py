"""Which domains plug into the relayer, the indexer and the subject rule.

One list, imported by the app (:mod:`backend.main`) and by the standalone
worker (``scripts/anchor_worker.py``), so both run the same handlers without
the worker importing the web app.
"""

from __future__ import annotations

from backend.agreements.indexer import agreement_handlers
from backend.alliance.indexer import alliance_handlers
from backend.alliance.relay import relay_handlers as alliance_relay_handlers
from backend.anchoring.indexer import anchor_handlers
from backend.chain import ChainClient
from backend.chain.deployments import Deployment
from backend.indexer.service import ContractHandlers
from backend.orgs import authority, subjects
from backend.orgs import registry as org_registry
from backend.pages import store as pages
from backend.passports.indexer import passport_handlers
from backend.passports.relay import passport_relay_handlers
from backend.passports.subjects import passport_subjects
from backend.qr.cache import page_handlers, spoken_by
from backend.relayer.organisations import org_relay_handlers, pending_key_ids
from backend.relayer.service import RelayHandler
from backend.shipments.indexer import shipment_handlers
from backend.shipments.relay import shipment_relay_handlers
from backend.shipments.subjects import shipment_subjects


def domain_relay_handlers(chain: ChainClient) -> dict[str, RelayHandler]:
    """Relay purposes of the domain services (anchoring registers its own)."""
    return {
        # organisations and signer keys on chain
        **org_relay_handlers(chain),
        # shipments + passports
        **shipment_relay_handlers(chain),
        **passport_relay_handlers(chain),
        # alliance settlement
        **alliance_relay_handlers(),
    }


def indexer_handlers(chain: ChainClient, deployment: Deployment) -> list[ContractHandlers]:
    """Read-model handlers of every contract: anchors, the domain services, then pages."""
    return [
        anchor_handlers(chain, deployment),
        # organisations, names and signer keys on chain
        ContractHandlers(
            org_registry.CONTRACT,
            {name: org_registry.on_event for name in org_registry.EVENTS},
            org_registry.rollback,
        ),
        # shipments + passports
        shipment_handlers(),
        passport_handlers(),
        # alliance settlement
        *alliance_handlers(chain, deployment),
        # purchase agreements
        *agreement_handlers(chain, deployment),
        # consumer pages: marked after the read models they are computed from
        *page_handlers(),
    ]


def register_subject_sources() -> None:
    """The domains that tell the subject rule (``orgs.subjects``) who speaks for a subject,
    and the relayer, which tells ``orgs.authority`` which keys are on their way on chain."""
    authority.register_pending_source("relayer", pending_key_ids)
    subjects.register_source("passports", passport_subjects)
    subjects.register_source("shipments", shipment_subjects)
    # consumer pages: whose pages a delegation to every passport changes
    pages.register_org_source(spoken_by)
