"""Ingestion of EIP-712 signed supply events (scans, sensor readings, moves)."""
