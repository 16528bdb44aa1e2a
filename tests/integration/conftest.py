"""Integration fixtures: the database fixtures shared with the backend tests, the seeded story."""

from collections.abc import Iterator

import pytest

from tests.db_fixtures import db_engine, db_url  # noqa: F401 - fixtures
from tests.integration.world import World, seed_world


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The member-day story, seeded once for every module that reads it."""
    yield from seed_world(tmp_path_factory.mktemp("scenario"))
