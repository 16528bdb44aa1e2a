"""Health response."""

from pydantic import BaseModel, Field


class ContractPublic(BaseModel):
    address: str
    version: str
    deploy_block: int


class AnchoringPublic(BaseModel):
    pending: int
    batched: int
    anchored: int
    backlog: int
    oldest_pending_seconds: float | None


class HealthPublic(BaseModel):
    status: str = Field(description="ok, degraded, or starting (contracts still being deployed).")
    startup: str = Field(default="ready", description="ready, starting or failed.")
    startup_error: str | None = None
    chain_backend: str
    chain_id: int | None
    latest_block: int | None
    # Unix time of the latest block, and wall time minus it (seconds; positive when
    # the chain's clock trails, as on a node that mines only on demand).
    latest_block_time: int | None = None
    chain_clock_skew_seconds: float | None = None
    chain_reachable: bool
    relayer: str
    anchorer: str | None = Field(
        default=None,
        description="The deployment's anchorer: the account whose anchors in the open "
        "AnchorRegistry are the operator's (verifiers pin it; the relayer must be it).",
    )
    contracts: dict[str, ContractPublic]
    coincurve: bool
    fast_keccak: bool
    database: str = "unknown"
    anchoring: AnchoringPublic | None = None
