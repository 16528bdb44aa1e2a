"""GET /health."""

from fastapi import APIRouter

from backend.deps import ChainDep, DeploymentDep, SessionDep
from backend.health import service
from backend.health.schemas import HealthPublic

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthPublic)
def get_health(chain: ChainDep, deployment: DeploymentDep, session: SessionDep) -> HealthPublic:
    """Chain, deployed contracts, crypto fast paths, database and anchoring backlog."""
    return service.health(chain=chain, deployment=deployment, session=session)


@router.get("/livez", response_model=dict[str, str])
def get_livez() -> dict[str, str]:
    """Liveness: the process serves requests; no chain, database or worker is consulted."""
    return {"status": "ok"}
