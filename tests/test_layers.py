"""The import graph of ``backend/`` and ``scripts/`` only ever points down the layers.

Every package sits in one layer; a module may import its own layer and the ones
below it, never one above. A new package must be placed here before it can be
imported, so the layering is decided once, in review, rather than drifting.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from backend.paths import PROJECT_ROOT

# Top to bottom. Packages in one layer may import each other.
LAYERS: list[set[str]] = [
    {"scripts"},  # entry points
    {"backend.main", "backend.demo"},  # the app and the seeded scenario
    {"backend.cli"},  # the command line client (the demo drives it)
    {"backend.wiring", "backend.models"},  # handler registries, table registry
    {"backend.webhooks"},  # notifications read the shipment, dashboard and alliance models
    {"backend.dashboard", "backend.fieldapp", "backend.health", "backend.apidocs", "backend.node"},
    {"backend.agreements"},  # purchase agreements: relay through the alliance action log
    {"backend.qr", "backend.names"},  # consumer resolver; display names of addresses
    {"backend.alliance", "backend.epcis", "backend.credentials"},  # credentials: passports as VCs
    {"backend.shipments"},
    {"backend.passports"},
    {"backend.anchoring"},
    {"backend.events"},
    {"backend.relayer", "backend.indexer"},
    {"backend.orgs"},  # organisations, API keys, signer keys and signature checks
    {"backend.deps"},  # the application context and the dependencies over it
    {"backend.pages"},  # stored consumer pages: marked by every write that changes them
    {"backend.locations"},  # UN/LOCODE search and checks (reference data kept in the repository)
    {
        "backend.errors",
        "backend.handlers",
        "backend.loop",  # the background loop of every worker
        "backend.middleware",
        "backend.runtime",
        "backend.startup",  # start-up gate and the demo's early listener (stdlib only)
    },
    {"backend.db", "backend.chain"},  # persistence and the only web3 importer
    {"backend.config"},
    {"backend.gs1", "backend.common", "backend.paths", "backend"},  # vocabulary, no state
]

RANK = {name: depth for depth, layer in enumerate(LAYERS) for name in layer}

# Inside a domain split the Dispatch way the modules are layered too, top to bottom:
# the router, then writes (and what sends them), then the reads, then the pure
# message builders; reads never reach for writes. Modules not named are free.
MODULE_LAYERS: dict[str, list[set[str]]] = {
    "backend.shipments": [
        {"router"},
        {"relay", "sla"},
        {"writes"},
        {"public"},
        {"queries"},
        {"messages"},
    ],
    "backend.passports": [{"router"}, {"relay"}, {"writes"}, {"public"}, {"messages"}],
    "backend.alliance": [
        {"router"},
        {"pools", "transfers"},
        {"members", "queries"},
        {"relay"},  # the action log every relayed call is written to
    ],
    "backend.qr": [
        {"router"},
        {"cache"},  # stored pages, computed by the flow
        {"flows"},  # what a resolved link answers: page, JSON
        {"bundle.build"},
        {"evidence", "resolver"},
        {"page", "view", "render", "linkset", "images", "bundle.verify"},  # pure
    ],
}
MODULE_RANK = {
    package: {name: depth for depth, layer in enumerate(layers) for name in layer}
    for package, layers in MODULE_LAYERS.items()
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _component(module: str) -> str:
    """The layered unit of a module: ``scripts``, ``backend`` or ``backend.<package>``."""
    parts = module.split(".")
    if parts[0] == "scripts" or len(parts) == 1:
        return parts[0]
    return ".".join(parts[:2])


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every ``backend`` import in the file, at module level or inside functions."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [
                (node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "backend"
            ]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] != "backend":
                continue
            if node.module == "backend":  # ``from backend import orgs`` names a package
                found += [(node.lineno, f"backend.{a.name}") for a in node.names]
            else:
                found.append((node.lineno, node.module))
                # ``from backend.qr import flows`` may name a module of the package.
                found += [(node.lineno, f"{node.module}.{a.name}") for a in node.names]
    return found


def _sources() -> list[Path]:
    return sorted([*PROJECT_ROOT.glob("backend/**/*.py"), *PROJECT_ROOT.glob("scripts/*.py")])


def _component_of_import(target: str) -> str:
    component = _component(target)
    # ``from backend import __version__`` and the like resolve to the root package.
    return component if component in RANK or "." not in component else "backend"


def test_every_package_has_a_layer() -> None:
    components = {_component(_module_name(p)) for p in _sources()}
    unplaced = sorted(components - RANK.keys())
    assert unplaced == [], f"place these in LAYERS: {unplaced}"


def test_no_import_points_up_a_layer() -> None:
    upward = []
    for path in _sources():
        source = _component(_module_name(path))
        for line, target in _imports(path):
            component = _component_of_import(target)
            if RANK[component] < RANK[source]:
                upward.append(f"{path.relative_to(PROJECT_ROOT)}:{line} {source} -> {target}")
    assert upward == [], "imports from a lower layer to a higher one:\n" + "\n".join(upward)


def _in_package(module: str) -> tuple[str, str] | None:
    """``(package, module inside it)`` for a module of a package in MODULE_LAYERS."""
    for package in MODULE_LAYERS:
        if module.startswith(package + "."):
            return package, module.removeprefix(package + ".")
    return None


def test_no_import_points_up_a_layer_inside_a_domain() -> None:
    upward = []
    for path in _sources():
        placed = _in_package(_module_name(path))
        if placed is None or placed[1] not in MODULE_RANK[placed[0]]:
            continue
        package, source = placed
        for line, target in _imports(path):
            inside = _in_package(target)
            if inside is None or inside[0] != package or inside[1] not in MODULE_RANK[package]:
                continue
            if MODULE_RANK[package][inside[1]] < MODULE_RANK[package][source]:
                upward.append(f"{path.relative_to(PROJECT_ROOT)}:{line} {target}")
    assert upward == [], "imports from a lower module to a higher one:\n" + "\n".join(upward)


def test_every_split_module_exists() -> None:
    """A renamed or removed module leaves no stale rule behind."""
    missing = [
        f"{package}.{name}"
        for package, layers in MODULE_LAYERS.items()
        for layer in layers
        for name in layer
        if not (PROJECT_ROOT / (package + "." + name).replace(".", "/")).with_suffix(".py").exists()
    ]
    assert missing == []


@pytest.mark.parametrize(
    ("source", "target", "upward"),
    [
        ("backend.db.engine", "backend.shipments.models", True),
        ("backend.gs1.keys", "backend.qr.resolver", True),
        ("backend.qr.resolver", "backend.gs1.keys", False),
        ("backend.relayer.signed", "backend.orgs.signers", False),
        ("scripts.anchor_worker", "backend.main", False),
    ],
)
def test_rank_orders_known_pairs(source: str, target: str, upward: bool) -> None:
    assert (RANK[_component(target)] < RANK[_component(source)]) is upward


def test_worker_process_does_not_import_the_web_app() -> None:
    worker = PROJECT_ROOT / "scripts" / "anchor_worker.py"
    assert [t for _, t in _imports(worker) if t == "backend.main"] == []
