"""Sign-ins for the audit trail, counted per client and window instead of written one by one.

Every API request authenticates with its bearer token, so a sign-in is not a rare event: a
catalogue service polling twice a second, or an attacker spraying tokens, would each write
thousands of audit entries an hour if every attempt were one. MLPS level 3 asks that each
sign-in, good or failed, be traceable to a time, a user and an outcome; a count per client,
token and outcome per minute (``[audit] sign_in_window_s``) gives that with one entry per
combination. The number of distinct combinations held per window is capped as well: beyond
the cap, attempts are folded into one ``*`` client, so spraying addresses cannot grow memory or
the trail without bound, and the entry says how many attempts it folded.

``SignIns`` is the pure counter (time is passed in); ``SignInRecorder`` is the task that writes
each closed window's counts into the chain, and the last, open one when the daemon stops.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from daemon.ledger.uow import Ledger
from drivers.cancellation import run_to_completion

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SignInCount:
    window_start_s: float
    client: str
    token: str
    """The token's name for a good sign-in; ``""`` when no valid token was presented."""
    outcome: str
    """``ok``, ``failed`` (no, unknown, expired or revoked token) or ``throttled``."""
    count: int
    first_s: float
    last_s: float


class SignIns:
    def __init__(self, window_s: float = 60.0, *, max_keys: int = 1000) -> None:
        self.window_s = window_s
        self.max_keys = max_keys
        self._window: float | None = None
        self._counts: dict[tuple[str, str, str], list[float]] = {}
        self._closed: list[SignInCount] = []

    def observe(self, at_s: float, client: str, token: str, outcome: str) -> None:
        start = at_s - at_s % self.window_s
        if self._window is not None and start != self._window:
            self._close()
        self._window = start
        key = (client, token, outcome)
        if key not in self._counts and len(self._counts) >= self.max_keys:
            key = ("*", "", outcome)
        entry = self._counts.get(key)
        if entry is None:
            self._counts[key] = [1, at_s, at_s]
        else:
            entry[0] += 1
            entry[2] = at_s

    def due(self, now_s: float) -> list[SignInCount]:
        """Counts of the windows that have ended by ``now_s``; each is returned once."""
        if self._window is not None and now_s >= self._window + self.window_s:
            self._close()
        closed, self._closed = self._closed, []
        return closed

    def flush(self) -> list[SignInCount]:
        """Everything counted so far, the open window included (at shutdown)."""
        self._close()
        closed, self._closed = self._closed, []
        return closed

    def requeue(self, counts: list[SignInCount]) -> None:
        """Counts whose writing failed, to be returned again by the next ``due``."""
        self._closed[:0] = counts

    def _close(self) -> None:
        if self._window is None:
            return
        self._closed.extend(
            SignInCount(self._window, c, t, o, int(n), first, last)
            for (c, t, o), (n, first, last) in self._counts.items()
        )
        self._counts = {}
        self._window = None


class SignInRecorder:
    """Writes closed windows into the audit chain, one transaction per window."""

    def __init__(self, ledger: Ledger, window_s: float = 60.0) -> None:
        self.ledger = ledger
        self.counts = SignIns(window_s)

    def observe(self, client: str, token: str, outcome: str) -> None:
        self.counts.observe(time.time(), client, token, outcome)

    async def write(self, counts: list[SignInCount]) -> None:
        if not counts:
            return
        async with self.ledger.transaction("archroom") as tx:
            for c in counts:
                tx.audit(
                    "auth.sign_in",
                    f"client:{c.client}",
                    {
                        "token": c.token,
                        "count": c.count,
                        "first_us": int(c.first_s * 1_000_000),
                        "last_us": int(c.last_s * 1_000_000),
                        "window_s": self.counts.window_s,
                    },
                    outcome=c.outcome,
                )

    async def run(self) -> None:
        try:
            while True:
                await asyncio.sleep(min(self.counts.window_s / 4, 5.0))
                due = self.counts.due(time.time())
                try:
                    await self.write(due)
                except Exception:
                    self.counts.requeue(due)
                    raise
        finally:
            pending = self.counts.flush()
            if pending:
                try:
                    await run_to_completion(self.write(pending))
                except Exception:  # a stopping daemon must still stop
                    log.exception("%d sign-in count(s) could not be audited", len(pending))
