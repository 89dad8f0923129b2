"""The REST API (DESIGN §6.2): a FastAPI app built over the daemon's services."""
