"""Consumer pages computed when their data changes, stored per passport."""
