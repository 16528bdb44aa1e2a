"""The fast EIP-55 checksum used by signature recovery equals eth-utils'."""

from __future__ import annotations

from eth_utils import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.chain.eip712 import checksum_address


@given(st.binary(min_size=20, max_size=20))
@settings(max_examples=200)
def test_checksum_address_matches_eth_utils(raw: bytes) -> None:
    assert checksum_address(raw) == to_checksum_address(raw)
