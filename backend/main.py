"""FastAPI application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from backend import __version__
from backend.agreements.router import router as agreements_router
from backend.alliance.router import router as alliance_router
from backend.anchoring.proofs import SupplyProofReader
from backend.anchoring.router import PROOF_PREFIX, stored_proof
from backend.anchoring.router import router as proofs_router
from backend.anchoring.worker import AnchorWorker
from backend.apidocs.router import router as apidocs_router
from backend.chain import ChainClient, DeploymentMissing, make_chain
from backend.chain import deployments as deployments_mod
from backend.config import Settings, enforce_service_settings, get_settings
from backend.credentials.router import router as credentials_router
from backend.dashboard.router import router as dashboard_router
from backend.dashboard.sessions import make_signer, signing_keys
from backend.db import migrate
from backend.db.engine import make_engine, make_sessionmaker
from backend.deps import AppContext, Contracts, context_of
from backend.epcis.router import router as epcis_router
from backend.events.router import router as events_router
from backend.fieldapp import service as fieldapp_service
from backend.fieldapp.router import router as fieldapp_router
from backend.handlers import ERROR_RESPONSES
from backend.handlers import install as install_handlers
from backend.health.router import router as health_router
from backend.indexer.service import ContractHandlers, Indexer
from backend.locations import unlocode
from backend.locations.router import router as locations_router
from backend.loop import Loop
from backend.middleware import (
    BodyLimitMiddleware,
    HotReadsMiddleware,
    PublicCorsMiddleware,
    StartupGateMiddleware,
)
from backend.node.router import router as node_router
from backend.orgs.router import router as orgs_router
from backend.orgs.service import ChainRegistrar
from backend.pages.store import PageReader
from backend.passports.router import router as passports_router
from backend.paths import FRONTEND_STATIC
from backend.qr.cache import PageSource
from backend.qr.cache import on_indexed as refresh_pages
from backend.qr.router import SCAN_PREFIX, scan_router, stored_scan
from backend.qr.router import router as qr_router
from backend.qr.tracking_router import router as tracking_router
from backend.relayer.organisations import CONTRACT as ORGANISATION_REGISTRY
from backend.relayer.organisations import RelayedRegistrar
from backend.relayer.router import router as relay_router
from backend.relayer.service import RelayHandler
from backend.relayer.worker import RelayWorker
from backend.runtime import check_fast_paths
from backend.shipments.router import router as shipments_router
from backend.startup import STARTING_PATHS, StartupGate
from backend.webhooks.router import router as webhooks_router
from backend.webhooks.sealing import SecretBox, reseal
from backend.webhooks.sources import notification_handlers
from backend.webhooks.worker import NotificationWorker
from backend.wiring import domain_relay_handlers, register_subject_sources
from backend.wiring import indexer_handlers as wired_indexer_handlers

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Workers:
    """The background workers of a started app (in the context's parts once it is ready)."""

    relay: RelayWorker
    anchor: AnchorWorker
    indexer: Indexer
    notifier: NotificationWorker


def workers_of(app: FastAPI) -> Workers:
    """The app's workers; ``LookupError`` before its contracts are loaded."""
    return context_of(app).part(Workers)


def prepare_deployment(chain: ChainClient, settings: Settings) -> deployments_mod.Deployment:
    """Load this chain's manifest, or deploy the contract set on a dev chain."""
    if settings.chain_backend != "tester":
        try:
            dep = deployments_mod.load(chain.chain_id)
            deployments_mod.verify_code(chain, dep)
            _check_settlement_token(dep, settings)
            deployments_mod.require_anchorer(dep, chain.address)
            return dep
        except DeploymentMissing:
            if settings.chain_backend == "rpc":
                raise
            log.info("no usable deployment on anvil chain %s; deploying", chain.chain_id)
    dep = deployments_mod.deploy_all(chain, settlement_token=settings.settlement_token)
    deployments_mod.save(dep)
    return dep


def _check_settlement_token(dep: deployments_mod.Deployment, settings: Settings) -> None:
    configured = settings.settlement_token
    if configured and (dep.settlement_token or "").lower() != configured.lower():
        raise DeploymentMissing(
            f"the deployment on chain {dep.chain_id} settles in {dep.settlement_token}, "
            f"not the configured WAYMARK_SETTLEMENT_TOKEN {configured}; redeploy"
        )


def create_app(
    settings: Settings | None = None,
    chain: ChainClient | None = None,
    *,
    deployment: deployments_mod.Deployment | None = None,
    indexer_handlers: list[ContractHandlers] | None = None,
    relay_handlers: dict[str, RelayHandler] | None = None,
    prepare: Callable[[ChainClient], deployments_mod.Deployment] | None = None,
) -> FastAPI:
    """Build the app; the lifespan creates the chain adapter, DB engine and workers once.

    Other domains plug in through ``indexer_handlers`` (contract events into the
    read model) and ``relay_handlers`` (durable contract calls by purpose).

    With ``prepare`` (compile and deploy, say) the app answers HTTP at once:
    ``prepare`` runs in a thread, ``/health`` reports ``starting`` and every
    other route answers 503 until it returns (:class:`StartupGate`).
    """
    cfg = settings or get_settings()
    enforce_service_settings(cfg)
    register_subject_sources()
    gate = StartupGate(open_paths=STARTING_PATHS)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        check_fast_paths()
        # Location search's index (seconds of CPU) is built behind the start, not on the
        # first search; a search during the build waits for it.
        unlocode.warm_up()
        client = chain or make_chain(cfg)
        engine = make_engine(cfg.database_url)
        if cfg.migrate_on_startup:
            migrate.upgrade(engine)
        sessions = make_sessionmaker(engine)
        with sessions() as session:  # webhook secrets in clear or under a retired key
            resealed = reseal(session, SecretBox.from_settings(cfg))
        if resealed:
            log.info("sealed %d webhook signing secrets under the current key", resealed)
        shared_keys = signing_keys(cfg, engine)
        # the hottest read after a scan's stored page: an event's proof
        proof_reader = SupplyProofReader(engine)
        app.state.context = ctx = AppContext(
            settings=cfg,
            chain=client,
            engine=engine,
            sessions=sessions,
            startup=gate,
            page_reader=PageReader(engine),
            session_signer=make_signer(shared_keys),
            app_session_signer=make_signer(shared_keys, salt=fieldapp_service.SALT),
            parts={SupplyProofReader: proof_reader},
        )
        workers: list[Loop] = []

        def start(dep: deployments_mod.Deployment) -> None:
            registry = dep.address("AnchorRegistry")
            org_registrar = RelayedRegistrar.for_deployment(
                client, dep.address(ORGANISATION_REGISTRY)
            )
            relay_worker = RelayWorker(
                sessions=sessions,
                chain=client,
                settings=cfg,
                handlers={**domain_relay_handlers(client), **(relay_handlers or {})},
            )
            anchor_worker = AnchorWorker(
                sessions=sessions, chain=client, registry=registry, settings=cfg, relay=relay_worker
            )
            indexer = Indexer(
                sessions=sessions,
                chain=client,
                deployment=dep,
                handlers=[
                    *wired_indexer_handlers(client, dep),
                    *(indexer_handlers or []),
                    # webhooks: after the read models they read from
                    *notification_handlers(),
                ],
                settings=cfg,
            )
            notifier = NotificationWorker(
                sessions=sessions,
                chain=client,
                shipment_registry=dep.address("ShipmentRegistry"),
                settings=cfg,
                deployment=dep,
            )
            # consumer: stored pages the round changed are recomputed right after it
            page_source = PageSource(client.chain_id, dep, cfg.public_base_url)
            indexer.subscribe(refresh_pages(sessions, page_source))
            if cfg.anchor_worker_enabled:
                relay_worker.start()
                workers.append(relay_worker)
            if cfg.indexer_enabled:
                indexer.start()
                workers.append(indexer)
            if cfg.webhook_worker_enabled:
                notifier.start()
                workers.append(notifier)
            running = Workers(
                relay=relay_worker, anchor=anchor_worker, indexer=indexer, notifier=notifier
            )
            # one assignment: a request sees the context before or after, never half of it
            app.state.context = replace(
                ctx,
                contracts=Contracts.load(client, dep),
                parts={**ctx.parts, Workers: running, ChainRegistrar: org_registrar},
            )

        if prepare is None:
            start(deployment or prepare_deployment(client, cfg))
        else:
            gate.run(lambda: start(prepare(client)))
        try:
            yield
        finally:
            gate.wait()
            for running in workers:
                running.stop()
            ctx.page_reader.close()
            proof_reader.close()
            engine.dispose()

    app = FastAPI(
        title="Waymark",
        version=__version__,
        description=(
            "Traceability and settlement for cross-border sellers: signed supply "
            "events anchored on chain in Merkle batches, with public proofs."
        ),
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
        # Served offline by backend/apidocs from the npm packages (no CDN).
        docs_url=None,
        redoc_url=None,
    )
    # Innermost (added first): the gate, body limits and CORS wrap these reads as well.
    app.add_middleware(
        HotReadsMiddleware, routes=[(SCAN_PREFIX, stored_scan), (PROOF_PREFIX, stored_proof)]
    )
    if prepare is not None:
        app.add_middleware(StartupGateMiddleware, gate=gate)
    app.add_middleware(
        BodyLimitMiddleware, max_bytes=cfg.max_body_bytes, max_depth=cfg.max_json_depth
    )
    app.add_middleware(PublicCorsMiddleware)
    install_handlers(app)
    # The two hottest reads first (a scan's page, an event's proof): a request is
    # matched against the routers in this order, at tens of microseconds per router.
    app.include_router(scan_router)
    app.include_router(proofs_router)
    app.include_router(apidocs_router)
    app.include_router(health_router)
    # what outside verifiers need: the deployment manifest, a node on the demo chain
    app.include_router(node_router)
    app.include_router(orgs_router)
    app.include_router(events_router)
    app.include_router(epcis_router)
    # shipments + passports
    app.include_router(shipments_router)
    app.include_router(passports_router)
    app.include_router(credentials_router)
    app.include_router(relay_router)
    # alliance settlement
    app.include_router(alliance_router)
    app.include_router(agreements_router)
    # workflows: seller war-room dashboard
    app.include_router(dashboard_router)
    app.include_router(fieldapp_router)
    app.include_router(locations_router)
    # signed webhooks
    app.include_router(webhooks_router)
    # consumer: GS1 Digital Link resolver, QR symbols, proof bundles, EPCIS export
    app.include_router(qr_router)
    # SSCC Digital Links: public shipment tracking and logistic labels
    app.include_router(tracking_router)
    app.mount("/static", StaticFiles(directory=FRONTEND_STATIC), name="static")
    return app
