"""Gas of one Merkle anchor next to the Ethereum Attestation Service's ``timestamp``.

The baseline is measured, not quoted: EAS's ``SchemaRegistry`` and ``EAS`` are
deployed from the compiled artifacts of the pinned npm package
(``@ethereum-attestation-service/eas-contracts``) on the same chain, in the same
run, and ``timestamp(bytes32)`` is called on fresh values, as
``AnchorRegistry.anchor(root, leafCount)`` is called on fresh roots by the
anchoring worker. Both registries are open and keyed the same way: EAS records a
timestamp per value, the anchor registry a (leaf count, block, time) slot per
(sender, root), and the reader names whose anchor it trusts. Every figure is the transaction's ``gasUsed`` (the 21,000
intrinsic gas and calldata included), median over ``ROUNDS``, on eth-tester and
on anvil.

From the measured anchor gas (anvil), the anchoring policy's cost per day at 10,
100 and 1,000 events/s: the worker wakes every ``WAYMARK_ANCHOR_INTERVAL_SECONDS``
(the maximum wait) and anchors what is waiting in batches of up to
``WAYMARK_ANCHOR_BATCH_SIZE`` events, so it sends max(min(rate, 1 / interval),
rate / batch size) anchors a second; shown for the default interval and for
longer ones (docs/backend.md, "Anchoring policy").

Run: ``.venv/bin/python bench/gas_anchor.py``
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eth_utils import keccak

from backend.chain import AnchorRegistryClient, ChainClient, make_chain
from backend.chain.anvil import start_anvil
from backend.chain.compiler import Artifact, compile_contracts
from backend.chain.deployments import deploy_all
from backend.config import Settings
from bench.common import ROOT, Row, publish

ROUNDS = 20
EAS_PACKAGE = ROOT / "node_modules/@ethereum-attestation-service/eas-contracts"
DAY = 86_400
RATES = (10, 100, 1_000)
INTERVALS = (0.5, 10.0, 60.0)  # the default maximum wait, then two longer policies


def eas_artifact(name: str) -> Artifact:
    """An EAS contract as its npm package publishes it compiled."""
    path = EAS_PACKAGE / "artifacts/contracts" / f"{name}.sol" / f"{name}.json"
    data = json.loads(path.read_text())
    version = json.loads((EAS_PACKAGE / "package.json").read_text())["version"]
    return Artifact(
        name=name,
        source=data["sourceName"],
        abi=data["abi"],
        bytecode=data["bytecode"],
        deployed_bytecode=data["deployedBytecode"],
        method_identifiers={},
        compiler_version=f"eas-contracts {version}",
        source_hash="",
    )


def measure(chain: ChainClient) -> dict[str, int]:
    deployment = deploy_all(chain)
    registry = AnchorRegistryClient(chain, deployment.address("AnchorRegistry"))
    schemas = chain.deploy("SchemaRegistry")
    eas = chain.contract("EAS", chain.deploy("EAS", schemas.address).address)
    gas: dict[str, list[int]] = {"eas": [], "anchor": []}
    for i in range(ROUNDS):
        gas["eas"].append(chain.transact(eas, "timestamp", keccak(text=f"eas-{i}")).gas_used)
        gas["anchor"].append(registry.anchor_root(keccak(text=f"root-{i}"), 1_000 + i).gas_used)
    return {k: int(statistics.median(v)) for k, v in gas.items()}


def anchors_per_day(rate: float, interval: float, batch_size: int) -> float:
    """Anchors a day at ``rate`` events/s: a round every ``interval`` with events waiting,
    one anchor per ``batch_size`` of them."""
    return DAY * max(min(rate, 1 / interval), rate / batch_size)


def main() -> None:
    artifacts = dict(compile_contracts())
    artifacts["SchemaRegistry"] = eas_artifact("SchemaRegistry")
    artifacts["EAS"] = eas_artifact("EAS")
    batch_size = Settings().anchor_batch_size
    rows: list[Row] = []
    figures: dict[str, dict[str, int]] = {}
    with start_anvil() as node:
        for label, chain_settings in (
            ("eth-tester", Settings(chain_backend="tester")),
            ("anvil", Settings(chain_backend="anvil", rpc_url=node.url)),
        ):
            figures[label] = g = measure(make_chain(chain_settings, artifacts))
            rows.append(
                Row(
                    f"anchor(root, leafCount), {label}",
                    g["anchor"],
                    "gas",
                    g["eas"],
                    "EAS timestamp(bytes32), same chain",
                    f"≤ EAS: {g['anchor'] / g['eas']:.3f}×",
                )
            )
    g = figures["anvil"]
    for interval in INTERVALS:
        for rate in RATES:
            anchors = anchors_per_day(rate, interval, batch_size)
            rows.append(
                Row(
                    f"gas per day at {rate:,} events/s, maximum wait {interval:g} s "
                    f"({anchors:,.0f} anchors of {rate * DAY / anchors:,.0f} events)",
                    anchors * g["anchor"],
                    "gas",
                    anchors * g["eas"],
                    "as EAS timestamps",
                )
            )
    publish("gas_anchor", f"Anchor gas vs EAS timestamp ({ROUNDS} rounds, median)", rows)


if __name__ == "__main__":
    main()
