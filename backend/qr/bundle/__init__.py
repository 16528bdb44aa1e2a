"""Proof bundles: :mod:`.build` writes them from the read models, :mod:`.verify` checks
them against a chain the caller names (``waymark-proof-bundle/3``, docs/qr.md)."""
