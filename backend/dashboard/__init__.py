"""Seller war-room dashboard: shipments by colour, customs holds, alliance positions."""
