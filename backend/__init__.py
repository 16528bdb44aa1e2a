"""Waymark: traceability and settlement service for cross-border sellers."""

import os

# eth-hash picks pycryptodome before pysha3 when both are installed; the C
# keccak is ~6x faster here, so select it before anything imports eth_hash.
os.environ.setdefault("ETH_HASH_BACKEND", "pysha3")

__version__ = "0.1.0"
