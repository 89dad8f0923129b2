"""Pacing and reporting the retries of a link or a service that keeps failing.

:class:`Backoff` is the one capped exponential backoff of the project: the n-th delay in a run
of failures is ``initial_s * factor**n`` up to ``cap_s``, drawn at random from its upper half,
so that readers, buses and services that failed together (a switch rebooted, the database
restarted) do not retry in step. The random source is a ``random.Random`` of the caller's
(seed it in a test), never the module-level one.

It also owns the logging habit that goes with it, so that a reader unplugged over a weekend
does not fill the journal: the first failure of an outage is logged at WARNING, the repeats at
DEBUG, and the recovery (if one was reported) at INFO.
"""

from __future__ import annotations

import logging
import random


class Backoff:
    """Delays between attempts, and the outage's log lines.

    A ``cap_s`` below ``initial_s`` makes every delay the cap.

    ``next_delay()`` counts a failure and returns how long to wait before the next attempt;
    ``reset()`` starts over after a success. ``failed()`` logs a failure (WARNING the first time
    of an outage, DEBUG after), ``recovered()`` logs the end of a reported outage at INFO and
    resets; ``reset()`` alone ends an outage silently (for callers that announce the recovery
    themselves).
    """

    def __init__(
        self,
        initial_s: float = 0.5,
        cap_s: float = 30.0,
        *,
        factor: float = 2.0,
        rng: random.Random | None = None,
    ) -> None:
        if initial_s < 0 or cap_s < 0:
            raise ValueError(f"delays cannot be negative: initial_s={initial_s}, cap_s={cap_s}")
        if factor < 1:
            raise ValueError(f"factor must be at least 1, got {factor}")
        self.initial_s = initial_s
        self.cap_s = cap_s
        self.factor = factor
        self._rng = rng if rng is not None else random.Random()
        self._failures = 0
        self._step = min(cap_s, initial_s)
        self._reported = False

    @property
    def failures(self) -> int:
        """Delays handed out since the last reset: the failures of the current run."""
        return self._failures

    @property
    def outage(self) -> bool:
        """Whether a failure was logged and no recovery (or reset) since."""
        return self._reported

    def next_delay(self) -> float:
        """Count a failure; seconds to wait before the next attempt."""
        step = self._step
        self._step = min(self.cap_s, step * self.factor)
        self._failures += 1
        return step * self._rng.uniform(0.5, 1.0)

    def reset(self) -> None:
        """A success: the next delay is the initial one and the next failure warns again."""
        self._failures = 0
        self._step = min(self.cap_s, self.initial_s)
        self._reported = False

    def failed(self, log: logging.Logger, message: str, *args: object) -> None:
        """Log a failure: the first of an outage at WARNING, the repeats at DEBUG."""
        log.log(logging.DEBUG if self._reported else logging.WARNING, message, *args)
        self._reported = True

    def recovered(self, log: logging.Logger, message: str, *args: object) -> None:
        """A success: log it at INFO if it ends a reported outage, then :meth:`reset`."""
        if self._reported:
            log.info(message, *args)
        self.reset()
