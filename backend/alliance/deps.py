"""Dependencies of the routers that relay contract calls through the alliance action log.

The alliance and the purchase-agreement routers share one pipeline: a write
endpoint takes :data:`RelayedDep` (one :class:`~backend.alliance.relay.Relayed`:
who asks, and the session, chain and loaded deployment the call needs), hands
it to its service as it is, and answers 202 with the action to poll
(``/v1/alliance/actions/{id}``); reads take :data:`LoadedDeploymentDep`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, status

from backend.alliance.relay import Relayed
from backend.deps import ChainDep, LoadedDeploymentDep, SessionDep
from backend.orgs.auth import PrincipalDep

ACCEPTED = status.HTTP_202_ACCEPTED
#: An on-chain id (pool, period, request, agreement) in a path.
ChainId = Annotated[int, Path(ge=0, le=2**63 - 1)]


def relayed(
    principal: PrincipalDep, session: SessionDep, chain: ChainDep, deployment: LoadedDeploymentDep
) -> Relayed:
    return Relayed(session, chain, deployment, principal)


RelayedDep = Annotated[Relayed, Depends(relayed)]
