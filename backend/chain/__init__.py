"""The chain seam: the only package that imports web3.

Callers use :func:`make_chain` and the domain clients (``AnchorRegistryClient``
…); they receive dataclasses and the exceptions in :mod:`backend.chain.errors`.
"""

from backend.chain.anchors import AnchorRegistryClient
from backend.chain.client import ChainClient, DecodedEvent, TxResult
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
from backend.chain.factory import connect_rpc, make_chain
from backend.chain.organisations import OrganisationRegistryClient
from backend.chain.shipments import ShipmentRegistryClient

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
