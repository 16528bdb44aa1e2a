"""FastAPI application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from backend import __version__
from backend.chain import ChainClient, DeploymentMissing, make_chain
from backend.chain import deployments as deployments_mod
from backend.config import Settings, get_settings
from backend.health.router import router as health_router
from backend.runtime import check_fast_paths

log = logging.getLogger(__name__)


def prepare_deployment(chain: ChainClient, settings: Settings) -> deployments_mod.Deployment:
    """Load this chain's manifest, or deploy the contract set on a dev chain."""
    if settings.chain_backend != "tester":
        try:
            dep = deployments_mod.load(chain.chain_id)
            deployments_mod.verify_code(chain, dep)
            return dep
        except DeploymentMissing:
            if settings.chain_backend == "rpc":
                raise
            log.info("no usable deployment on anvil chain %s; deploying", chain.chain_id)
    dep = deployments_mod.deploy_all(chain)
    deployments_mod.save(dep)
    return dep


def create_app(settings: Settings | None = None, chain: ChainClient | None = None) -> FastAPI:
    """Build the app; the lifespan creates the chain adapter once."""
    cfg = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        check_fast_paths()
        client = chain or make_chain(cfg)
        app.state.settings = cfg
        app.state.chain = client
        app.state.deployment = prepare_deployment(client, cfg)
        yield

    app = FastAPI(
        title="Waymark",
        version=__version__,
        description="Traceability and settlement for cross-border sellers.",
        lifespan=lifespan,
    )
    app.include_router(health_router)
    return app
