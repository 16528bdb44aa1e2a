"""Filesystem locations of the project's non-Python parts."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONTRACTS_DIR = PROJECT_ROOT / "contracts"
BUILD_DIR = PROJECT_ROOT / "build" / "contracts"
NODE_MODULES = PROJECT_ROOT / "node_modules"
SOLC_SHIM = PROJECT_ROOT / "scripts" / "solc-shim.js"
DEPLOYMENTS_DIR = PROJECT_ROOT / "deployments"
FRONTEND_STATIC = PROJECT_ROOT / "frontend_static"
