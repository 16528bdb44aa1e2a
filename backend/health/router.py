"""GET /health."""

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

from backend.deps import Ctx, SessionDep
from backend.health import service
from backend.health.schemas import HealthPublic

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthPublic)
def get_health(ctx: Ctx, session: SessionDep) -> HealthPublic:
    """Chain, deployed contracts, crypto fast paths, database and anchoring backlog."""
    gate = ctx.startup
    return service.health(
        chain=ctx.chain,
        deployment=ctx.deployment,
        session=session,
        startup=gate.state,
        error=gate.error,
    )


@router.get("/livez", response_class=PlainTextResponse)
async def get_livez() -> str:
    """Liveness: the process answers HTTP (no chain or database call)."""
    return "ok"
