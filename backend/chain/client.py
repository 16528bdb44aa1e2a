"""The chain adapter: one ``ChainClient`` over any EVM backend.

Everything above this package sees plain dataclasses (``TxResult``,
``DeployedContract``) and the exceptions of :mod:`backend.chain.errors`; only
this package imports web3.
"""

from __future__ import annotations

import ast
import contextlib
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address
from web3 import Web3
from web3._utils.events import get_event_data
from web3.contract import Contract
from web3.exceptions import (
    ContractLogicError,
    TimeExhausted,
    TransactionNotFound,
)
from web3.types import BlockIdentifier, TxParams

from backend.chain.compiler import Artifact
from backend.chain.eip712 import Domain
from backend.chain.errors import (
    ChainError,
    ChainUnavailable,
    ContractRevert,
    InsufficientFunds,
    LogRangeTooLarge,
    NonceTooLow,
    Panic,
    RevertWithReason,
    StateUnavailable,
    TransactionDropped,
    TransactionTimeout,
    UnknownRevert,
    revert_class,
)

ERROR_SELECTOR = bytes.fromhex("08c379a0")
PANIC_SELECTOR = bytes.fromhex("4e487b71")
# ERC-1271 ``isValidSignature(bytes32,bytes)``: its selector is also the "valid" answer.
ERC1271_SELECTOR = bytes.fromhex("1626ba7e")
_TESTER_REVERT = re.compile(r"execution reverted: (b(['\"]).*\2)$", re.DOTALL)
GWEI = 10**9
# py-evm is not thread-safe; every call into an in-process chain is serialised.
_TESTER_LOCK = threading.RLock()

# Node answers that mean something to the caller, by the words the node families
# (geth, anvil/reth, nethermind, eth-tester) use; everything else stays as raised.
NODE_ERRORS: tuple[tuple[str, type[ChainError]], ...] = (
    ("nonce too low", NonceTooLow),
    ("nonce has already been used", NonceTooLow),
    ("insufficient funds", InsufficientFunds),
    ("blockoutofrange", StateUnavailable),
    ("missing trie node", StateUnavailable),
    ("header not found", StateUnavailable),
    ("unknown block", StateUnavailable),
    ("historical state", StateUnavailable),
)
# ``eth_getLogs`` refusals that a narrower range answers (geth, Infura/Alchemy -32005,
# reth, Nethermind, Erigon, QuickNode wording).
LOG_RANGE_ERRORS = (
    "query returned more than",
    "too many results",
    "more than 10000 results",
    "block range",
    "exceed maximum",
    "limit exceeded",
    "response size",
    "query timeout",
    "-32005",
)
# A second broadcast of a transaction the node already holds is not an error.
ALREADY_KNOWN = ("already known", "known transaction", "already imported", "alreadyknown")
# Reads the node refused for want of state, asked again before giving up.
STATE_RETRIES = 3
# How long a read pinned to a block the node has not made available yet waits for it.
PINNED_READ_WAIT_SECONDS = 2.0


def node_error(exc: BaseException) -> ChainError | None:
    """The typed error for a node's answer, if it is one of ``NODE_ERRORS``."""
    text = str(exc).lower()
    for words, cls in NODE_ERRORS:
        if words in text:
            return cls(str(exc))
    return None


@dataclass(frozen=True)
class DecodedEvent:
    """One log decoded against the known ABIs."""

    name: str
    address: str
    args: dict[str, Any]
    log_index: int
    block_number: int
    tx_hash: str
    block_hash: str = ""
    # The block's time when the node puts it on the log (``blockTimestamp``: anvil,
    # reth, geth >= 1.16); None otherwise.
    block_timestamp: int | None = None


@dataclass(frozen=True)
class TxResult:
    """What a mined transaction did."""

    tx_hash: str
    block_number: int
    block_hash: str
    chain_id: int
    gas_used: int
    status: int
    events: list[DecodedEvent] = field(default_factory=list)
    contract_address: str | None = None

    def event(self, name: str) -> DecodedEvent:
        """The first event called ``name`` (KeyError if absent)."""
        for ev in self.events:
            if ev.name == name:
                return ev
        raise KeyError(name)


@dataclass(frozen=True)
class SentTransaction:
    """A signed transaction (handed to the node, or about to be), not yet known to be mined."""

    tx_hash: str
    nonce: int
    max_fee_per_gas: int
    max_priority_fee_per_gas: int
    params: dict[str, Any]
    raw: bytes = b""


@dataclass(frozen=True)
class DeployedContract:
    """A contract at an address with the artifact it was built from."""

    name: str
    address: str
    artifact: Artifact
    tx_hash: str | None = None
    block_number: int | None = None


class ErrorDecoder:
    """Turns revert data into the typed exception for its selector."""

    def __init__(self, artifacts: Iterable[Artifact]) -> None:
        self._errors: dict[bytes, tuple[str, list[str], list[str]]] = {}
        self._events: dict[bytes, dict[str, Any]] = {}
        for art in artifacts:
            self.add_abi(art.abi)

    def add_abi(self, abi: list[dict[str, Any]]) -> None:
        for item in abi:
            if item.get("type") == "error":
                types = [_abi_type(i) for i in item["inputs"]]
                sig = f"{item['name']}({','.join(types)})"
                names = [i["name"] or f"arg{n}" for n, i in enumerate(item["inputs"])]
                self._errors[keccak(text=sig)[:4]] = (item["name"], types, names)
            elif item.get("type") == "event" and not item.get("anonymous"):
                types = [_abi_type(i) for i in item["inputs"]]
                self._events[keccak(text=f"{item['name']}({','.join(types)})")] = item

    def exception(self, data: bytes) -> ContractRevert:
        hexdata = "0x" + data.hex()
        selector, body = data[:4], data[4:]
        if selector == ERROR_SELECTOR:
            (reason,) = abi_decode(["string"], body)
            return RevertWithReason({"reason": reason}, data=hexdata)
        if selector == PANIC_SELECTOR:
            (code,) = abi_decode(["uint256"], body)
            return Panic({"code": code}, data=hexdata)
        known = self._errors.get(selector)
        if known is None:
            return UnknownRevert({"selector": "0x" + selector.hex()}, data=hexdata)
        name, types, names = known
        values = abi_decode(types, body)
        return revert_class(name)(dict(zip(names, values, strict=True)), data=hexdata)

    def decode_logs(self, w3: Web3, logs: Iterable[Any]) -> list[DecodedEvent]:
        out = []
        for log in logs:
            topics = log["topics"]
            if not topics:
                continue
            abi = self._events.get(bytes(topics[0]))
            if abi is None:
                continue
            data = get_event_data(w3.codec, abi, log)
            stamp = log.get("blockTimestamp")
            out.append(
                DecodedEvent(
                    name=data["event"],
                    address=data["address"],
                    args=dict(data["args"]),
                    log_index=data["logIndex"],
                    block_number=data["blockNumber"],
                    tx_hash="0x" + bytes(data["transactionHash"]).hex(),
                    block_hash="0x" + bytes(log["blockHash"]).hex(),
                    block_timestamp=None if stamp is None else _quantity(stamp),
                )
            )
        return out


def _topic_filter(position: Any) -> Any:
    """One ``eth_getLogs`` topic position as 0x-hex (None matches anything)."""
    if position is None:
        return None
    if isinstance(position, list | tuple):
        return [_topic_filter(p) for p in position]
    return position if isinstance(position, str) else "0x" + bytes(position).hex()


def _quantity(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


def _abi_type(inp: dict[str, Any]) -> str:
    if inp["type"].startswith("tuple"):
        inner = ",".join(_abi_type(c) for c in inp["components"])
        return f"({inner}){inp['type'][5:]}"
    return str(inp["type"])


def revert_data(exc: BaseException) -> bytes | None:
    """Raw revert bytes from whatever the provider raised, if any."""
    data = getattr(exc, "data", None)
    if isinstance(data, dict):
        data = data.get("data")
    if isinstance(data, str) and data.startswith("0x"):
        return bytes.fromhex(data[2:])
    # eth-tester reports custom errors as the repr of the revert bytes.
    text = str(exc.args[0]) if exc.args else ""
    match = _TESTER_REVERT.search(text)
    if match:
        value = ast.literal_eval(match.group(1))
        if isinstance(value, bytes):
            return value
    # When a custom error carries a string argument, eth-tester re-raises it as
    # "execution reverted: <that string>"; the raw bytes are on the exception it chained.
    seen: set[int] = {id(exc)}
    inner = exc.__cause__ or exc.__context__
    while inner is not None and id(inner) not in seen:
        seen.add(id(inner))
        raw = inner.args[0] if inner.args else None
        if isinstance(raw, bytes) and len(raw) >= 4:
            return raw
        inner = inner.__cause__ or inner.__context__
    return None


class ChainClient:
    """Signs, sends and reads through one web3 connection for one relayer key."""

    def __init__(
        self,
        w3: Web3,
        account: LocalAccount,
        *,
        backend: str,
        artifacts: dict[str, Artifact],
        receipt_timeout: float = 120.0,
        priority_fee_wei: int = GWEI,
        tester: Any = None,
    ) -> None:
        self.w3 = w3
        self.account = account
        self.backend = backend
        self.artifacts = artifacts
        self.receipt_timeout = receipt_timeout
        self.priority_fee_wei = priority_fee_wei
        self.decoder = ErrorDecoder(artifacts.values())
        self._tester = tester
        self._nonce_lock = threading.RLock()
        self._next_nonce: int | None = None
        self._chain_id: int | None = None
        self._contracts: dict[tuple[str, str], Contract] = {}

    # -- basic reads -------------------------------------------------------

    @property
    def address(self) -> str:
        """The relayer's address (pays gas for every transaction sent)."""
        return str(self.account.address)

    @property
    def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = int(self._rpc(lambda: self.w3.eth.chain_id))
        return self._chain_id

    def block_number(self) -> int:
        return int(self._rpc(lambda: self.w3.eth.block_number))

    def block(self, ident: int | str = "latest") -> dict[str, Any]:
        blk = self._rpc(lambda: self.w3.eth.get_block(ident))  # type: ignore[arg-type]
        return {
            "number": int(blk["number"]),
            "hash": "0x" + bytes(blk["hash"]).hex(),
            "timestamp": int(blk["timestamp"]),
            "parent_hash": "0x" + bytes(blk["parentHash"]).hex(),
        }

    def now(self) -> int:
        """The chain's clock: the latest block's time (what contracts compare deadlines with)."""
        return int(self.block("latest")["timestamp"])

    def with_account(self, account: LocalAccount) -> ChainClient:
        """A client on the same connection that signs with ``account``."""
        return ChainClient(
            self.w3,
            account,
            backend=self.backend,
            artifacts=self.artifacts,
            receipt_timeout=self.receipt_timeout,
            priority_fee_wei=self.priority_fee_wei,
            tester=self._tester,
        )

    def send_value(self, to: str, wei: int) -> TxResult:
        """Plain ETH transfer from the relayer (funding test or operator accounts)."""
        return self.transact_raw({"to": to, "data": "0x", "value": wei}, gas=21_000)

    # -- contracts ---------------------------------------------------------

    def contract(self, name: str, address: str) -> Contract:
        """Contract ``name`` at ``address``, built once per client (web3 validates the ABI)."""
        key = (name, to_checksum_address(address))
        found = self._contracts.get(key)
        if found is None:
            found = self.w3.eth.contract(address=key[1], abi=self.artifacts[name].abi)
            self._contracts[key] = found
        return found

    def deploy(self, name: str, *args: Any) -> DeployedContract:
        """Deploy artifact ``name`` with constructor ``args`` from the relayer."""
        art = self.artifacts[name]
        factory = self.w3.eth.contract(abi=art.abi, bytecode=art.bytecode)
        data = factory.constructor(*args).data_in_transaction
        result = self.transact_raw({"data": data})
        assert result.contract_address is not None
        return DeployedContract(
            name=name,
            address=result.contract_address,
            artifact=art,
            tx_hash=result.tx_hash,
            block_number=result.block_number,
        )

    def has_code(self, address: str, block: BlockIdentifier = "latest") -> bool:
        """Whether ``address`` is a contract (a smart wallet) rather than a plain key."""
        code = self._rpc(
            lambda: self.w3.eth.get_code(to_checksum_address(address), block_identifier=block)
        )
        return len(bytes(code)) > 0

    def is_valid_signature(
        self, account: str, digest: bytes, signature: bytes, block: BlockIdentifier = "latest"
    ) -> bool:
        """Whether contract ``account`` accepts ``signature`` over ``digest`` (ERC-1271).

        Asked at the chain head (as a contract would ask it now) unless ``block``
        names another. A revert, a short answer or any first word but the magic
        value is a refusal (OpenZeppelin's
        ``SignatureChecker.isValidERC1271SignatureNow`` rule).
        """
        data = ERC1271_SELECTOR + abi_encode(["bytes32", "bytes"], [digest, signature])
        tx: TxParams = {"to": to_checksum_address(account), "data": data}
        try:
            answer = bytes(self._rpc(lambda: self.w3.eth.call(tx, block_identifier=block)))
        except ChainUnavailable:
            raise
        except Exception:
            return False
        return len(answer) >= 32 and answer[:32] == ERC1271_SELECTOR + bytes(28)

    def eip712_domain(self, contract: Contract) -> Domain:
        """The contract's EIP-712 domain as it reports it (ERC-5267)."""
        _fields, name, version, chain_id, verifying, _salt, _ext = self.call(
            contract, "eip712Domain"
        )
        return Domain(name, version, int(chain_id), verifying)

    def call(self, contract: Contract, fn: str, *args: Any, block: int | str = "latest") -> Any:
        """A read-only call; reverts raise the typed exception.

        A read pinned to a block the node cannot answer for is read again: at
        that block once the node has it (a head that was just mined elsewhere),
        else at the latest block (history pruned, as on ``anvil --prune-history``).
        Callers pin reads to see state no older than the block; every pinned
        read in Waymark is of state that never goes back once written.
        """
        func = contract.get_function_by_name(fn)(*args)
        if isinstance(block, int):
            try:  # asked once: a block the head has passed is answered now or never
                return self._call(func, block, retries=0)
            except StateUnavailable:
                if self.block_number() > block:
                    return self._call(func, "latest")  # history pruned
        try:
            return self._call(func, block)
        except StateUnavailable:
            if not isinstance(block, int):
                raise
        deadline = time.monotonic() + PINNED_READ_WAIT_SECONDS
        while self.block_number() < block and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.block_number() >= block:
            try:
                return self._call(func, block)
            except StateUnavailable:
                pass
        return self._call(func, "latest")

    def _call(self, func: Any, block: int | str, *, retries: int = STATE_RETRIES) -> Any:
        return self._typed(lambda: func.call(block_identifier=block), retries=retries)

    def transact(self, contract: Contract, fn: str, *args: Any, gas: int | None = None) -> TxResult:
        """Send ``contract.fn(*args)`` from the relayer and wait for its receipt."""
        data = contract.encode_abi(fn, args=list(args))
        return self.transact_raw({"to": contract.address, "data": data}, gas=gas)

    def encode(self, contract: Contract, fn: str, *args: Any) -> str:
        return str(contract.encode_abi(fn, args=list(args)))

    def transact_raw(self, tx: dict[str, Any], *, gas: int | None = None) -> TxResult:
        sent = self.send(tx, gas=gas)
        return self.wait(sent.tx_hash)

    # -- sending -----------------------------------------------------------

    def estimate_gas(self, tx: dict[str, Any]) -> int:
        params = {"from": self.address, **tx}
        return int(self._typed(lambda: self.w3.eth.estimate_gas(params)))  # type: ignore[arg-type]

    def simulate(self, tx: dict[str, Any]) -> None:
        """Run ``tx`` as a call against the latest state: a revert raises the typed
        exception. One execution, where an estimate searches (a node's binary search,
        eth-tester's run and check): the check before a write is queued, whose gas is
        estimated again when it is sent."""
        params = {"from": self.address, **tx}
        self._typed(lambda: self.w3.eth.call(params))  # type: ignore[arg-type]

    def gas_limit(self, tx: dict[str, Any]) -> int:
        """The gas to sign ``tx`` with: the estimate plus a margin (a revert raises here)."""
        return self.estimate_gas(tx) * 12 // 10 + 10_000

    @contextlib.contextmanager
    def hold_nonces(self) -> Iterator[None]:
        """Keep this client's own sends out while a caller picks and uses a nonce itself."""
        with self._nonce_lock:
            try:
                yield
            finally:
                self._next_nonce = None  # the caller used one: read the node's count again

    def fees(self) -> tuple[int, int]:
        """(maxFeePerGas, maxPriorityFeePerGas) for the next block, EIP-1559 style."""
        base = int(self._rpc(lambda: self.w3.eth.get_block("latest")).get("baseFeePerGas", 0))
        tip = self.priority_fee_wei
        return 2 * base + tip, tip

    def send(
        self,
        tx: dict[str, Any],
        *,
        gas: int | None = None,
        nonce: int | None = None,
        fee_bump_percent: int = 0,
        before_broadcast: Callable[[SentTransaction], None] | None = None,
    ) -> SentTransaction:
        """Sign and broadcast; a revert at estimation raises before anything is sent.

        ``before_broadcast`` sees the signed transaction (its hash and nonce)
        before the node does, so a caller can record the hash durably first:
        a crash can then never leave a transaction on the chain that its
        sender does not know about.
        """
        if gas is None:
            gas = self.gas_limit(tx)
        with self._nonce_lock:
            use_nonce = self._take_nonce() if nonce is None else nonce
            try:
                signed = self.sign(tx, nonce=use_nonce, gas=gas, fee_bump_percent=fee_bump_percent)
                if before_broadcast is not None:
                    before_broadcast(signed)
                self.broadcast(signed)
            except BaseException:
                self._next_nonce = None  # resync from the node on the next send
                raise
        return signed

    def sign(
        self,
        tx: dict[str, Any],
        *,
        nonce: int,
        gas: int | None = None,
        fee_bump_percent: int = 0,
        fees: tuple[int, int] | None = None,
    ) -> SentTransaction:
        """Sign ``tx`` from the relayer with ``nonce`` (not sent).

        Fees are the current EIP-1559 ones unless ``fees`` (max fee, tip) are
        given; signing is deterministic, so the same fields give the same hash.
        """
        if gas is None:
            gas = self.gas_limit(tx)
        max_fee, tip = self.fees() if fees is None else fees
        if fee_bump_percent:
            max_fee = max_fee * (100 + fee_bump_percent) // 100
            tip = tip * (100 + fee_bump_percent) // 100 + 1
        params: TxParams = {
            "from": self.address,
            "chainId": self.chain_id,
            "nonce": nonce,  # type: ignore[typeddict-item]
            "gas": gas,
            "maxFeePerGas": max_fee,  # type: ignore[typeddict-item]
            "maxPriorityFeePerGas": tip,  # type: ignore[typeddict-item]
            "value": tx.get("value", 0),
            "data": tx["data"],
            "type": 2,
        }
        if tx.get("to"):
            params["to"] = to_checksum_address(tx["to"])
        signed = self.account.sign_transaction(params)  # type: ignore[arg-type]
        return SentTransaction(
            tx_hash="0x" + bytes(signed.hash).hex(),
            nonce=nonce,
            max_fee_per_gas=max_fee,
            max_priority_fee_per_gas=tip,
            params={k: v for k, v in params.items() if k != "from"},
            raw=bytes(signed.raw_transaction),
        )

    def broadcast(self, signed: SentTransaction) -> None:
        """Hand a signed transaction to the node; one it already holds is fine.

        Raises ``NonceTooLow`` when the nonce is used (by this transaction, mined
        already, or by another one: the receipt tells which).
        """
        try:
            self._rpc(lambda: self.w3.eth.send_raw_transaction(signed.raw))
        except (ContractRevert, ChainUnavailable):
            raise
        except Exception as exc:
            if any(words in str(exc).lower() for words in ALREADY_KNOWN):
                return
            raise self._translate(exc) from exc

    def is_known(self, tx_hash: str) -> bool:
        """Whether the node holds the transaction (pending or mined)."""
        try:
            tx = self._rpc(lambda: self.w3.eth.get_transaction(tx_hash))  # type: ignore[arg-type]
        except TransactionNotFound:
            return False
        return tx is not None

    def transaction(self, tx_hash: str) -> tuple[str, bytes] | None:
        """``(sender, input data)`` of a transaction the node holds, else None."""
        try:
            tx = self._rpc(lambda: self.w3.eth.get_transaction(tx_hash))  # type: ignore[arg-type]
        except TransactionNotFound:
            return None
        if tx is None:
            return None
        return str(tx["from"]), bytes(tx["input"])

    def _take_nonce(self) -> int:
        if self._next_nonce is None:
            self._next_nonce = int(
                self._rpc(
                    lambda: self.w3.eth.get_transaction_count(self.account.address, "pending")
                )
            )
        nonce = self._next_nonce
        self._next_nonce += 1
        return nonce

    def transaction_count(self, block: str = "latest") -> int:
        """The relayer's nonce as of ``block`` (``latest``: mined; ``pending``: incl. mempool)."""
        return int(
            self._rpc(lambda: self.w3.eth.get_transaction_count(self.account.address, block))  # type: ignore[arg-type]
        )

    def reset_nonce(self) -> None:
        """Forget the cached nonce (after a revert to snapshot or a node restart)."""
        with self._nonce_lock:
            self._next_nonce = None

    def receipt(self, tx_hash: str) -> TxResult | None:
        """The receipt if mined, else None."""
        try:
            rcpt = self._rpc(lambda: self.w3.eth.get_transaction_receipt(tx_hash))  # type: ignore[arg-type]
        except TransactionNotFound:
            return None
        if rcpt is None:
            return None
        return self._result(rcpt)

    def wait(self, tx_hash: str, timeout: float | None = None) -> TxResult:
        """Wait for the receipt; raise the decoded revert if the transaction failed."""
        limit = self.receipt_timeout if timeout is None else timeout
        try:
            rcpt = self._rpc(
                lambda: self.w3.eth.wait_for_transaction_receipt(
                    tx_hash,  # type: ignore[arg-type]
                    timeout=limit,
                    poll_latency=0.05,
                )
            )
        except TimeExhausted as exc:
            raise TransactionTimeout(tx_hash, limit) from exc
        result = self._result(rcpt)
        if result.status != 1:
            raise self._replay_revert(tx_hash, rcpt) or TransactionDropped(tx_hash)
        return result

    def _result(self, rcpt: Any) -> TxResult:
        addr = rcpt.get("contractAddress")
        return TxResult(
            tx_hash="0x" + bytes(rcpt["transactionHash"]).hex(),
            block_number=int(rcpt["blockNumber"]),
            block_hash="0x" + bytes(rcpt["blockHash"]).hex(),
            chain_id=self.chain_id,
            gas_used=int(rcpt["gasUsed"]),
            status=int(rcpt["status"]),
            events=self.decoder.decode_logs(self.w3, rcpt["logs"]),
            contract_address=to_checksum_address(addr) if addr else None,
        )

    def _replay_revert(self, tx_hash: str, rcpt: Any) -> ContractRevert | None:
        tx = self.w3.eth.get_transaction(tx_hash)  # type: ignore[arg-type]
        call = {"from": tx["from"], "to": tx.get("to"), "data": tx["input"], "value": tx["value"]}
        # The state before the transaction's block; a node that pruned it answers
        # for the latest block, which reverts alike unless the cause has gone.
        for block in (int(rcpt["blockNumber"]) - 1, "latest"):
            try:
                self.w3.eth.call(call, block_identifier=block)  # type: ignore[arg-type]
            except Exception as exc:
                data = revert_data(exc)
                if data:
                    return self.decoder.exception(data)
                if isinstance(node_error(exc), StateUnavailable):
                    continue
                return None
            return None
        return None

    # -- logs --------------------------------------------------------------

    def get_logs(
        self,
        addresses: list[str],
        from_block: int,
        to_block: int,
        *,
        topics: Sequence[Any] | None = None,
    ) -> list[DecodedEvent]:
        """Decoded logs of ``addresses`` in the inclusive block range, narrowed by the
        node to ``topics`` (``eth_getLogs`` positions: bytes, a list of them, or None).

        Raises ``LogRangeTooLarge`` when the node refuses the range as too wide.
        """
        flt: dict[str, Any] = {
            "address": [to_checksum_address(a) for a in addresses],
            "fromBlock": from_block,
            "toBlock": to_block,
        }
        if topics is not None:
            flt["topics"] = [_topic_filter(t) for t in topics]
        try:
            logs = self._rpc(lambda: self.w3.eth.get_logs(flt))  # type: ignore[arg-type]
        except ChainError:
            raise
        except Exception as exc:
            text = str(exc).lower()
            if any(words in text for words in LOG_RANGE_ERRORS):
                raise LogRangeTooLarge(str(exc)) from exc
            raise
        return self.decoder.decode_logs(self.w3, logs)

    # -- test controls -----------------------------------------------------

    def snapshot(self) -> Any:
        """Take an EVM snapshot (``evm_snapshot``: eth-tester and anvil alike)."""
        return self._request("evm_snapshot", [])

    def revert(self, snapshot_id: Any) -> None:
        """Return to a snapshot; anvil consumes it, so take a new one afterwards."""
        self._request("evm_revert", [snapshot_id])
        self.reset_nonce()

    def mine(self, blocks: int = 1) -> None:
        if self._tester is not None:
            # py-evm is not thread-safe: mine under the same lock as every RPC call.
            with _TESTER_LOCK:
                self._tester.mine_blocks(blocks)
        else:
            self._request("anvil_mine", [hex(blocks)])

    def advance_time(self, seconds: int) -> int:
        """Move the chain clock forward and mine a block at the new time."""
        now = self.block()["timestamp"]
        target = now + int(seconds)
        if self._tester is not None:
            with _TESTER_LOCK:
                self._tester.time_travel(target)
        else:
            self._request("evm_setNextBlockTimestamp", [target])
            self._request("evm_mine", [])
        return target

    def rpc(self, method: str, params: list[Any]) -> Any:
        """A JSON-RPC call (``eth_call``, ``eth_getTransactionReceipt``…); its result.

        Goes through web3's request formatters, so in-process providers answer
        bytes and ints where an HTTP node answers hex strings.
        """
        return self._rpc(lambda: self.w3.manager.request_blocking(method, params))  # type: ignore[arg-type]

    def _request(self, method: str, params: list[Any]) -> Any:
        resp = self._rpc(lambda: self.w3.provider.make_request(method, params))  # type: ignore[arg-type]
        if resp.get("error"):
            raise ChainUnavailable(f"{method} failed: {resp['error']}")
        return resp.get("result")

    # -- error handling ----------------------------------------------------

    def _translate(self, exc: BaseException) -> Exception:
        data = revert_data(exc)
        if data is not None and len(data) >= 4:
            return self.decoder.exception(data)
        typed = node_error(exc)
        if typed is not None:
            return typed
        if isinstance(exc, ContractLogicError):
            return RevertWithReason({"reason": str(exc)})
        if exc.__class__.__name__ == "TransactionFailed":
            return RevertWithReason({"reason": str(exc)})
        return exc if isinstance(exc, Exception) else Exception(str(exc))

    def _typed(self, thunk: Any, *, retries: int = STATE_RETRIES) -> Any:
        """:meth:`_rpc`, with every other failure turned into the typed chain error."""
        try:
            return self._rpc(thunk, retries=retries)
        except ContractRevert:
            raise
        except Exception as exc:
            raise self._translate(exc) from exc

    def _rpc(self, thunk: Any, *, retries: int = STATE_RETRIES) -> Any:
        if self._tester is not None:
            with _TESTER_LOCK:
                return self._rpc_unlocked(thunk, retries)
        return self._rpc_unlocked(thunk, retries)

    def _rpc_unlocked(self, thunk: Any, retries: int = STATE_RETRIES) -> Any:
        # A node that prunes history can refuse even a read of the latest block
        # while it mines the next one ("block height is n+1 but requested was n"):
        # asked again a moment later, it answers.
        for attempt in range(retries + 1):
            try:
                return thunk()
            except (ConnectionError, OSError) as exc:
                raise ChainUnavailable(str(exc)) from exc
            except Exception as exc:
                if _is_transport_error(exc):
                    raise ChainUnavailable(str(exc)) from exc
                data = revert_data(exc)
                if data is not None and len(data) >= 4:
                    raise self.decoder.exception(data) from exc
                if attempt < retries and isinstance(node_error(exc), StateUnavailable):
                    time.sleep(0.05 * (attempt + 1))
                    continue
                raise
        raise AssertionError("unreachable")


def _is_transport_error(exc: BaseException) -> bool:
    # requests/aiohttp errors are not OSError subclasses in every version.
    mod = type(exc).__module__
    return mod.startswith(("requests", "urllib3", "aiohttp")) or "Timeout" in type(exc).__name__


def account_from_key(key: str) -> LocalAccount:
    return Account.from_key(key)
