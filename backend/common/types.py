"""Validated field types for hex data (bytes32, addresses, signatures) and the two conversions."""

from __future__ import annotations

import re
from typing import Annotated

from eth_utils import to_checksum_address
from pydantic import AfterValidator, Field, StringConstraints

_HEX = re.compile(r"^0x[0-9a-fA-F]*$")


def _address(value: str) -> str:
    if not _HEX.fullmatch(value) or len(value) != 42:
        raise ValueError("address must be 0x followed by 40 hex digits")
    mixed_case = value[2:] not in (value[2:].lower(), value[2:].upper())
    if mixed_case and to_checksum_address(value) != value:
        raise ValueError("address has an invalid EIP-55 checksum")
    return str(to_checksum_address(value))


# Checked by pydantic-core's regex engine (no Python call per field): ingest
# validates four of these per event.
Bytes32Hex = Annotated[
    str,
    StringConstraints(to_lower=True, pattern=r"^0x[0-9a-f]{64}$"),
    Field(description="bytes32: 0x followed by 64 hex digits"),
]
SignatureHex = Annotated[
    str,
    StringConstraints(to_lower=True, pattern=r"^0x[0-9a-f]{130}$"),
    Field(description="65-byte signature r ‖ s ‖ v: 0x followed by 130 hex digits"),
]
EthAddress = Annotated[str, Field(max_length=42), AfterValidator(_address)]


def hex_bytes(value: str) -> bytes:
    """The bytes of an already validated ``0x``-hex string."""
    return bytes.fromhex(value.removeprefix("0x"))


def to_hex(value: bytes) -> str:
    """``0x``-hex of ``value`` (bytes, bytearray or web3's HexBytes), lower case."""
    return "0x" + bytes(value).hex()
