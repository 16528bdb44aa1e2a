"""FastAPI dependencies as ``Annotated`` aliases."""

from typing import Annotated

from fastapi import Depends, Request

from backend.chain import ChainClient
from backend.chain.deployments import Deployment
from backend.config import Settings


def get_chain(request: Request) -> ChainClient:
    return request.app.state.chain


def get_deployment(request: Request) -> Deployment | None:
    return request.app.state.deployment


def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


ChainDep = Annotated[ChainClient, Depends(get_chain)]
DeploymentDep = Annotated[Deployment | None, Depends(get_deployment)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
