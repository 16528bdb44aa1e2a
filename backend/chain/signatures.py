"""Who signed a digest: a plain key (ECDSA recovery) or a contract wallet (ERC-1271)."""

from __future__ import annotations

from backend.chain.client import ChainClient
from backend.chain.eip712 import SignatureInvalid, recover


def signed_by(chain: ChainClient, *, address: str, digest: bytes, signature: bytes) -> bool:
    """Whether ``address`` signed ``digest``: asked of the wallet when it is a contract
    (ERC-1271, so its owner can rotate keys), else by strict ECDSA recovery."""
    if chain.has_code(address):
        return chain.is_valid_signature(address, digest, signature)
    try:
        return recover(digest, signature).lower() == address.lower()
    except SignatureInvalid:
        return False
