"""EIP-712 digests match eth-account; recovery is strict about signature form."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak

from backend.chain import eip712
from backend.chain.eip712 import Domain, SignatureInvalid, StructType

LEG = StructType("Leg", (("string", "mode"), ("uint32", "km")))
MAIL = StructType(
    "Mail",
    (
        ("address", "from"),
        ("bytes32", "id"),
        ("uint256[]", "amounts"),
        ("bytes", "blob"),
        ("Leg", "leg"),
    ),
    deps=(LEG,),
)
DOMAIN = Domain("Waymark", "1.0.0", 31337, "0x" + "cc" * 20)
MESSAGE = {
    "from": "0x" + "aa" * 20,
    "id": b"\x01" * 32,
    "amounts": [1, 2, 3],
    "blob": b"hello",
    "leg": {"mode": "sea", "km": 9000},
}
KEY = "0x" + "42" * 32


def test_type_string_lists_dependencies_after_primary() -> None:
    assert MAIL.type_string == (
        "Mail(address from,bytes32 id,uint256[] amounts,bytes blob,Leg leg)Leg(string mode,uint32 km)"
    )
    assert MAIL.typehash == keccak(text=MAIL.type_string)


def test_digest_matches_eth_account_typed_data() -> None:
    payload = eip712.typed_data_payload(DOMAIN, MAIL, MESSAGE)
    signable = encode_typed_data(full_message=payload)
    expected = keccak(b"\x19" + signable.version + signable.header + signable.body)
    assert eip712.digest(DOMAIN, MAIL, MESSAGE) == expected


def test_sign_and_recover_roundtrip() -> None:
    sig = eip712.sign(KEY, DOMAIN, MAIL, MESSAGE)
    assert (
        eip712.recover(eip712.digest(DOMAIN, MAIL, MESSAGE), sig) == Account.from_key(KEY).address
    )


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda s: s[:64], "65 bytes"),
        (lambda s: s[:64] + bytes([s[64] - 27]), "v must be 27 or 28"),
        (lambda s: bytes(32) + s[32:], "zero"),
        (lambda s: s[:32] + bytes(32) + s[64:], "zero"),
        (
            lambda s: (
                s[:32]
                + (eip712.SECP256K1_N - int.from_bytes(s[32:64], "big")).to_bytes(32, "big")
                + bytes([55 - s[64]])
            ),
            "malleable",
        ),
    ],
)
def test_recover_rejects_malformed_signatures(mutate, reason) -> None:  # type: ignore[no-untyped-def]
    digest = eip712.digest(DOMAIN, MAIL, MESSAGE)
    sig = eip712.sign(KEY, DOMAIN, MAIL, MESSAGE)
    with pytest.raises(SignatureInvalid, match=reason):
        eip712.recover(digest, mutate(sig))
