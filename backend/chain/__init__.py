"""The chain seam: the only package that imports web3.

Callers use :func:`make_chain` and the domain clients (``AnchorRegistryClient``
…); they receive dataclasses and the exceptions in :mod:`backend.chain.errors`.
"""

from backend.chain.anchors import AnchorInfo, AnchorRegistryClient
from backend.chain.client import (
    ChainClient,
    DecodedEvent,
    DeployedContract,
    SentTransaction,
    TxResult,
)
from backend.chain.errors import (
    ChainError,
    ChainUnavailable,
    ContractRevert,
    DeploymentMissing,
    InsufficientFunds,
    LogRangeTooLarge,
    NonceTooLow,
    StateUnavailable,
    TransactionTimeout,
    revert_class,
)
from backend.chain.factory import connect_rpc, make_chain
from backend.chain.organisations import OrganisationRegistryClient
from backend.chain.passports import PassportRegistryClient
from backend.chain.shipments import (
    HistoryEntry,
    HistoryMismatch,
    ShipmentInfo,
    ShipmentRegistryClient,
)

__all__ = [
    "AnchorInfo",
    "AnchorRegistryClient",
    "ChainClient",
    "ChainError",
    "ChainUnavailable",
    "ContractRevert",
    "DecodedEvent",
    "DeployedContract",
    "DeploymentMissing",
    "HistoryEntry",
    "HistoryMismatch",
    "InsufficientFunds",
    "LogRangeTooLarge",
    "NonceTooLow",
    "OrganisationRegistryClient",
    "PassportRegistryClient",
    "SentTransaction",
    "ShipmentInfo",
    "ShipmentRegistryClient",
    "StateUnavailable",
    "TransactionTimeout",
    "TxResult",
    "connect_rpc",
    "make_chain",
    "revert_class",
]
