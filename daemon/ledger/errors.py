"""Errors the ledger raises; the API maps them to 404, 409 and 422 with the message as detail."""

from __future__ import annotations


class LedgerError(Exception):
    """Base: the message is written for the person who made the request."""


class NotFound(LedgerError):
    pass


class Conflict(LedgerError):
    pass


class Invalid(LedgerError):
    pass
