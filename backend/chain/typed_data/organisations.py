"""EIP-712 structs of ``OrganisationRegistry``: key consent and delegated key admin."""

from __future__ import annotations

from backend.chain.eip712 import StructType

KEY_CONSENT = StructType(
    "KeyConsent",
    (
        ("bytes32", "orgId"),
        ("address", "key"),
        ("uint32", "roles"),
    ),
)

ADD_KEY = StructType(
    "AddKey",
    (
        ("bytes32", "orgId"),
        ("address", "key"),
        ("uint32", "roles"),
        ("address", "admin"),
        ("uint256", "nonce"),
        ("uint256", "deadline"),
    ),
)

REVOKE_KEY = StructType(
    "RevokeKey",
    (
        ("address", "key"),
        ("address", "admin"),
        ("uint256", "nonce"),
        ("uint256", "deadline"),
    ),
)

#: Contract constant name → struct, for the TYPEHASH test.
TYPEHASH_CONSTANTS: dict[str, StructType] = {
    "KEY_CONSENT_TYPEHASH": KEY_CONSENT,
    "ADD_KEY_TYPEHASH": ADD_KEY,
    "REVOKE_KEY_TYPEHASH": REVOKE_KEY,
}
