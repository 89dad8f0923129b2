"""Shelf location: which shelf each tagged item sits on, from the reads of the shelf antennas.

Why not simply "the antenna that read it last": a shelf antenna also hears tags on the
neighbouring shelf (side lobes, reflections off metal uprights, a box pushed to the edge), so
the raw reads of one item flicker between locations. An item moves only when another location
reads it clearly better than its current one, over several inventory rounds:

- Each (tag, location) keeps a score: its reads, each weighted by RSSI when the reader reports
  one (serial readers do not: then the read rate alone decides), halving with every full sweep
  of that location. A *full sweep* is one inventory round of every antenna mapped to the
  location. Counting in sweeps rather than seconds makes a slow four-antenna shelf and a fast
  one-antenna shelf comparable (a score is about "reads per sweep"), and a reader that stops
  inventorying (link down) freezes its scores instead of letting its items drift to a
  neighbour that still hears them weakly.
- A tag settles at another location only when all of these hold: that location has read it
  ``min_reads`` times since the tag was last read where it is (at least 2, so one stray read
  never moves an item); its current location has completed ``absent_sweeps`` full sweeps in a
  row without reading it (a missed read is strong evidence: a shelf antenna rarely misses its
  own tags twice running); and the new location scores ``margin`` times the current one, and
  no less than any other. A real move settles within a few sweeps. A read without RSSI (serial
  readers) needs ``margin`` over every other location that heard it, and its
  current location must have missed it ``absent_sweeps_without_rssi`` sweeps running: read
  rates alone tell a box from its neighbour's far less well, and in a still room a fade of the
  box's own antenna can last many sweeps while the next shelf's antenna keeps hearing it.
- A location forgets a tag (score and read count) once a full sweep that began ``silence_s``
  after the tag's last read there has completed without reading it.

The daemon tells the engine where each item is expected (``expect``): its recorded location.
A tag that settles elsewhere and is still read there ``misplaced_after_s`` later is
*misplaced* (raised once, cleared when it comes back or is re-homed). A tag that no shelf
antenna reads during ``missing_sweeps`` full sweeps of its expected location is *missing*
(raised once, *found* at its next read).

Up to a million items are expected at start, so per-tag state lives in flat arrays indexed by
a row number (about 50 bytes a tag, plus about 60 for the dictionary that finds the row); the
few tags that more than one location hears keep their extra scores in a side table.

The engine is pure: time comes from the reads, ``round_done`` and ``tick``; every method
returns the decisions it led to, which the daemon turns into movements, events and alarms.
"""

from __future__ import annotations

import math
from array import array
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from drivers.tagread import TagRead
from rfid.config import ShelfEngineConfig


@dataclass(frozen=True, slots=True)
class LocationChanged:
    """The tag settled at ``location`` (a movement with source shelf-read)."""

    epc: str
    location: str
    previous: str | None
    at: float
    """Time of the read that settled it."""


@dataclass(frozen=True, slots=True)
class Misplaced:
    """The tag has been read steadily at ``seen_at`` while it is expected at ``home``."""

    epc: str
    seen_at: str
    home: str
    at: float


@dataclass(frozen=True, slots=True)
class MisplacedCleared:
    """A misplaced tag came back to its expected location, or was re-homed (``home``)."""

    epc: str
    home: str | None
    at: float


@dataclass(frozen=True, slots=True)
class Missing:
    """No shelf antenna read the tag during the last full sweeps of its expected location."""

    epc: str
    location: str
    at: float
    """Completion time of the sweep that made it missing."""


@dataclass(frozen=True, slots=True)
class Found:
    """A missing tag was read again, at ``location``."""

    epc: str
    location: str
    at: float


ShelfDecision = LocationChanged | Misplaced | MisplacedCleared | Missing | Found

_NONE = -1
_EXPECTED = 1  # the daemon called expect() for it
_ASSUMED = 2  # its location comes from the expectation, no read has confirmed it yet
_MISSING = 4
_MISPLACED = 8
_PENDING = 16  # settled away from home, waiting for misplaced_after_s
_MAX_COUNT = 65535
_WEIGHT_EXPONENT_LIMIT = 16.0
_WEIGHT_CACHE = 4096


class _Entry:
    """A (tag, location) score kept beside the tag's main one."""

    __slots__ = ("count", "last", "loc", "score", "sweep")

    def __init__(self, loc: int, score: float, count: int, sweep: int, last: float) -> None:
        self.loc = loc
        self.score = score
        self.count = count
        self.sweep = sweep
        self.last = last


class ShelfEngine:
    """Settles tags at locations and reports misplaced and missing items."""

    def __init__(
        self,
        antenna_locations: Mapping[tuple[str, int], str],
        params: ShelfEngineConfig | None = None,
    ) -> None:
        p = params or ShelfEngineConfig()
        self.params = p
        self._min_reads = p.min_reads
        self._margin = p.margin
        self._absent_without_rssi = p.absent_sweeps_without_rssi
        self._silence = p.silence_s
        self._misplaced_after = p.misplaced_after_s
        self._missing_sweeps = p.missing_sweeps
        self._absent_sweeps = p.absent_sweeps
        self._rssi_ref = p.rssi_reference
        self._rssi_doubling = p.rssi_doubling
        self._weights: dict[float, float] = {}
        # A read's weight after k sweeps; beyond the table it is below 1e-12, i.e. gone.
        steps = math.ceil(40 * p.half_life_sweeps) + 1
        self._decay = [math.exp2(-k / p.half_life_sweeps) for k in range(steps)]

        # Locations, by index.
        self._loc_index: dict[str, int] = {}
        self._codes: list[str] = []
        self._sweeps: list[int] = []  # full sweeps completed
        self._cover: list[float] = []  # earliest round start of the latest full sweep
        self._covers: list[deque[float]] = []  # the same, for the last few sweeps
        self._round_mask: list[int] = []  # antennas that finished a round in this sweep
        self._full_mask: list[int] = []  # all antennas of the location
        self._sweep_from: list[float] = []  # earliest round start in this sweep
        self._members: list[array[int]] = []  # rows expected here (may hold stale rows)
        self._stale: list[int] = []

        # Antennas: reader -> antenna -> (location, bit in the location's mask).
        self._antennas: dict[str, dict[int, tuple[int, int]]] = {}
        self._round_end: dict[tuple[str, int], float] = {}
        for (reader, antenna), code in antenna_locations.items():
            loc = self._intern(code)
            bit = self._full_mask[loc] + 1  # next free bit: masks are built as 1, 3, 7, ...
            self._full_mask[loc] |= bit
            self._antennas.setdefault(reader, {})[antenna] = (loc, bit)

        # Tags, by row.
        self._rows: dict[str, int] = {}
        self._epcs: list[str] = []
        self._home = array("i")
        self._at = array("i")
        self._flags = bytearray()
        self._seen = array("d")  # last read anywhere (or when it became expected)
        self._e_loc = array("i")  # the tag's main (tag, location) score ...
        self._e_score = array("f")
        self._e_count = array("H")
        self._e_sweep = array("I")
        self._e_last = array("d")
        self._extra: dict[int, list[_Entry]] = {}  # ... and the others, for the few that have any
        self._free: list[int] = []
        self._strangers: set[int] = set()  # rows of tags nobody expects: forgotten when silent
        self._pending: dict[int, float] = {}  # row -> since when it is settled away from home

        self._now = -math.inf
        self._next_cleanup = -math.inf
        self.unmapped_reads = 0
        """Reads from antennas that map to no location (ignored)."""

    # -- queries ---------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._rows)

    def location_of(self, epc: str) -> str | None:
        """Where the engine holds the tag to be (settled, or expected and not yet contradicted)."""
        row = self._rows.get(epc)
        if row is None or self._at[row] < 0:
            return None
        return self._codes[self._at[row]]

    def mark_missing(self, epc: str) -> bool:
        """Restore a missing state the records hold (after a restart): the next read of the tag
        reports ``Found``. False if the engine does not know the tag."""
        row = self._rows.get(epc)
        if row is None:
            return False
        self._flags[row] |= _MISSING
        return True

    def is_expected(self, epc: str) -> bool:
        """Has the daemon said where this tag belongs (i.e. it is bound to a record)?"""
        row = self._rows.get(epc)
        return row is not None and bool(self._flags[row] & _EXPECTED)

    def is_missing(self, epc: str) -> bool:
        row = self._rows.get(epc)
        return row is not None and bool(self._flags[row] & _MISSING)

    def is_misplaced(self, epc: str) -> bool:
        row = self._rows.get(epc)
        return row is not None and bool(self._flags[row] & _MISPLACED)

    # -- inputs ----------------------------------------------------------------------------

    def expect(self, epc: str, location: str | None, *, assume: bool = True) -> list[ShelfDecision]:
        """Where the item with this tag belongs (its recorded location), or None: not on a shelf.

        Call it for every tagged item at start, and again whenever the item is deliberately
        put somewhere (stored, returned, re-homed, lent). Not for movements the engine itself
        reported: an item that drifted is misplaced, not re-homed.

        ``assume=False`` says the item belongs there but is not known to be there (the
        records place it elsewhere, or nowhere yet): it is then reported as settled, with a
        ``LocationChanged``, once the reads put it there, instead of silently confirmed.
        """
        loc = _NONE if location is None else self._intern(location)
        row = self._rows.get(epc)
        if row is None:
            if assume:
                self._add_row(epc, loc, loc, _EXPECTED | (_ASSUMED if loc >= 0 else 0), self._now)
            else:
                self._add_row(epc, loc, _NONE, _EXPECTED, self._now)
            return []
        flags = self._flags[row] | _EXPECTED
        self._strangers.discard(row)
        if not assume and loc >= 0 and self._at[row] == loc:
            self._at[row] = _NONE  # the records say it left: report it when it settles back
            flags &= ~_ASSUMED
        old = self._home[row]
        if loc == old:
            self._flags[row] = flags
            return []
        self._home[row] = loc
        if old >= 0:
            self._stale[old] += 1
        if loc >= 0:
            self._members[loc].append(row)
        if assume and (flags & _ASSUMED or self._at[row] < 0):
            self._at[row] = loc
            flags = (flags | _ASSUMED) if loc >= 0 else (flags & ~_ASSUMED)
        at = self._at[row]
        out: list[ShelfDecision] = []
        if flags & _MISPLACED:
            if loc < 0 or at == loc:
                flags &= ~(_MISPLACED | _PENDING)
                self._pending.pop(row, None)
                out.append(MisplacedCleared(epc, location, self._now))
        elif loc >= 0 and at >= 0 and at != loc and not flags & _ASSUMED:
            flags |= _PENDING
            self._pending[row] = self._now
        else:
            flags &= ~_PENDING
            self._pending.pop(row, None)
        self._flags[row] = flags
        return out

    def expect_many(
        self, expectations: Iterable[tuple[str, str | None]], *, assume: bool = True
    ) -> list[ShelfDecision]:
        """``expect`` for each (epc, location) pair, e.g. the whole catalogue at start.

        Tags the engine does not know yet are added in bulk (a million in well under a second);
        the others go through ``expect`` one by one, in order.
        """
        out: list[ShelfDecision] = []
        fresh: dict[str, int] = {}
        rows, index = self._rows, self._loc_index
        for epc, location in expectations:
            if epc in rows:
                out.extend(self.expect(epc, location, assume=assume))
            elif location is None:
                fresh[epc] = _NONE
            else:
                loc = index.get(location)
                fresh[epc] = self._intern(location) if loc is None else loc
        if fresh:
            self._add_rows(fresh, assume=assume)
        return out

    def forget(self, epc: str) -> None:
        """The tag was retired or unbound: drop everything known about it."""
        row = self._rows.pop(epc, None)
        if row is None:
            return
        if self._home[row] >= 0:
            self._stale[self._home[row]] += 1
        self._home[row] = _NONE
        self._at[row] = _NONE
        self._flags[row] = 0
        self._e_loc[row] = _NONE
        self._epcs[row] = ""
        self._extra.pop(row, None)
        self._pending.pop(row, None)
        self._strangers.discard(row)
        self._free.append(row)

    def observe(self, read: TagRead) -> list[ShelfDecision]:
        """One read by a shelf antenna."""
        antennas = self._antennas.get(read.reader)
        slot = antennas.get(read.antenna) if antennas is not None else None
        if slot is None:
            self.unmapped_reads += 1
            return []
        loc = slot[0]
        t = read.t
        if t > self._now:  # noqa: PLR1730 (here and below: the hot path avoids builtin calls)
            self._now = t
        row = self._rows.get(read.epc)
        if row is None:
            row = self._add_row(read.epc, _NONE, _NONE, 0, t)
        rssi = read.rssi
        weight = 1.0 if rssi is None else (self._weights.get(rssi) or self._weight(rssi))
        last = self._e_last[row]
        if self._e_loc[row] == loc and self._cover[loc] - last <= self._silence:
            # The tag's main score is at this location (nearly always): _credit, inlined.
            k = self._sweeps[loc] - self._e_sweep[row]
            if k:
                decay = self._decay
                self._e_score[row] = self._e_score[row] * decay[k] if k < len(decay) else 0.0
                self._e_sweep[row] = self._sweeps[loc]
            self._e_score[row] += weight
            count = self._e_count[row]
            if count < _MAX_COUNT:
                count += 1
                self._e_count[row] = count
            if t > last:
                self._e_last[row] = t
        else:
            count = self._credit(row, loc, weight, t)
        if t > self._seen[row]:  # noqa: PLR1730
            self._seen[row] = t
        flags = self._flags[row]
        if self._at[row] == loc:
            if self._e_loc[row] != loc or row in self._extra:
                self._reset_rivals(row, loc)
            if not flags & (_MISSING | _PENDING | _ASSUMED):
                return []  # the common case: a tag read where it is
        out: list[ShelfDecision] = []
        if flags & _MISSING:
            self._flags[row] = flags = flags & ~_MISSING
            out.append(Found(read.epc, self._codes[loc], t))
        if self._at[row] != loc:
            if count >= self._min_reads:
                self._consider_move(row, loc, t, out, strong=rssi is not None)
        elif flags & _ASSUMED and count >= self._min_reads:
            self._flags[row] = flags & ~_ASSUMED
        if self._flags[row] & _PENDING and self._at[row] == loc:
            self._check_misplaced(row, t, out)
        return out

    def observe_many(self, reads: Iterable[TagRead]) -> list[ShelfDecision]:
        """``observe`` for each read of a batch."""
        out: list[ShelfDecision] = []
        observe = self.observe
        for read in reads:
            decisions = observe(read)
            if decisions:
                out.extend(decisions)
        return out

    def round_done(self, reader: str, antenna: int, t: float) -> list[ShelfDecision]:
        """One inventory round of an antenna finished (whether or not it read anything).

        A round counts from the end of the antenna's previous round, so the first round after
        start only arms the antenna. When every antenna of a location has finished a round,
        the location has completed a full sweep: scores there decay, and tags expected there
        that nothing has read since before the last ``missing_sweeps`` sweeps become missing.
        """
        antennas = self._antennas.get(reader)
        slot = antennas.get(antenna) if antennas is not None else None
        if slot is None:
            return []
        loc, bit = slot
        self._now = max(self._now, t)
        key = (reader, antenna)
        began = self._round_end.get(key)
        self._round_end[key] = t
        if began is None:
            return []
        self._round_mask[loc] |= bit
        self._sweep_from[loc] = min(self._sweep_from[loc], began)
        if self._round_mask[loc] != self._full_mask[loc]:
            return []
        cover = self._sweep_from[loc]
        self._round_mask[loc] = 0
        self._sweep_from[loc] = math.inf
        self._sweeps[loc] += 1
        self._cover[loc] = cover
        covers = self._covers[loc]
        covers.append(cover)
        if len(covers) < self._missing_sweeps:
            return []
        return self._scan_missing(loc, covers[-self._missing_sweeps], t)

    def tick(self, now: float) -> list[ShelfDecision]:
        """The passage of time: misplaced items whose wait is over; periodic housekeeping."""
        self._now = max(self._now, now)
        out: list[ShelfDecision] = []
        for row in list(self._pending):
            self._check_misplaced(row, now, out)
        if now >= self._next_cleanup:
            self._next_cleanup = now + self._silence
            self._cleanup()
        return out

    # -- internals -------------------------------------------------------------------------

    def _intern(self, code: str) -> int:
        loc = self._loc_index.get(code)
        if loc is None:
            loc = self._loc_index[code] = len(self._codes)
            self._codes.append(code)
            self._sweeps.append(0)
            self._cover.append(-math.inf)
            self._covers.append(deque(maxlen=max(self._missing_sweeps, self._absent_sweeps)))
            self._round_mask.append(0)
            self._full_mask.append(0)
            self._sweep_from.append(math.inf)
            self._members.append(array("i"))
            self._stale.append(0)
        return loc

    def _add_row(self, epc: str, home: int, at: int, flags: int, seen: float) -> int:
        if self._free:
            row = self._free.pop()
            self._epcs[row] = epc
            self._home[row] = home
            self._at[row] = at
            self._flags[row] = flags
            self._seen[row] = seen
            self._e_loc[row] = _NONE
        else:
            row = len(self._epcs)
            self._epcs.append(epc)
            self._home.append(home)
            self._at.append(at)
            self._flags.append(flags)
            self._seen.append(seen)
            self._e_loc.append(_NONE)
            self._e_score.append(0.0)
            self._e_count.append(0)
            self._e_sweep.append(0)
            self._e_last.append(-math.inf)
        self._rows[epc] = row
        if home >= 0:
            self._members[home].append(row)
        if not flags & _EXPECTED:
            self._strangers.add(row)
        return row

    def _add_rows(self, fresh: dict[str, int], *, assume: bool = True) -> None:
        """New expected tags (epc -> location), appended to the arrays in one go."""
        for epc in list(fresh)[: len(self._free)]:  # reuse forgotten rows first
            loc = fresh.pop(epc)
            if assume:
                self._add_row(epc, loc, loc, _EXPECTED | (_ASSUMED if loc >= 0 else 0), self._now)
            else:
                self._add_row(epc, loc, _NONE, _EXPECTED, self._now)
        n, first = len(fresh), len(self._epcs)
        locs = list(fresh.values())
        self._epcs.extend(fresh)
        self._rows.update(zip(fresh, range(first, first + n), strict=True))
        self._home.extend(locs)
        if assume:
            self._at.extend(locs)
            self._flags.extend(_EXPECTED | _ASSUMED if loc >= 0 else _EXPECTED for loc in locs)
        else:
            self._at.extend(array("i", [_NONE]) * n)
            self._flags.extend(bytes([_EXPECTED]) * n)
        self._seen.extend(array("d", [self._now]) * n)
        self._e_loc.extend(array("i", [_NONE]) * n)
        self._e_score.extend(array("f", [0.0]) * n)
        self._e_count.extend(array("H", [0]) * n)
        self._e_sweep.extend(array("I", [0]) * n)
        self._e_last.extend(array("d", [-math.inf]) * n)
        members = self._members
        for row, loc in enumerate(locs, first):
            if loc >= 0:
                members[loc].append(row)

    def _weight(self, rssi: float) -> float:
        """A read's weight for its RSSI; remembered, as readers report few distinct values."""
        x = (rssi - self._rssi_ref) / self._rssi_doubling
        if math.isnan(x):
            return 1.0
        weight = math.exp2(min(max(x, -_WEIGHT_EXPONENT_LIMIT), _WEIGHT_EXPONENT_LIMIT))
        if len(self._weights) >= _WEIGHT_CACHE:
            self._weights.clear()
        self._weights[rssi] = weight
        return weight

    def _decayed(self, score: float, loc: int, sweep: int) -> float:
        k = self._sweeps[loc] - sweep
        decay = self._decay
        return score * decay[k] if k < len(decay) else 0.0

    def _expired(self, loc: int, last: float) -> bool:
        return self._cover[loc] - last > self._silence

    def _credit(self, row: int, loc: int, weight: float, t: float) -> int:
        """Add one read to the (tag, location) score; return the location's read count."""
        main = self._e_loc[row]
        if main != loc:
            if main >= 0 and not self._expired(main, self._e_last[row]):
                return self._credit_extra(row, loc, weight, t)
            self._promote(row, loc)  # the main slot is free: give it to this location
        last = self._e_last[row]
        if self._e_loc[row] == loc and not self._expired(loc, last):
            score = self._decayed(self._e_score[row], loc, self._e_sweep[row]) + weight
            count = min(self._e_count[row] + 1, _MAX_COUNT)
            if t > last:
                self._e_last[row] = t
        else:
            self._e_loc[row] = loc
            score = weight
            count = 1
            self._e_last[row] = t
        self._e_score[row] = score
        self._e_count[row] = count
        self._e_sweep[row] = self._sweeps[loc]
        return count

    def _promote(self, row: int, loc: int) -> None:
        """Move the tag's side score for ``loc`` (if it has one) into its main slot."""
        self._e_loc[row] = _NONE
        entries = self._extra.get(row)
        if entries is None:
            return
        for i, e in enumerate(entries):
            if e.loc == loc:
                del entries[i]
                if not entries:
                    del self._extra[row]
                self._e_loc[row] = loc
                self._e_score[row] = e.score
                self._e_count[row] = e.count
                self._e_sweep[row] = e.sweep
                self._e_last[row] = e.last
                return

    def _credit_extra(self, row: int, loc: int, weight: float, t: float) -> int:
        entries = self._extra.get(row)
        if entries is None:
            entries = self._extra[row] = []
        for e in entries:
            if e.loc == loc:
                if self._expired(loc, e.last):
                    e.score, e.count = weight, 1
                else:
                    e.score = self._decayed(e.score, loc, e.sweep) + weight
                    e.count = min(e.count + 1, _MAX_COUNT)
                e.sweep = self._sweeps[loc]
                e.last = max(e.last, t)
                return e.count
        entries.append(_Entry(loc, weight, 1, self._sweeps[loc], t))
        return 1

    def _score(self, row: int, loc: int) -> float:
        """The tag's current score at a location (0 if it has none or the location forgot it)."""
        if self._e_loc[row] == loc:
            if self._expired(loc, self._e_last[row]):
                return 0.0
            return self._decayed(self._e_score[row], loc, self._e_sweep[row])
        for e in self._extra.get(row, ()):
            if e.loc == loc:
                return 0.0 if self._expired(loc, e.last) else self._decayed(e.score, loc, e.sweep)
        return 0.0

    def _reset_rivals(self, row: int, loc: int) -> None:
        """The tag was read where it is: other locations start counting their reads afresh."""
        if self._e_loc[row] != loc:
            self._e_count[row] = 0
        for e in self._extra.get(row, ()):
            if e.loc != loc:
                e.count = 0

    def _last_read(self, row: int, loc: int) -> float:
        if self._e_loc[row] == loc:
            return self._e_last[row]
        for e in self._extra.get(row, ()):
            if e.loc == loc:
                return e.last
        return -math.inf

    def _absent(self, row: int, loc: int, k: int) -> bool:
        """Has ``loc`` completed ``k`` full sweeps in a row without reading the tag?"""
        if loc < 0 or k == 0:
            return True
        last = self._last_read(row, loc)
        covers = self._covers[loc]
        if len(covers) < k:
            return last == -math.inf
        return last < covers[-k]

    def _locations_heard(self, row: int) -> list[int]:
        locs = [self._e_loc[row]] if self._e_loc[row] >= 0 else []
        locs.extend(e.loc for e in self._extra.get(row, ()))
        return locs

    def _consider_move(
        self, row: int, loc: int, t: float, out: list[ShelfDecision], *, strong: bool
    ) -> None:
        """Settle the tag at ``loc`` if the rules allow; ``strong``: the read that asks carries
        RSSI (else ``absent_sweeps_without_rssi`` applies, and ``loc`` must beat every other
        location by the margin, not only the current one)."""
        margin = self._margin
        absent = self._absent_sweeps if strong else self._absent_without_rssi
        score = self._score(row, loc)
        current = self._at[row]
        best_other = max(
            (self._score(row, other) for other in self._locations_heard(row) if other != loc),
            default=0.0,
        )
        if score < best_other:
            return
        against = self._score(row, current) if current >= 0 else best_other
        if not strong and best_other > against:
            against = best_other  # by read rates alone, it must beat every other location too
        if score < margin * against or not self._absent(row, current, absent):
            return
        epc = self._epcs[row]
        self._at[row] = loc
        self._reset_rivals(row, loc)
        flags = self._flags[row] & ~_ASSUMED
        previous = self._codes[current] if current >= 0 else None
        out.append(LocationChanged(epc, self._codes[loc], previous, t))
        home = self._home[row]
        if home < 0:
            pass
        elif loc == home:
            self._pending.pop(row, None)
            flags &= ~_PENDING
            if flags & _MISPLACED:
                flags &= ~_MISPLACED
                out.append(MisplacedCleared(epc, self._codes[home], t))
        elif not flags & _MISPLACED:
            flags |= _PENDING
            self._pending[row] = t
        self._flags[row] = flags

    def _check_misplaced(self, row: int, now: float, out: list[ShelfDecision]) -> None:
        since = self._pending.get(row)
        if since is None or now - since < self._misplaced_after:
            return
        at, home = self._at[row], self._home[row]
        if at < 0 or home < 0 or at == home:
            self._pending.pop(row)
            self._flags[row] &= ~_PENDING
            return
        if self._score(row, at) <= 0.0:
            return  # not read there lately: not "steadily" there (yet)
        self._pending.pop(row)
        self._flags[row] = (self._flags[row] & ~_PENDING) | _MISPLACED
        out.append(Misplaced(self._epcs[row], self._codes[at], self._codes[home], now))

    def _scan_missing(self, loc: int, since: float, t: float) -> list[ShelfDecision]:
        """Tags expected at ``loc`` not read anywhere since ``since`` become missing."""
        if self._stale[loc] > len(self._members[loc]) // 2:
            self._compact_members(loc)
        home, seen, flags, epcs = self._home, self._seen, self._flags, self._epcs
        code = self._codes[loc]
        out: list[ShelfDecision] = []
        for row in self._members[loc]:
            if seen[row] < since and home[row] == loc and not flags[row] & _MISSING:
                flags[row] |= _MISSING
                out.append(Missing(epcs[row], code, t))
        return out

    def _compact_members(self, loc: int) -> None:
        home = self._home
        rows = dict.fromkeys(r for r in self._members[loc] if home[r] == loc)
        self._members[loc] = array("i", rows)
        self._stale[loc] = 0

    def _cleanup(self) -> None:
        """Drop the scores locations have forgotten, and strangers no location hears."""
        for row, entries in list(self._extra.items()):
            entries[:] = [e for e in entries if not self._expired(e.loc, e.last)]
            if not entries:
                del self._extra[row]
        for row in list(self._strangers):
            main = self._e_loc[row]
            if (main < 0 or self._expired(main, self._e_last[row])) and row not in self._extra:
                self.forget(self._epcs[row])
