"""Gather health facts without failing when the chain is down."""

from __future__ import annotations

from backend.chain import ChainClient, ChainError
from backend.chain.deployments import Deployment
from backend.health.schemas import ContractPublic, HealthPublic
from backend.runtime import fast_paths


def health(*, chain: ChainClient, deployment: Deployment | None) -> HealthPublic:
    """Current health; ``status`` is ``degraded`` if the chain does not answer."""
    try:
        chain_id: int | None = chain.chain_id
        latest: int | None = chain.block_number()
        reachable = True
    except ChainError:
        chain_id, latest, reachable = None, None, False
    paths = fast_paths()
    contracts = {
        name: ContractPublic(
            address=rec.address, version=rec.version, deploy_block=rec.deploy_block
        )
        for name, rec in (deployment.contracts.items() if deployment else [])
    }
    return HealthPublic(
        status="ok" if reachable and deployment else "degraded",
        chain_backend=chain.backend,
        chain_id=chain_id,
        latest_block=latest,
        chain_reachable=reachable,
        relayer=chain.address,
        contracts=contracts,
        coincurve=paths["coincurve"],
        fast_keccak=paths["fast_keccak"],
    )
