"""Single-use tickets that open the live event stream.

A browser's ``EventSource`` cannot send an ``Authorization`` header, and a bearer token put in
a URL ends up in proxy logs and browser history, where it stays valid for months. So the
console first asks for a ticket with its token (an ordinary authenticated POST) and opens the
stream with the ticket in the query string. A ticket is 256 random bits, opens one stream
only, and expires after half a minute: one read in a log later is worthless. Only its SHA-256
is kept, next to the principal and the token it was issued for, so that the stream can check
the token again while it runs and end when the token is revoked or expires.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from daemon.tokens import Principal, digest


@dataclass(frozen=True, slots=True)
class Grant:
    """Who opened a stream, and with which token (to re-check it while the stream runs)."""

    principal: Principal
    token: str


class Tickets:
    def __init__(
        self,
        *,
        ttl_s: float = 30.0,
        max_outstanding: int = 1000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_s = ttl_s
        self.max_outstanding = max_outstanding
        self.clock = clock
        self._open: dict[str, tuple[float, Grant]] = {}  # digest -> (expires, grant)

    def __len__(self) -> int:
        return len(self._open)

    def issue(self, principal: Principal, token: str) -> str:
        now = self.clock()
        self._forget_expired(now)
        while len(self._open) >= self.max_outstanding:
            del self._open[next(iter(self._open))]  # the oldest: dicts keep insertion order
        ticket = secrets.token_urlsafe(32)
        self._open[digest(ticket)] = (now + self.ttl_s, Grant(principal, token))
        return ticket

    def redeem(self, ticket: str) -> Grant | None:
        """The grant of a good ticket, which is used up; None when unknown, used or expired."""
        entry = self._open.pop(digest(ticket), None)
        if entry is None or entry[0] <= self.clock():
            return None
        return entry[1]

    def _forget_expired(self, now: float) -> None:
        for key in [d for d, (expires, _) in self._open.items() if expires <= now]:
            del self._open[key]
