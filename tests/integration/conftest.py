"""Integration fixtures: the database fixtures shared with the backend tests."""

from tests.db_fixtures import db_engine, db_url  # noqa: F401 - fixtures
