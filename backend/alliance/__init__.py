"""Alliance settlement in the service: capacity pools and emergency stock transfers."""
