"""Validated field types for hex data (bytes32, addresses, signatures) and the two conversions.

Two kinds of hex field. The ``…Hex`` types keep the ``0x``-hex string (checked
by pydantic-core's regex engine, no Python call per field) for values the
service stores and shows as they came. The bytes types (:data:`Bytes32`,
:data:`HexBytes`, :data:`Signature`, :data:`WalletSignature`) parse ``0x``-hex
into ``bytes`` at the API boundary, so services take bytes, and print them back
as lower-case ``0x``-hex in responses; their JSON schema is the string pattern
clients send. Bad hex is a 422 naming the field and what was wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from eth_utils import to_checksum_address
from pydantic import AfterValidator, Field, PlainSerializer, PlainValidator, StringConstraints
from pydantic.json_schema import WithJsonSchema

#: An ERC-1271 wallet's signature is the wallet's to define; this bounds what is read.
MAX_WALLET_SIGNATURE_BYTES = 2047


# Checked by pydantic-core's regex engine (no Python call per field).
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


def hex_bytes(value: str | bytes | bytearray) -> bytes:
    """The bytes of an already validated ``0x``-hex string; bytes pass through (JSON-RPC
    over HTTP answers hex strings, in-process providers bytes)."""
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    return bytes.fromhex(value.removeprefix("0x"))


def to_hex(value: bytes | bytearray) -> str:
    """``0x``-hex of ``value`` (bytes, bytearray or web3's HexBytes), lower case."""
    return "0x" + bytes(value).hex()


def _parser(what: str, low: int, high: int | None) -> Any:
    """A validator turning ``0x``-hex of ``low``..``high`` bytes (or such bytes) into bytes."""
    if high == low:
        size = f"{low} bytes"
    elif high is None:
        size = f"at least {low} bytes"
    else:
        size = f"{low} to {high} bytes"

    def why(value: object) -> str:
        if not isinstance(value, str):
            return f"{what} must be a 0x-hex string"
        if value[:2] not in ("0x", "0X"):
            return f"{what} must be 0x-prefixed hex"
        digits = value[2:]
        if high is not None and len(digits) > 2 * high:
            return f"{what} must be {size}, got {len(digits) // 2}"
        if len(digits) % 2:
            return f"{what} must have an even number of hex digits"
        try:
            raw = bytes.fromhex(digits)
        except ValueError:
            raw = b""
        if 2 * len(raw) != len(digits):  # not hex, or spaces (which fromhex skips)
            return f"{what} must be 0x followed by hex digits"
        return f"{what} must be {size}, got {len(raw)}"

    def parse(value: object) -> bytes:
        # The common case first and cheap: ingest parses several per event.
        if type(value) is str and value[:2] in ("0x", "0X"):
            digits = value[2:]
            if (high is None or len(digits) <= 2 * high) and not len(digits) % 2:
                try:
                    raw = bytes.fromhex(digits)
                except ValueError:
                    raise ValueError(why(value)) from None
                if 2 * len(raw) == len(digits) and len(raw) >= low:
                    return raw
        elif isinstance(value, bytes | bytearray):
            if low <= len(value) and (high is None or len(value) <= high):
                return bytes(value)
            raise ValueError(f"{what} must be {size}, got {len(value)}")
        raise ValueError(why(value))

    return parse


def parse_hex(value: object, what: str, size: int | None = None) -> bytes:
    """``0x``-hex of exactly ``size`` bytes (of any length when ``None``) as bytes, for
    input that does not pass through a request model (the CLI's options and files);
    ``ValueError`` naming ``what`` and the fault otherwise, as the request types say it."""
    parse: Any = _parser(what, size or 0, size)
    return bytes(parse(value))


def parse_signature(value: object, what: str) -> bytes:
    """A key's 65-byte signature or a contract wallet's (up to
    ``MAX_WALLET_SIGNATURE_BYTES``), by the rule of :data:`WalletSignature`, for input that
    does not pass through a request model; ``ValueError`` naming ``what`` otherwise."""
    parse: Any = _parser(what, 0, MAX_WALLET_SIGNATURE_BYTES)
    return bytes(parse(value))


def _address_rule(what: str) -> Callable[[object], str]:
    """A validator turning ``0x`` + 40 hex digits into the EIP-55 checksummed address;
    a mixed-case address must carry the right checksum (all-lower or all-upper has none)."""
    parse = _parser(what, 20, 20)

    def address(value: object) -> str:
        checksummed = str(to_checksum_address(parse(value)))
        if isinstance(value, str):
            digits = value[2:]
            mixed_case = digits not in (digits.lower(), digits.upper())
            if mixed_case and digits != checksummed[2:]:
                raise ValueError(f"{what} has an invalid EIP-55 checksum")
        return checksummed

    return address


def parse_address(value: object, what: str) -> str:
    """An address, EIP-55 checksummed, by the rule of :data:`EthAddress`, for input that
    does not pass through a request model; ``ValueError`` naming ``what`` and the fault
    (not 20 bytes of ``0x``-hex, or a wrong checksum) otherwise."""
    return _address_rule(what)(value)


#: An address, returned EIP-55 checksummed; a mixed-case address with a wrong checksum is refused.
EthAddress = Annotated[str, Field(max_length=42), AfterValidator(_address_rule("address"))]
Address = EthAddress


def _hex_type(what: str, description: str, low: int, high: int | None) -> Any:
    if high == low:
        pattern = f"^0x[0-9a-fA-F]{{{2 * low}}}$"
    else:
        pattern = f"^0x([0-9a-fA-F]{{2}}){{{low},{'' if high is None else high}}}$"
    schema: dict[str, Any] = {"type": "string", "pattern": pattern, "description": description}
    if high is not None:
        schema["maxLength"] = 2 + 2 * high
    return Annotated[
        bytes,
        PlainValidator(_parser(what, low, high)),
        PlainSerializer(to_hex, return_type=str),
        WithJsonSchema(schema),
    ]


#: bytes32 (an id or a hash): ``0x`` + 64 hex digits in, ``bytes`` inside, ``0x``-hex out.
Bytes32 = _hex_type("bytes32", "bytes32: 0x followed by 64 hex digits", 32, 32)
#: Any whole number of bytes as ``0x``-hex (``0x`` alone is empty).
HexBytes = _hex_type("hex", "bytes: 0x followed by an even number of hex digits", 0, None)
#: An EOA's 65-byte signature ``r ‖ s ‖ v``.
Signature = _hex_type(
    "signature", "65-byte signature r ‖ s ‖ v: 0x followed by 130 hex digits", 65, 65
)
#: A key's 65-byte signature or an ERC-1271 wallet's, whose format is the wallet's own
#: (longer for a multi-owner wallet): any bytes up to a bound; the check decides.
WalletSignature = _hex_type(
    "signature",
    "signature: 65 bytes r ‖ s ‖ v from a key, or an ERC-1271 wallet's (often longer); 0x-hex",
    0,
    MAX_WALLET_SIGNATURE_BYTES,
)
