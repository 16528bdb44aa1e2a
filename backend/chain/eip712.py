"""EIP-712 hashing, signing and fast recovery, shared by every signed message.

Struct definitions live in :mod:`backend.chain.typed_data`; this module only
knows the EIP-712 rules. Digests are computed directly (``encodeData`` with
eth-abi and keccak) so that verifying thousands of events per second costs one
keccak chain and one coincurve recovery each.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from coincurve import PublicKey
from eth_abi import encode
from eth_account import Account
from eth_account.messages import defunct_hash_message
from eth_hash.auto import keccak
from eth_utils import to_checksum_address

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
SECP256K1_HALF_N = SECP256K1_N // 2


class SignatureInvalid(ValueError):
    """The signature bytes are malformed or do not recover to an address."""


@dataclass(frozen=True)
class StructType:
    """One EIP-712 struct: ``name`` and ordered ``(type, name)`` fields.

    Fields may be atomic types (uintN, intN, address, bool, bytesN), ``bytes``,
    ``string``, arrays of those (``bytes32[]``), or another ``StructType`` given in
    ``deps`` (referenced by name).
    """

    name: str
    fields: tuple[tuple[str, str], ...]
    deps: tuple[StructType, ...] = ()

    def _all_deps(self) -> dict[str, StructType]:
        out: dict[str, StructType] = {}
        for dep in self.deps:
            out[dep.name] = dep
            out.update(dep._all_deps())
        return out

    def _own(self) -> str:
        return f"{self.name}({','.join(f'{t} {n}' for t, n in self.fields)})"

    @property
    def type_string(self) -> str:
        """``encodeType``: this struct then its dependencies sorted by name."""
        deps = self._all_deps()
        return self._own() + "".join(deps[k]._own() for k in sorted(deps))

    @property
    def typehash(self) -> bytes:
        return keccak(self.type_string.encode())

    def hash_struct(self, message: Mapping[str, Any]) -> bytes:
        """``hashStruct(message)`` per EIP-712."""
        deps = self._all_deps()
        types = ["bytes32"]
        values: list[Any] = [self.typehash]
        for typ, name in self.fields:
            enc_t, enc_v = _encode_field(typ, message[name], deps)
            types.append(enc_t)
            values.append(enc_v)
        return keccak(encode(types, values))

    def eip712_types(self) -> dict[str, list[dict[str, str]]]:
        """The ``types`` member of an ``eth_signTypedData_v4`` payload."""
        out = {
            s.name: [{"name": n, "type": t} for t, n in s.fields]
            for s in [self, *self._all_deps().values()]
        }
        out["EIP712Domain"] = [
            {"name": "name", "type": "string"},
            {"name": "version", "type": "string"},
            {"name": "chainId", "type": "uint256"},
            {"name": "verifyingContract", "type": "address"},
        ]
        return out


def _encode_field(typ: str, value: Any, deps: dict[str, StructType]) -> tuple[str, Any]:
    if typ.endswith("[]"):
        inner = typ[:-2]
        parts = [_encode_field(inner, v, deps) for v in value]
        return "bytes32", keccak(encode([p[0] for p in parts], [p[1] for p in parts]))
    if typ in deps:
        return "bytes32", deps[typ].hash_struct(value)
    if typ == "string":
        return "bytes32", keccak(value.encode() if isinstance(value, str) else value)
    if typ == "bytes":
        return "bytes32", keccak(_as_bytes(value))
    if typ.startswith("bytes"):
        return typ, _as_bytes(value)
    if typ == "address":
        return typ, to_checksum_address(value)
    return typ, value


def _as_bytes(value: Any) -> bytes:
    if isinstance(value, str):
        return bytes.fromhex(value.removeprefix("0x"))
    return bytes(value)


@dataclass(frozen=True)
class Domain:
    """An EIP-712 domain, normally read from the contract's ``eip712Domain()``."""

    name: str
    version: str
    chain_id: int
    verifying_contract: str

    @property
    def separator(self) -> bytes:
        return keccak(
            encode(
                ["bytes32", "bytes32", "bytes32", "uint256", "address"],
                [
                    keccak(
                        b"EIP712Domain(string name,string version,uint256 chainId,"
                        b"address verifyingContract)"
                    ),
                    keccak(self.name.encode()),
                    keccak(self.version.encode()),
                    self.chain_id,
                    to_checksum_address(self.verifying_contract),
                ],
            )
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "chainId": self.chain_id,
            "verifyingContract": to_checksum_address(self.verifying_contract),
        }


def digest(domain: Domain, struct: StructType, message: Mapping[str, Any]) -> bytes:
    """The 32 bytes a signer signs: ``keccak(0x1901 ‖ domainSeparator ‖ hashStruct)``."""
    return keccak(b"\x19\x01" + domain.separator + struct.hash_struct(message))


def sign(
    private_key: str | bytes, domain: Domain, struct: StructType, message: Mapping[str, Any]
) -> bytes:
    """65-byte ``r ‖ s ‖ v`` signature (v in {27, 28}, low-s)."""
    signed = Account.unsafe_sign_hash(digest(domain, struct, message), private_key)
    return bytes(signed.signature)


def recover(digest_bytes: bytes, signature: bytes) -> str:
    """Signer address of a 65-byte signature, via coincurve; strict about form.

    Rejects what ``ECDSA.recover`` in OpenZeppelin rejects: lengths other than
    65, v outside {27, 28}, r or s zero, and high-s (malleable) signatures.
    """
    if len(signature) != 65:
        raise SignatureInvalid(f"signature must be 65 bytes, got {len(signature)}")
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:64], "big")
    v = signature[64]
    if v not in (27, 28):
        raise SignatureInvalid(f"signature v must be 27 or 28, got {v}")
    if r == 0 or s == 0 or r >= SECP256K1_N:
        raise SignatureInvalid("signature r or s is zero or out of range")
    if s > SECP256K1_HALF_N:
        raise SignatureInvalid("signature s is in the upper half order (malleable form)")
    try:
        pub = PublicKey.from_signature_and_message(
            signature[:64] + bytes([v - 27]), digest_bytes, hasher=None
        )
    except Exception as exc:  # coincurve raises plain Exception on bad points
        raise SignatureInvalid(f"signature does not recover: {exc}") from exc
    return checksum_address(keccak(pub.format(compressed=False)[1:])[-20:])


@lru_cache(maxsize=4096)
def checksum_address(raw: bytes) -> str:
    """EIP-55 form of a 20-byte address (same result as ``to_checksum_address``).

    Written out because eth-utils' version validates its input generically and
    costs about as much as the signature recovery itself; kept for the few keys
    that sign most events (a batch of a thousand is usually one signer's).
    """
    lower = raw.hex()
    nibbles = keccak(lower.encode()).hex()
    return "0x" + "".join(
        c.upper() if n in "89abcdef" else c for c, n in zip(lower, nibbles, strict=False)
    )


def typed_data_payload(
    domain: Domain, struct: StructType, message: Mapping[str, Any]
) -> dict[str, Any]:
    """A JSON payload a wallet can sign with ``eth_signTypedData_v4``."""
    return {
        "types": struct.eip712_types(),
        "primaryType": struct.name,
        "domain": domain.to_json(),
        "message": {k: _jsonable(v) for k, v in message.items()},
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def personal_digest(text: str) -> bytes:
    """The EIP-191 digest ``personal_sign`` signs for ``text`` (eth-account's rule)."""
    return bytes(defunct_hash_message(text=text))
