"""Errors the ledger raises; the API maps them to 404, 409 and 422 with the message as detail.

An error made from a ``Message`` (``daemon/messages.py``) keeps it in ``words``: the API answers
its English in ``detail`` and adds its key and parameters for the console to translate.
"""

from __future__ import annotations

from daemon.messages import Message


class LedgerError(Exception):
    """Base: the message is written for the person who made the request."""

    def __init__(self, words: str | Message = "") -> None:
        super().__init__(str(words))
        self.words: Message | None = words if isinstance(words, Message) else None


class NotFound(LedgerError):
    pass


class Conflict(LedgerError):
    pass


class Invalid(LedgerError):
    pass
