"""Service health: chain backend, chain head, deployments and crypto fast paths."""
