"""Merkle anchoring of signed supply events."""
