"""The chain seam: the only package that imports web3.

Callers use :func:`make_chain` and the domain clients (``AnchorRegistryClient``
…); they receive dataclasses and the exceptions in :mod:`backend.chain.errors`.

The exceptions are imported here directly (they need nothing but the standard
library); the clients and the factory load web3 and are imported on first use,
so importing ``backend.chain.errors`` or ``backend.chain.eip712`` does not pay
for web3 and eth-tester.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from backend.chain.errors import (
    ChainError,
    ChainUnavailable,
    ContractRevert,
    DeploymentMissing,
    InsufficientFunds,
    LogRangeTooLarge,
    NonceTooLow,
    TransactionTimeout,
    revert_class,
)

if TYPE_CHECKING:
    from backend.chain.anchors import AnchorRegistryClient
    from backend.chain.client import ChainClient, DecodedEvent, TxResult
    from backend.chain.factory import connect_rpc, make_chain
    from backend.chain.organisations import OrganisationRegistryClient
    from backend.chain.shipments import ShipmentRegistryClient

# Name -> module of the names loaded on first access (PEP 562).
_LAZY = {
    "AnchorRegistryClient": "backend.chain.anchors",
    "ChainClient": "backend.chain.client",
    "DecodedEvent": "backend.chain.client",
    "TxResult": "backend.chain.client",
    "connect_rpc": "backend.chain.factory",
    "make_chain": "backend.chain.factory",
    "OrganisationRegistryClient": "backend.chain.organisations",
    "ShipmentRegistryClient": "backend.chain.shipments",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "AnchorRegistryClient",
    "ChainClient",
    "ChainError",
    "ChainUnavailable",
    "ContractRevert",
    "DecodedEvent",
    "DeploymentMissing",
    "InsufficientFunds",
    "LogRangeTooLarge",
    "NonceTooLow",
    "OrganisationRegistryClient",
    "ShipmentRegistryClient",
    "TransactionTimeout",
    "TxResult",
    "connect_rpc",
    "make_chain",
    "revert_class",
]
