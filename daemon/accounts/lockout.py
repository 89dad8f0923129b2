"""How long an account is locked after failed sign-ins.

The lock is kept per account, not per client address: an attacker rotating addresses (or
behind the same proxy as the staff) neither escapes it nor locks out everyone sharing an
address. A few mistakes are free; from then on each failure doubles the wait, up to an hour,
so guessing a password costs years while a person who mistyped waits seconds. A good sign-in
forgets the count.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Backoff:
    free: int = 5
    """Failures allowed before the first lock."""
    first_s: float = 30.0
    """The first lock; each failure after it doubles the lock."""
    max_s: float = 3600.0

    def lock_s(self, failures: int) -> float:
        """Seconds to lock the account after its ``failures``-th consecutive failure."""
        if failures < self.free:
            return 0.0
        return min(self.max_s, self.first_s * float(2 ** min(failures - self.free, 32)))
