"""Revert data decoded into typed exceptions with their arguments."""

from __future__ import annotations

from eth_abi import encode
from eth_utils import keccak

from backend.chain.client import ErrorDecoder, revert_data
from backend.chain.compiler import Artifact
from backend.chain.errors import (
    ContractRevert,
    Panic,
    RevertWithReason,
    UnknownRevert,
    revert_class,
)


def _selector(sig: str) -> bytes:
    return keccak(text=sig)[:4]


def test_custom_error_decodes_to_named_class_with_arguments(
    artifacts: dict[str, Artifact],
) -> None:
    decoder = ErrorDecoder(artifacts.values())
    account = "0x" + "ab" * 20
    role = keccak(text="REGISTRAR_ROLE")
    data = _selector("AccessControlUnauthorizedAccount(address,bytes32)") + encode(
        ["address", "bytes32"], [account, role]
    )
    exc = decoder.exception(data)
    assert type(exc) is revert_class("AccessControlUnauthorizedAccount")
    assert exc.account.lower() == account
    assert exc.neededRole == role
    assert exc.to_dict() == {
        "error": "AccessControlUnauthorizedAccount",
        "arguments": {"account": exc.account, "neededRole": "0x" + role.hex()},
    }


def test_error_string_panic_and_unknown_selector(artifacts: dict[str, Artifact]) -> None:
    decoder = ErrorDecoder(artifacts.values())
    reason = decoder.exception(_selector("Error(string)") + encode(["string"], ["nope"]))
    assert isinstance(reason, RevertWithReason)
    assert reason.reason == "nope"
    panic = decoder.exception(_selector("Panic(uint256)") + encode(["uint256"], [0x11]))
    assert isinstance(panic, Panic)
    assert panic.code == 0x11
    unknown = decoder.exception(b"\xde\xad\xbe\xef")
    assert isinstance(unknown, UnknownRevert)
    assert unknown.selector == "0xdeadbeef"


def test_revert_class_is_stable_and_a_contract_revert() -> None:
    cls = revert_class("ShipmentUnknown")
    assert cls is revert_class("ShipmentUnknown")
    assert issubclass(cls, ContractRevert)
    assert cls.__name__ == "ShipmentUnknown"


def test_revert_data_reads_rpc_hex_and_tester_repr() -> None:
    class RpcError(Exception):
        data = "0xdeadbeef"

    assert revert_data(RpcError()) == b"\xde\xad\xbe\xef"
    tester = Exception("execution reverted: b'\\xde\\xad\\xbe\\xef'")
    assert revert_data(tester) == b"\xde\xad\xbe\xef"
    assert revert_data(Exception("connection refused")) is None
