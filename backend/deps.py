"""FastAPI dependencies as ``Annotated`` aliases."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session

from backend.chain import ChainClient
from backend.chain.deployments import Deployment
from backend.config import Settings


def get_chain(request: Request) -> ChainClient:
    return request.app.state.chain


def get_deployment(request: Request) -> Deployment | None:
    return request.app.state.deployment


def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_session(request: Request) -> Iterator[Session]:
    """One session per request; services commit, anything left open is rolled back."""
    with request.app.state.sessionmaker() as session:
        yield session


class Page:
    """Keyset pagination: ``after`` (exclusive id) and ``limit`` capped by settings."""

    def __init__(
        self,
        request: Request,
        after: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,  # row ids are 32-bit
        limit: Annotated[int, Query(ge=1, le=10_000)] = 50,
    ) -> None:
        self.after = after
        self.limit = min(limit, request.app.state.settings.page_size_max)


ChainDep = Annotated[ChainClient, Depends(get_chain)]
DeploymentDep = Annotated[Deployment | None, Depends(get_deployment)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
PageDep = Annotated[Page, Depends(Page)]
