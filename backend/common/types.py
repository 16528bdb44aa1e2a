"""Validated field types for hex data (bytes32, addresses, signatures)."""

from __future__ import annotations

import re
from typing import Annotated

from eth_utils import to_checksum_address
from pydantic import AfterValidator, Field

_HEX = re.compile(r"^0x[0-9a-fA-F]*$")


def _hex_of(n: int, what: str) -> AfterValidator:
    def check(value: str) -> str:
        if not _HEX.fullmatch(value) or len(value) != 2 + 2 * n:
            raise ValueError(f"{what} must be 0x followed by {2 * n} hex digits")
        return value.lower()

    return AfterValidator(check)


def _address(value: str) -> str:
    if not _HEX.fullmatch(value) or len(value) != 42:
        raise ValueError("address must be 0x followed by 40 hex digits")
    mixed_case = value[2:] not in (value[2:].lower(), value[2:].upper())
    if mixed_case and to_checksum_address(value) != value:
        raise ValueError("address has an invalid EIP-55 checksum")
    return str(to_checksum_address(value))


Bytes32Hex = Annotated[str, Field(max_length=66), _hex_of(32, "bytes32")]
SignatureHex = Annotated[str, Field(max_length=132), _hex_of(65, "signature")]
EthAddress = Annotated[str, Field(max_length=42), AfterValidator(_address)]
