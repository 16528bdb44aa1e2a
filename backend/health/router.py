"""GET /health."""

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from backend.deps import ChainDep, DeploymentDep, SessionDep
from backend.health import service
from backend.health.schemas import HealthPublic

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthPublic)
def get_health(
    request: Request, chain: ChainDep, deployment: DeploymentDep, session: SessionDep
) -> HealthPublic:
    """Chain, deployed contracts, crypto fast paths, database and anchoring backlog."""
    gate = request.app.state.startup
    return service.health(
        chain=chain, deployment=deployment, session=session, startup=gate.state, error=gate.error
    )


@router.get("/livez", response_class=PlainTextResponse)
async def get_livez() -> str:
    """Liveness: the process answers HTTP (no chain or database call)."""
    return "ok"
