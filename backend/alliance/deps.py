"""Dependencies of the routers that relay contract calls through the alliance action log.

The alliance and the purchase-agreement routers share one pipeline: a write
endpoint takes :data:`RelayedDep` (who asks, and the session, chain and loaded
deployment the call needs), hands it to its service, and answers 202 with the
action to poll (``/v1/alliance/actions/{id}``); reads take
:data:`LoadedDeploymentDep`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Path, status
from sqlalchemy.orm import Session

from backend.chain import ChainClient
from backend.chain.deployments import Deployment
from backend.deps import ChainDep, LoadedDeploymentDep, SessionDep
from backend.orgs.auth import PrincipalDep
from backend.orgs.service import Principal

ACCEPTED = status.HTTP_202_ACCEPTED
#: An on-chain id (pool, period, request, agreement) in a path.
ChainId = Annotated[int, Path(ge=0, le=2**63 - 1)]


@dataclass(frozen=True)
class Relayed:
    """Who asks, and what a relayed contract call needs."""

    session: Session
    chain: ChainClient
    deployment: Deployment
    principal: Principal

    def kw(self) -> dict[str, Any]:
        """The keyword arguments every relaying service function takes."""
        return {
            "session": self.session,
            "chain": self.chain,
            "deployment": self.deployment,
            "principal": self.principal,
        }


def relayed(
    principal: PrincipalDep, session: SessionDep, chain: ChainDep, deployment: LoadedDeploymentDep
) -> Relayed:
    return Relayed(session, chain, deployment, principal)


RelayedDep = Annotated[Relayed, Depends(relayed)]
