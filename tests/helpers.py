"""Shared test helpers."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from backend.chain.errors import ContractRevert


@contextlib.contextmanager
def reverts(error_name: str, **expected: Any) -> Iterator[pytest.ExceptionInfo[ContractRevert]]:
    """Assert the block reverts with custom error ``error_name`` and these arguments."""
    with pytest.raises(ContractRevert) as info:
        yield info
    err = info.value
    assert err.error_name == error_name, f"expected {error_name}, got {err}"
    for key, value in expected.items():
        assert key in err.arguments, f"{error_name} has no argument {key}: {err.arguments}"
        actual = err.arguments[key]
        if isinstance(value, str) and isinstance(actual, str):
            assert actual.lower() == value.lower(), f"{key}: {actual} != {value}"
        else:
            assert actual == value, f"{key}: {actual!r} != {value!r}"


def miscased(address: str) -> str:
    """``address`` with the case of its first letter turned: mixed case, a wrong EIP-55 checksum."""
    at = next(i for i, c in enumerate(address) if i > 1 and c.isalpha())
    return address[:at] + address[at].swapcase() + address[at + 1 :]


#: EIP-55's own example: a mixed-case address whose case carries the checksum.
CHECKSUMMED = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
#: Malformed addresses and the fault the one address rule names after the field.
BAD_ADDRESSES = [
    ("0x" + "ab" * 19, "must be 20 bytes, got 19"),
    ("0x" + "ab" * 21, "must be 20 bytes, got 21"),
    ("ab" * 20, "must be 0x-prefixed hex"),
    ("0x" + "zz" * 20, "must be 0x followed by hex digits"),
    (miscased(CHECKSUMMED), "has an invalid EIP-55 checksum"),
]
#: Malformed bytes32 values and the fault the hex rule names after the field.
BAD_BYTES32 = [
    ("0x" + "ab" * 31, "must be 32 bytes, got 31"),
    ("0x" + "ab" * 33, "must be 32 bytes, got 33"),
    ("ab" * 32, "must be 0x-prefixed hex"),
    ("0x" + "zz" * 32, "must be 0x followed by hex digits"),
]
