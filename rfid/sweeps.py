"""Full sweeps of the shelf locations, counted for inventory campaigns.

A campaign's question for each shelf is "has every antenna watching it inventoried the shelf
often enough, since the campaign began, that an item not read there is really gone?". A *full
sweep* of a location is one finished inventory round of every antenna mapped to it (as the
shelf engine counts them), and a sweep counts for a campaign only if all its rounds *began*
after the campaign did: the round running when staff pressed start may have passed over the
shelf before the last box was put back. A round begins where the same antenna's previous
round ended, so an antenna's first round after start-up only arms it.

The shelf engine calls an item missing after ``missing_sweeps`` full sweeps of its place
without a read; a campaign that waits for as many fresh sweeps of every location has given the
engine every chance to report what is gone before the reconciliation runs.

Pure: fed ``round_done`` from the readers, asked by the campaign; no I/O, no clock of its own.
"""

from __future__ import annotations

import math
from collections.abc import Mapping


class SweepCounter:
    """Counts, per location, full sweeps that began at or after a mark."""

    def __init__(self, antenna_locations: Mapping[tuple[str, int], str]) -> None:
        self._index: dict[str, int] = {}
        self._codes: list[str] = []
        self._full: list[int] = []
        self._slots: dict[tuple[str, int], tuple[int, int]] = {}
        for (reader, antenna), code in sorted(antenna_locations.items()):
            loc = self._index.get(code)
            if loc is None:
                loc = self._index[code] = len(self._codes)
                self._codes.append(code)
                self._full.append(0)
            bit = self._full[loc] + 1
            self._full[loc] |= bit
            self._slots[(reader, antenna)] = (loc, bit)
        n = len(self._codes)
        self._mask = [0] * n
        self._began = [math.inf] * n
        self._last: list[tuple[float, float] | None] = [None] * n
        self._since_mark = [0] * n
        self._round_end: dict[tuple[str, int], float] = {}
        self._mark = math.inf

    @property
    def locations(self) -> list[str]:
        """Every location a shelf antenna watches, in code order."""
        return sorted(self._codes)

    def mark(self, t: float) -> None:
        """Start counting afresh: only sweeps whose rounds all began at or after ``t`` count."""
        self._mark = t
        self._since_mark = [0] * len(self._codes)

    def since_mark(self, code: str) -> int:
        """Full sweeps of ``code`` that began at or after the mark (0 for an unwatched code)."""
        loc = self._index.get(code)
        return 0 if loc is None else self._since_mark[loc]

    def last_sweep(self, code: str) -> tuple[float, float] | None:
        """(began, ended) of the latest full sweep of ``code``, if it had one."""
        loc = self._index.get(code)
        return None if loc is None else self._last[loc]

    def round_done(self, reader: str, antenna: int, t: float) -> None:
        slot = self._slots.get((reader, antenna))
        if slot is None:
            return
        loc, bit = slot
        began = self._round_end.get((reader, antenna))
        self._round_end[(reader, antenna)] = t
        if began is None:
            return
        self._mask[loc] |= bit
        self._began[loc] = min(self._began[loc], began)
        if self._mask[loc] != self._full[loc]:
            return
        sweep_began = self._began[loc]
        self._mask[loc] = 0
        self._began[loc] = math.inf
        self._last[loc] = (sweep_began, t)
        if sweep_began >= self._mark:
            self._since_mark[loc] += 1
