"""Checks that the fast cryptographic paths are in use."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def coincurve_active() -> bool:
    """eth-keys (signature recovery) runs on libsecp256k1 through coincurve."""
    from eth_keys.backends import get_backend

    return type(get_backend()).__name__ == "CoinCurveECCBackend"


def fast_keccak_active() -> bool:
    """eth-hash runs on the C keccak (pysha3 API) rather than pycryptodome."""
    from eth_hash.auto import keccak

    keccak(b"")  # the auto backend binds on first use
    bound = getattr(keccak.hasher, "__self__", None)
    return type(bound).__name__ == "PySha3Backend"


def fast_paths() -> dict[str, bool]:
    return {"coincurve": coincurve_active(), "fast_keccak": fast_keccak_active()}


def check_fast_paths() -> dict[str, bool]:
    """Log a warning for each slow path; return what is active."""
    paths = fast_paths()
    for name, active in paths.items():
        if not active:
            log.warning("%s is not active: signature and hashing throughput will suffer", name)
    return paths
