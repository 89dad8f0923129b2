"""Why the stacker will not do what was asked: the errors its controller raises to the API.

Each carries a sentence a person can act on; the API maps them to their HTTP codes (a refusal
now is 409, a malformed request 422, an unknown job 404).
"""

from __future__ import annotations

from daemon.messages import Message, say, stacker_words

JOURNAL_HELD = say("stacker.journal_held")
"""The refusal while journal records are held in memory (see ``held_journal``)."""


class CommandRefused(Exception):
    """The stacker cannot take the command now; ``reason`` says why in words (API: 409)."""

    def __init__(self, reason: str | Message) -> None:
        super().__init__(str(reason))
        self.reason = str(reason)
        self.words: str | Message = stacker_words(reason) if isinstance(reason, str) else reason


class InvalidJob(ValueError):
    """The request itself is malformed (API: 422)."""


class UnknownJob(LookupError):
    """No such job on this stacker (API: 404)."""
