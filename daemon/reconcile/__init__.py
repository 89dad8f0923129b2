"""Bidirectional reconciliation of the catalogue and the shelves."""
