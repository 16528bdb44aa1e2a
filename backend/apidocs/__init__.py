"""Swagger UI and ReDoc served from this process, with no CDN."""
