"""The spread of a quantity over the last 24 hours, in bounded memory.

JGJ 25-2010 limits how far a stack's climate may move within a day. Checking that on every
reading needs max - min over a rolling 24 h window. Keeping every reading would grow with the
polling rate; this keeps one (min, max) pair per minute in a ring of 1440 slots, so memory is
fixed and the window is exact to the minute. The min/max over the closed minutes is cached and
recomputed once per minute, so each reading costs O(1).
"""

from __future__ import annotations

import math


class RollingRange:
    def __init__(self, window_s: float = 86400.0, bucket_s: float = 60.0) -> None:
        if window_s <= 0 or bucket_s <= 0 or window_s < bucket_s:
            raise ValueError("window and bucket must be positive, window at least one bucket")
        self._bucket_s = bucket_s
        self._n = math.ceil(window_s / bucket_s)
        self._ids = [-1] * self._n
        self._mins = [math.inf] * self._n
        self._maxs = [-math.inf] * self._n
        self._cache_id = -1
        self._closed_min = math.inf
        self._closed_max = -math.inf

    def add(self, t: float, value: float) -> None:
        """Record ``value`` at time ``t`` (values older than the window are ignored)."""
        if not math.isfinite(value):
            return
        bucket = int(t // self._bucket_s)
        slot = bucket % self._n
        if self._ids[slot] > bucket:
            return  # older than the window
        if self._ids[slot] != bucket:
            self._ids[slot] = bucket
            self._mins[slot] = value
            self._maxs[slot] = value
        else:
            self._mins[slot] = min(self._mins[slot], value)
            self._maxs[slot] = max(self._maxs[slot], value)
        if bucket < self._cache_id:
            self._cache_id = -1  # a late value for a closed minute: recompute

    def extremes(self, t: float) -> tuple[float, float] | None:
        """(min, max) over the window ending at ``t``, or None without data."""
        bucket = int(t // self._bucket_s)
        if bucket != self._cache_id:
            self._refresh(bucket)
        lo, hi = self._closed_min, self._closed_max
        slot = bucket % self._n
        if self._ids[slot] == bucket:
            lo = min(lo, self._mins[slot])
            hi = max(hi, self._maxs[slot])
        if lo > hi:
            return None
        return lo, hi

    def spread(self, t: float) -> float | None:
        """max - min over the window ending at ``t``, or None without data."""
        ext = self.extremes(t)
        return None if ext is None else ext[1] - ext[0]

    def _refresh(self, bucket: int) -> None:
        first = bucket - self._n + 1
        lo, hi = math.inf, -math.inf
        for i, ident in enumerate(self._ids):
            if first <= ident < bucket:
                lo = min(lo, self._mins[i])
                hi = max(hi, self._maxs[i])
        self._cache_id = bucket
        self._closed_min, self._closed_max = lo, hi
