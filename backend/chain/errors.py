"""Exceptions raised by the chain seam.

    ChainError
    ├── ChainUnavailable        the node did not answer (connection refused, timeout)
    │   └── StateUnavailable    the node has no state for the requested block (pruned, not yet)
    ├── LogRangeTooLarge        the node refused an ``eth_getLogs`` range (too many results)
    ├── NonceTooLow             the node refused a transaction whose nonce is already used
    ├── InsufficientFunds       the sender cannot pay for gas (and value)
    ├── TransactionTimeout      sent, but no receipt within the configured time
    ├── TransactionDropped      mined transaction reverted without decodable data
    ├── DeploymentMissing       no deployment manifest / address for a contract
    └── ContractRevert          the contract reverted; ``error_name`` and ``arguments``
        ├── <one subclass per custom error in the compiled ABIs>, e.g.
        │   AnchorRootAlreadyAnchored(anchorer=..., root=...)
        ├── RevertWithReason    require(..., "reason") / Error(string)
        └── Panic               Panic(uint256), e.g. arithmetic overflow

Custom-error subclasses are created from the ABIs, so a new contract error
needs no Python change: ``revert_class("ShipmentUnknown")`` is the class and
``exc.shipmentId`` (or ``exc.arguments["shipmentId"]``) its argument.
"""

from __future__ import annotations

from typing import Any, ClassVar


class ChainError(Exception):
    """Base of every error raised by ``backend.chain``."""


class ChainUnavailable(ChainError):
    """The JSON-RPC node could not be reached."""


class LogRangeTooLarge(ChainError):
    """The node refused an ``eth_getLogs`` range as too wide or too many results; ask a narrower one."""


class NonceTooLow(ChainError):
    """The node refused a signed transaction: its sender's nonce is already used."""


class InsufficientFunds(ChainError):
    """The node refused a transaction: its sender cannot pay for its gas (and value)."""


class StateUnavailable(ChainUnavailable):
    """The node cannot answer a read at that block (history pruned, or the block not yet there)."""


class TransactionTimeout(ChainError):
    """A transaction was sent but not mined in time; it may still be mined."""

    def __init__(self, tx_hash: str, timeout: float) -> None:
        self.tx_hash = tx_hash
        self.timeout = timeout
        super().__init__(f"transaction {tx_hash} not mined within {timeout:.0f}s")


class TransactionDropped(ChainError):
    """A transaction was mined with status 0 and no revert data could be recovered."""

    def __init__(self, tx_hash: str) -> None:
        self.tx_hash = tx_hash
        super().__init__(f"transaction {tx_hash} reverted without revert data")


class DeploymentMissing(ChainError):
    """The contract has no known address on this chain."""


class ContractRevert(ChainError):
    """A contract call reverted; subclasses are named after the custom error."""

    error_name: ClassVar[str] = "ContractRevert"

    def __init__(self, arguments: dict[str, Any] | None = None, *, data: str = "0x") -> None:
        self.arguments: dict[str, Any] = dict(arguments or {})
        self.data = data
        args = ", ".join(f"{k}={_show(v)}" for k, v in self.arguments.items())
        super().__init__(f"{self.error_name}({args})")

    def __getattr__(self, name: str) -> Any:
        # Only reached when normal lookup fails: expose decoded error arguments.
        arguments = self.__dict__.get("arguments", {})
        if name in arguments:
            return arguments[name]
        raise AttributeError(name)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form for API responses."""
        return {
            "error": self.error_name,
            "arguments": {k: _show(v) for k, v in self.arguments.items()},
        }


class RevertWithReason(ContractRevert):
    """Revert with a string reason (``Error(string)``)."""

    error_name = "Error"


class Panic(ContractRevert):
    """Solidity panic (``Panic(uint256)``): assert failure, overflow, division by zero."""

    error_name = "Panic"


class UnknownRevert(ContractRevert):
    """Revert data that matches no known error selector."""

    error_name = "UnknownRevert"


_CLASSES: dict[str, type[ContractRevert]] = {}


def revert_class(name: str) -> type[ContractRevert]:
    """The exception class for the contract custom error ``name`` (created once)."""
    cls = _CLASSES.get(name)
    if cls is None:
        cls = type(name, (ContractRevert,), {"error_name": name, "__module__": __name__})
        _CLASSES[name] = cls
    return cls


def _show(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, (list, tuple)):
        return [_show(v) for v in value]
    return value
