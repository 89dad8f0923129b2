"""A clock a test moves by hand, for the code that takes its time from a ``clock`` callable."""

from __future__ import annotations


class ManualClock:
    """Seconds that pass only when the test moves them (``clock.now += 5`` or ``advance``)."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
