"""Deploy the contract set and keep a manifest per chain id."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from backend.chain.client import ChainClient, DeployedContract
from backend.chain.errors import DeploymentMissing
from backend.paths import DEPLOYMENTS_DIR


@dataclass(frozen=True)
class ContractRecord:
    """One deployed contract as the manifest stores it."""

    address: str
    abi_hash: str
    version: str
    deploy_block: int
    tx_hash: str


@dataclass
class Deployment:
    """Addresses of the contract set on one chain."""

    chain_id: int
    contracts: dict[str, ContractRecord] = field(default_factory=dict)

    def address(self, name: str) -> str:
        try:
            return self.contracts[name].address
        except KeyError as exc:
            raise DeploymentMissing(f"{name} is not deployed on chain {self.chain_id}") from exc

    @property
    def first_block(self) -> int:
        return min((c.deploy_block for c in self.contracts.values()), default=0)

    def to_json(self) -> dict[str, Any]:
        return {
            "chainId": self.chain_id,
            "contracts": {name: asdict(rec) for name, rec in self.contracts.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Deployment:
        return cls(
            chain_id=int(data["chainId"]),
            contracts={n: ContractRecord(**r) for n, r in data["contracts"].items()},
        )


# (contract name, constructor arguments given the relayer address and the
# contracts deployed before it). Order matters: later entries may use earlier ones.
ConstructorArgs = Callable[[str, dict[str, DeployedContract]], list[Any]]
DEPLOY_PLAN: list[tuple[str, ConstructorArgs]] = [
    ("AnchorRegistry", lambda relayer, _done: [relayer, relayer]),
    ("ProductPassportRegistry", lambda relayer, _done: [relayer]),
    # (admin, arbiter). EmergencyStockTransfer joins the plan with ShipmentRegistry, whose
    # address it takes: ("EmergencyStockTransfer", lambda r, done: [r, token,
    # done["ShipmentRegistry"].address, grace]).
    ("CapacityPool", lambda relayer, _done: [relayer, relayer]),
    ("ShipmentRegistry", lambda _relayer, _done: []),
]


def deploy_all(chain: ChainClient) -> Deployment:
    """Deploy every contract of ``DEPLOY_PLAN`` from the relayer account."""
    done: dict[str, DeployedContract] = {}
    deployment = Deployment(chain_id=chain.chain_id)
    for name, args in DEPLOY_PLAN:
        deployed = chain.deploy(name, *args(chain.address, done))
        done[name] = deployed
        contract = chain.contract(name, deployed.address)
        version = chain.call(contract, "VERSION") if _has(deployed, "VERSION") else "0.0.0"
        deployment.contracts[name] = ContractRecord(
            address=deployed.address,
            abi_hash=deployed.artifact.abi_hash,
            version=str(version),
            deploy_block=int(deployed.block_number or 0),
            tx_hash=str(deployed.tx_hash),
        )
    return deployment


def _has(deployed: DeployedContract, fn: str) -> bool:
    return any(i.get("name") == fn for i in deployed.artifact.abi)


def manifest_path(chain_id: int, directory: Path = DEPLOYMENTS_DIR) -> Path:
    return directory / f"{chain_id}.json"


def save(deployment: Deployment, directory: Path = DEPLOYMENTS_DIR) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = manifest_path(deployment.chain_id, directory)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(deployment.to_json(), indent=2) + "\n")
    os.replace(tmp, path)
    return path


def load(chain_id: int, directory: Path = DEPLOYMENTS_DIR) -> Deployment:
    path = manifest_path(chain_id, directory)
    if not path.exists():
        raise DeploymentMissing(f"no deployment manifest for chain {chain_id} at {path}")
    return Deployment.from_json(json.loads(path.read_text()))


def verify_code(chain: ChainClient, deployment: Deployment) -> None:
    """Raise if any manifest address has no code (e.g. anvil restarted empty)."""
    for name, rec in deployment.contracts.items():
        code = chain.w3.eth.get_code(rec.address)  # type: ignore[arg-type]
        if not code:
            raise DeploymentMissing(
                f"{name} at {rec.address} has no code on chain {deployment.chain_id}"
            )
