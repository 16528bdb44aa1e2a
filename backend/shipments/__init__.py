"""Shipments: relayed signed writes to ShipmentRegistry, the indexed read model, reads."""
