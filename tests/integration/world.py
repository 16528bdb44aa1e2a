"""The member-day story seeded once on a fresh chain and database (see conftest ``world``)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from backend.chain import ChainClient, make_chain
from backend.chain.deployments import Deployment, deploy_all
from backend.config import Settings
from backend.db import migrate
from backend.db.engine import make_engine
from backend.demo.scenario import DemoResult, Scenario
from backend.main import create_app

ADMIN = "scenario-operator-token"


@dataclass
class World:
    client: TestClient
    chain: ChainClient
    deployment: Deployment
    result: DemoResult

    def seller(self, slug: str = "hearth-grove") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.result.orgs[slug].api_key}"}

    def board(self, slug: str = "hearth-grove") -> dict[str, Any]:
        headers = {**self.seller(slug), "Accept": "application/json"}
        resp = self.client.get("/dashboard", headers=headers)
        assert resp.status_code == 200, resp.text
        return dict(resp.json())


def wait_for(check: Any, timeout: float = 30.0) -> Any:
    """Poll ``check`` until it returns a truthy value (the indexer runs on its own thread)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def seed_world(directory: Path) -> Iterator[World]:
    """Seed the story and yield it with the app running (worker and indexer threads)."""
    url = f"sqlite:///{directory / 'waymark.sqlite3'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    settings = Settings(
        chain_backend="tester",
        database_url=url,
        admin_token=ADMIN,
        environment="test",
        migrate_on_startup=False,
        anchor_interval_seconds=0.05,
        indexer_interval_seconds=0.1,
        # The keeper settles the story's late purchase agreement within the seeding.
        webhook_watch_interval_seconds=0.5,
        rate_limit_per_second=1000.0,
        rate_limit_burst=1000,
    )
    chain = make_chain(settings)
    deployment = deploy_all(chain)
    app = create_app(settings, chain, deployment=deployment)
    with TestClient(app) as client:
        result = Scenario(http=client, chain=chain, deployment=deployment, admin_token=ADMIN).run()
        world = World(client, chain, deployment, result)
        # The last writes (pool settlement) were sent by members directly: let the
        # indexer catch up with them before anything is asserted.
        assert wait_for(lambda: _settled(world)), "the indexer did not reach the settlement"
        yield world


def _settled(world: World) -> bool:
    alliance = world.board()["alliance"]
    return bool(alliance["settlements"]) and bool(alliance["transfers"])
