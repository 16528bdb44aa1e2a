"""Follows contract events from a stored cursor into the read model; survives reorgs."""
