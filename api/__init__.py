"""The REST API (docs/design.md §6.2): a FastAPI app built over the daemon's services."""
