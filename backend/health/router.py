"""GET /health."""

from fastapi import APIRouter

from backend.deps import ChainDep, DeploymentDep
from backend.health import service
from backend.health.schemas import HealthPublic

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthPublic)
def get_health(chain: ChainDep, deployment: DeploymentDep) -> HealthPublic:
    """Chain backend, chain id, latest block, deployed contracts and crypto fast paths."""
    return service.health(chain=chain, deployment=deployment)
