"""Small helpers shared by every domain (validated field types, text checks)."""
