"""Organisations, their API keys (hashed, scoped) and EIP-712 signer keys."""
