"""The hex field types: 0x-hex in, bytes inside, 0x-hex out; bad hex refused with its reason."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import JsonSchemaMode

from backend.common.types import (
    MAX_WALLET_SIGNATURE_BYTES,
    Bytes32,
    EthAddress,
    HexBytes,
    Signature,
    WalletSignature,
    hex_bytes,
    parse_address,
    to_hex,
)
from tests.helpers import BAD_ADDRESSES, CHECKSUMMED

ID = "0x" + "ab" * 32
SIG = "0x" + "11" * 65


class Body(BaseModel):
    id: Bytes32
    data: HexBytes = b""
    signature: Signature
    wallet: WalletSignature = b""


def _body(**fields: object) -> Body:
    return Body.model_validate_json(json.dumps({"id": ID, "signature": SIG, **fields}))


def _reason(**fields: object) -> str:
    with pytest.raises(ValidationError) as info:
        _body(**fields)
    (error,) = info.value.errors()
    return f"{'.'.join(map(str, error['loc']))}: {error['msg']}"


def test_hex_parses_into_bytes_and_prints_back_as_lower_case_hex() -> None:
    body = _body(id=ID.upper(), data="0x00ff", wallet="0x" + "22" * 100)
    assert body.id == bytes.fromhex("ab" * 32)
    assert body.data == b"\x00\xff"
    assert body.signature == b"\x11" * 65
    assert len(body.wallet) == 100
    out = json.loads(body.model_dump_json())
    assert out == {"id": ID, "data": "0x00ff", "signature": SIG, "wallet": "0x" + "22" * 100}


def test_bytes_are_taken_as_they_are() -> None:
    body = Body(id=bytes(32), signature=bytes(65))
    assert body.id == bytes(32)
    assert body.model_dump()["id"] == "0x" + "00" * 32


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"id": "0x" + "ab" * 31}, "id: Value error, bytes32 must be 32 bytes, got 31"),
        ({"id": "0x" + "ab" * 33}, "id: Value error, bytes32 must be 32 bytes, got 33"),
        ({"id": "ab" * 32}, "id: Value error, bytes32 must be 0x-prefixed hex"),
        ({"id": "0x" + "zz" * 32}, "id: Value error, bytes32 must be 0x followed by hex digits"),
        (
            {"id": "0x" + "a" * 63},
            "id: Value error, bytes32 must have an even number of hex digits",
        ),
        ({"id": 12}, "id: Value error, bytes32 must be a 0x-hex string"),
        ({"id": None}, "id: Value error, bytes32 must be a 0x-hex string"),
        ({"data": "0x123"}, "data: Value error, hex must have an even number of hex digits"),
        (
            {"signature": "0x" + "11" * 64},
            "signature: Value error, signature must be 65 bytes, got 64",
        ),
        (
            {"wallet": "0x" + "22" * (MAX_WALLET_SIGNATURE_BYTES + 1)},
            "wallet: Value error, signature must be 0 to 2047 bytes, got 2048",
        ),
    ],
)
def test_bad_hex_is_refused_with_its_reason(fields: dict[str, object], reason: str) -> None:
    assert _reason(**fields) == reason


def test_an_over_long_value_is_refused_before_it_is_decoded() -> None:
    # A megabyte of hex for a bytes32 is judged by its length alone.
    assert _reason(id="0x" + "zz" * 500_000).endswith("bytes32 must be 32 bytes, got 500000")


def test_the_json_schema_shows_the_string_clients_send() -> None:
    modes: tuple[JsonSchemaMode, ...] = ("validation", "serialization")
    for mode in modes:
        props = Body.model_json_schema(mode=mode)["properties"]
        assert props["id"]["type"] == "string"
        assert props["id"]["pattern"] == "^0x[0-9a-fA-F]{64}$"
        assert props["signature"]["pattern"] == "^0x[0-9a-fA-F]{130}$"
        assert props["data"]["pattern"] == "^0x([0-9a-fA-F]{2}){0,}$"
        assert props["wallet"]["maxLength"] == 2 + 2 * MAX_WALLET_SIGNATURE_BYTES


def test_to_hex_and_hex_bytes_are_inverse() -> None:
    raw = bytes(range(40))
    assert hex_bytes(to_hex(raw)) == raw
    assert to_hex(bytearray(b"\x01")) == "0x01"


def test_spaces_inside_the_hex_are_refused() -> None:
    # bytes.fromhex skips spaces; the field must not.
    assert _reason(data="0xab  cd") == "data: Value error, hex must be 0x followed by hex digits"
    assert _reason(id="0x" + "ab" * 31 + " a") == (
        "id: Value error, bytes32 must be 0x followed by hex digits"
    )


class Party(BaseModel):
    signer: EthAddress


def test_an_address_is_returned_checksummed_whatever_its_case() -> None:
    for given in (CHECKSUMMED, CHECKSUMMED.lower(), "0x" + CHECKSUMMED[2:].upper()):
        assert parse_address(given, "signer") == CHECKSUMMED
        assert Party.model_validate({"signer": given}).signer == CHECKSUMMED


@pytest.mark.parametrize(
    ("value", "fault"),
    [
        *BAD_ADDRESSES,
        ("0x" + "a" * 39, "must have an even number of hex digits"),
        (None, "must be a 0x-hex string"),
    ],
)
def test_a_bad_address_is_refused_naming_the_field_and_the_fault(value: object, fault: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_address(value, "events[].signer")
    assert str(info.value) == f"events[].signer {fault}"
    if isinstance(value, str) and len(value) <= 42:  # the request type's rule is the same
        with pytest.raises(ValidationError) as refused:
            Party.model_validate({"signer": value})
        assert refused.value.errors()[0]["msg"] == f"Value error, address {fault}"
