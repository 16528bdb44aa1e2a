"""Typed access to a started test app's context and workers."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from backend.deps import AppContext, context_of
from backend.main import Workers, workers_of


def _app(client: TestClient | FastAPI) -> FastAPI:
    app = client if isinstance(client, FastAPI) else client.app
    assert isinstance(app, FastAPI)
    return app


def context(client: TestClient | FastAPI) -> AppContext:
    """The app's context (its lifespan has run: inside ``with TestClient(app)``)."""
    return context_of(_app(client))


def workers(client: TestClient | FastAPI) -> Workers:
    """The app's background workers (its contracts are loaded)."""
    return workers_of(_app(client))
