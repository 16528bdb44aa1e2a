"""Who signed a digest: a plain key (ECDSA recovery) or a contract wallet (ERC-1271).

The service's copy of the contracts' one acceptance rule
(``contracts/utils/SignatureRule.sol``): a 65-byte low-s signature that
recovers to the claimed address is that address's; otherwise, when the claimed
address holds code, its own ``isValidSignature`` answers, read at the chain
head. The claimed address is the only one asked, so a wallet that accepts
anything still only ever speaks for itself.
"""

from __future__ import annotations

from backend.chain.client import ChainClient
from backend.chain.eip712 import SignatureInvalid, recover


def refusal(chain: ChainClient, *, address: str, digest: bytes, signature: bytes) -> str | None:
    """None when ``address`` signed ``digest``; otherwise why the signature is not its."""
    try:
        recovered = recover(digest, signature)
    except SignatureInvalid as exc:
        reason = str(exc)
    else:
        if recovered.lower() == address.lower():
            return None
        reason = f"it was made by {recovered}"
    if chain.has_code(address):
        if chain.is_valid_signature(address, digest, signature):
            return None
        return f"contract wallet {address} does not accept it (ERC-1271 isValidSignature)"
    return reason


def signed_by(chain: ChainClient, *, address: str, digest: bytes, signature: bytes) -> bool:
    """Whether ``address`` (a plain key or an ERC-1271 contract wallet) signed ``digest``."""
    return refusal(chain, address=address, digest=digest, signature=signature) is None
