"""Durable submission of contract calls: request row → every hash sent → receipt."""
