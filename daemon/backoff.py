"""Capped exponential backoff with jitter, and the logging habit that goes with it.

A link that keeps failing is reported once at WARNING and then quietly at DEBUG until it comes
back, so a reader unplugged over a weekend does not fill the journal.
"""

from __future__ import annotations

import logging
import random


class Backoff:
    def __init__(self, *, initial: float = 0.5, cap: float = 30.0, factor: float = 2.0) -> None:
        self.initial = initial
        self.cap = cap
        self.factor = factor
        self.failures = 0

    def next_delay(self) -> float:
        base = min(self.cap, self.initial * self.factor**self.failures)
        self.failures += 1
        return base * random.uniform(0.5, 1.0)

    def reset(self) -> None:
        self.failures = 0

    def log_failure(self, log: logging.Logger, message: str, *args: object) -> None:
        """First failure of a run of failures at WARNING, the rest at DEBUG."""
        log.log(logging.WARNING if self.failures <= 1 else logging.DEBUG, message, *args)
