"""Slowing down failed authentication without locking out the innocent.

A client that presents wrong tokens (or tickets) again and again is either guessing or broken;
after ``per_minute`` failures within a minute its further attempts get 429 unchecked, until the
minute has passed. Two things keep that from hurting anyone else:

- **A good token is not refused because of someone else's failures.** Clients behind one
  address (a NAT, an office proxy) share its counter, so one misconfigured script would lock
  out the catalogue service next to it. So a token that has been verified good within the
  last ``GoodTokens.ttl_s`` is still checked for a blocked address (and passes if it is still
  valid: revocation and expiry are checked as always); only tokens never seen good, which is
  what guesses are, are refused unchecked.
- **The table cannot be reset by spraying addresses.** It holds at most ``max_clients``
  addresses; when it is full of addresses that failed within the minute, further new
  addresses share one overflow entry (and are blocked together) instead of wiping the table,
  as the first version did. IPv6 clients are counted per /64, the block a single host or
  household is given, so that rotating through one's own addresses gains nothing.

The counters live in one daemon's memory: they reset when it restarts.
"""

from __future__ import annotations

import ipaddress
import time
from collections import deque
from collections.abc import Callable, Iterator

from daemon.tokens import digest

OVERFLOW = "*"
"""The shared entry of new clients while the table is full."""
WINDOW_S = 60.0


def client_key(client: str) -> str:
    """The entry an address counts against: itself, or its /64 for IPv6."""
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return client
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


class FailedAuthLimiter:
    def __init__(
        self,
        per_minute: int,
        *,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_minute = per_minute
        self.max_clients = max_clients
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}

    def __len__(self) -> int:
        return len(self._failures)

    def clients(self) -> Iterator[str]:
        return iter(self._failures)

    def _recent(self, key: str, now: float) -> deque[float] | None:
        q = self._failures.get(key)
        if q is None:
            return None
        while q and q[0] <= now - WINDOW_S:
            q.popleft()
        if not q:
            del self._failures[key]
            return None
        return q

    def _entry(self, client: str) -> str:
        key = client_key(client)
        if key in self._failures or len(self._failures) < self.max_clients:
            return key
        now = self.clock()
        for known in list(self._failures):
            self._recent(known, now)
        return key if len(self._failures) < self.max_clients else OVERFLOW

    def blocked(self, client: str) -> bool:
        key = client_key(client)
        if key not in self._failures and len(self._failures) >= self.max_clients:
            key = OVERFLOW
        q = self._recent(key, self.clock())
        return q is not None and len(q) >= self.per_minute

    def failed(self, client: str) -> None:
        key = self._entry(client)
        q = self._failures.setdefault(key, deque())
        q.append(self.clock())
        while len(q) > self.per_minute:  # more are never needed to decide
            q.popleft()


class GoodTokens:
    """Digests of tokens verified good lately: these are checked even for a blocked client."""

    def __init__(
        self,
        *,
        ttl_s: float = 24 * 3600,
        max_size: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_s = ttl_s
        self.max_size = max_size
        self.clock = clock
        self._seen: dict[str, float] = {}  # digest -> when it was last good; oldest first

    def remember(self, token: str) -> None:
        key = digest(token)
        self._seen.pop(key, None)
        self._seen[key] = self.clock()
        while len(self._seen) > self.max_size:
            del self._seen[next(iter(self._seen))]

    def __contains__(self, token: str) -> bool:
        seen = self._seen.get(digest(token))
        return seen is not None and self.clock() - seen < self.ttl_s
