"""Deploy the contract set and keep a manifest per chain id."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from eth_utils import to_checksum_address

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
    """Addresses of the contract set on one chain.

    ``settlement_token`` is the ERC-20 the alliance contracts settle in: the
    configured ``WAYMARK_SETTLEMENT_TOKEN`` on a real chain, the deployed
    ``TestStablecoin`` on a development chain.

    ``anchorer`` is the account whose anchors in the open ``AnchorRegistry`` are
    Waymark's (the relayer that deployed the set): verifiers pin it with the
    addresses, and the indexer follows its ``Anchored`` logs only.
    """

    chain_id: int
    contracts: dict[str, ContractRecord] = field(default_factory=dict)
    settlement_token: str | None = None
    anchorer: str | None = None

    def address(self, name: str) -> str:
        try:
            return self.contracts[name].address
        except KeyError as exc:
            raise DeploymentMissing(f"{name} is not deployed on chain {self.chain_id}") from exc

    @property
    def anchor_account(self) -> str:
        """The pinned anchorer; ``DeploymentMissing`` for a manifest that names none."""
        if self.anchorer is None:
            raise DeploymentMissing(
                f"the deployment manifest of chain {self.chain_id} names no anchorer; redeploy"
            )
        return self.anchorer

    @property
    def first_block(self) -> int:
        return min((c.deploy_block for c in self.contracts.values()), default=0)

    def to_json(self) -> dict[str, Any]:
        return {
            "chainId": self.chain_id,
            "contracts": {name: asdict(rec) for name, rec in self.contracts.items()},
            "settlementToken": self.settlement_token,
            "anchorer": self.anchorer,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Deployment:
        return cls(
            chain_id=int(data["chainId"]),
            contracts={n: ContractRecord(**r) for n, r in data["contracts"].items()},
            settlement_token=data.get("settlementToken"),
            anchorer=data.get("anchorer"),
        )


@dataclass(frozen=True)
class ExternalContract:
    """A contract the plan uses but does not deploy (the configured settlement token)."""

    name: str
    address: str


Deployed = DeployedContract | ExternalContract

#: Key in ``done`` under which the plan finds the settlement token, deployed or configured.
SETTLEMENT_TOKEN = "SettlementToken"  # noqa: S105 - a contract key, not a secret
#: The 6-decimal test stablecoin deployed as the settlement token on development chains.
DEV_SETTLEMENT_TOKEN = "TestStablecoin"  # noqa: S105 - a contract name
#: Plan entries deployed only on development chains, and only when no token is configured.
DEV_ONLY = frozenset({DEV_SETTLEMENT_TOKEN})
#: How long after ``neededBy`` a lender's delivery still releases the escrow.
STOCK_GRACE_SECONDS = 2 * 24 * 3600
DEV_BACKENDS = frozenset({"tester", "anvil"})

# (contract name, constructor arguments given the relayer address and the
# contracts deployed before it). Order matters: later entries may use earlier ones.
ConstructorArgs = Callable[[str, dict[str, Deployed]], list[Any]]
DEPLOY_PLAN: list[tuple[str, ConstructorArgs]] = [
    # (admin, registrar): the operator's relayer registers organisations and their
    # prefixes, and adds the signer keys the service registers.
    ("OrganisationRegistry", lambda relayer, _done: [relayer, relayer]),
    # Open, keyed by sender: the relayer's anchors are Waymark's (``Deployment.anchorer``).
    ("AnchorRegistry", lambda _relayer, _done: []),
    # (admin, organisation registry)
    (
        "ProductPassportRegistry",
        lambda relayer, done: [relayer, done["OrganisationRegistry"].address],
    ),
    # (admin, arbiter)
    ("CapacityPool", lambda relayer, _done: [relayer, relayer]),
    ("ShipmentRegistry", lambda _relayer, _done: []),
    # Development chains only, skipped when WAYMARK_SETTLEMENT_TOKEN is configured.
    (DEV_SETTLEMENT_TOKEN, lambda _relayer, _done: []),
    # (admin, settlement token, delivery source, grace period)
    (
        "EmergencyStockTransfer",
        lambda relayer, done: [
            relayer,
            done[SETTLEMENT_TOKEN].address,
            done["ShipmentRegistry"].address,
            STOCK_GRACE_SECONDS,
        ],
    ),
    # (proof-of-delivery source, organisation registry)
    (
        "DeliveryAgreement",
        lambda _relayer, done: [
            done["ShipmentRegistry"].address,
            done["OrganisationRegistry"].address,
        ],
    ),
]


def deploy_all(chain: ChainClient, *, settlement_token: str | None = None) -> Deployment:
    """Deploy every contract of ``DEPLOY_PLAN`` from the relayer account.

    Without ``settlement_token`` the test stablecoin is deployed as the
    alliance's token, which is refused outside the tester and anvil backends.
    """
    if settlement_token is None and chain.backend not in DEV_BACKENDS:
        raise DeploymentMissing(
            "WAYMARK_SETTLEMENT_TOKEN must name the alliance's ERC-20 on a real chain; "
            "the test stablecoin is deployed only on tester and anvil"
        )
    done: dict[str, Deployed] = {}
    deployment = Deployment(chain_id=chain.chain_id, anchorer=to_checksum_address(chain.address))
    if settlement_token is not None:
        token = to_checksum_address(settlement_token)
        done[SETTLEMENT_TOKEN] = ExternalContract(SETTLEMENT_TOKEN, token)
        deployment.settlement_token = token
    for name, args in DEPLOY_PLAN:
        if name in DEV_ONLY and settlement_token is not None:
            continue
        deployed = chain.deploy(name, *args(chain.address, done))
        done[name] = deployed
        if name == DEV_SETTLEMENT_TOKEN:
            done[SETTLEMENT_TOKEN] = deployed
            deployment.settlement_token = deployed.address
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


def require_anchorer(deployment: Deployment, relayer: str) -> None:
    """The relayer must be the manifest's anchorer: only its anchors are indexed and pinned."""
    if deployment.anchor_account.lower() != relayer.lower():
        raise DeploymentMissing(
            f"the deployment on chain {deployment.chain_id} pins anchorer "
            f"{deployment.anchor_account}, not the relayer {relayer}; anchors by this relayer "
            "would be neither trusted nor indexed: use the anchorer's key or redeploy"
        )


def verify_code(chain: ChainClient, deployment: Deployment) -> None:
    """Raise if any manifest address has no code (e.g. anvil restarted empty)."""
    for name, rec in deployment.contracts.items():
        code = chain.w3.eth.get_code(rec.address)  # type: ignore[arg-type]
        if not code:
            raise DeploymentMissing(
                f"{name} at {rec.address} has no code on chain {deployment.chain_id}"
            )
