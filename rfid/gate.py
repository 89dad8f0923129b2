"""Gate passages: which way a tagged item went through a door, from the reads of two antennas.

A door gate has one antenna facing the room ("inside") and one facing out ("outside"). Each
also hears tags on the other side, more weakly (its back lobe, reflections off the door frame
and the floor), and multipath fading swings a single read by 10 dB or more. A tag carried
slowly through is read for many seconds, and for much of that time both antennas hear it about
equally well: read by read, the stronger side changes hands many times. Deciding at each change
of hands is what turned one crossing into two opposite passages and a turn-back into a crossing.

So the unit of decision is the tag's **visit** to the gate: from its first read to
``exit_silence_s`` of silence. Its reads are summed in quarter-second bins (per side: reads,
reads with RSSI, their dBm sum; neighbouring bins are merged when a visit grows long, so a tag
parked by the door for hours costs a bounded 256 bins). The *balance* of a stretch of the visit
is the difference of the sides' average RSSI (averaging decibels, so one lucky read does not
swing it) plus ``rssi_doubling`` dB for every doubling of one side's read count over the
other's. When the visit ends:

- it came from the side its first ``edge_share`` (at least ``smoothing_s``) leans to by
  ``margin_db``, with ``min_side_reads`` reads there;
- it crossed at the end of the last ``smoothing_s`` window that leaned to that side so, with
  ``sparse_share`` of the visit's mean reads per window added to each side's count: as the tag
  leaves the field, shadowed by its carrier, both antennas hear it in fading bursts, and a
  window of a few reads (eight on one side, two on the other, where a window of the visit holds
  forty on average) is no evidence that it is still on the side it came from;
- it went through if all of it after that point leans to the other side by
  ``late_margin_db``, holds ``late_share`` of the visit's reads and lasts ``dwell_s``. That
  lean is small on purpose: a box carried away is shadowed by its carrier, both antennas hear
  it weakly. A part beyond the gate that lasted ``standing_s`` must also have leaned there
  window by window (``linger_margin_db``, as for an early decision by lingering): a person who
  stood in the doorway a little beyond the door plane, and went back, swayed. Hence:

- one crossing is one passage, however often the lead changed hands in between;
- turn-back: the visit ends on the side it came from, no passage, even if the far side led
  for a while at the turning point;
- walk-past, a tag parked near the gate, a person standing in the doorway: the start does not
  lean enough, or the visit ends on the side it started (or the tail is a few reads), no
  passage;
- a single read, or one read each side: too few reads, no passage.

The end of a visit comes ``exit_silence_s`` after the last read, which would hold the alarm of
a tag carried out and still heard down the corridor. So a passage is decided early, at the read
that completes a bin, when the evidence is already conclusive: the last ``confirm_s`` lean by
``conclusive_db`` away from all of the visit before, or the tag has been on the far side by the
full ``margin_db`` for ``linger_s`` with every ``smoothing_s`` window of that time leaning there
by ``linger_margin_db`` (a person standing in the doorway sways between the sides). After an
early decision the visit goes on from the far side (a tag that lingers outside and is brought
back in is two passages).

Boxes in the middle of a cart are shadowed by the others and may be heard too little to be sure
by themselves: an undecided visit whose first half leans to one side and whose second half does
not lean clearly back goes with the tags that crossed that way while it was at the gate, if
there are at least ``companions`` of them (decided at a later tick, once they have been).

A passage's ``at`` is the crossing estimate: halfway between the last window that leaned to the
side the tag came from and the first that leaned to the other. ``decided_at`` is when the
engine decided: the read that made an early decision conclusive, or the tick that ended the
visit. After a passage, another passage of the same tag whose crossing falls within
``cooldown_s`` is not reported.

Each reader reports strength in its own unit (``rssi_unit``); the engine converts to dBm on the
way in (``rfid.rssi``). Work per read is constant (a dictionary lookup, an index and a few
additions); a visit is weighed once per bin for early decisions and once when it ends. The
engine is pure: time comes from the reads and from ``tick(now)``, which the daemon calls often
(every 0.1 s or so) so that visits that end in silence are decided without waiting for another
read.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from drivers.tagread import TagRead
from rfid.config import GateParams
from rfid.rssi import converter

Direction = Literal["in", "out"]

_INSIDE = 1
_OUTSIDE = 2
BIN_S = 0.25
"""Width of the time bins a visit's reads are summed in (doubled for long visits)."""
MAX_BINS = 256
"""Bins a visit keeps; beyond, neighbours are merged (a tag parked by the door for hours)."""
# Per bin: reads inside, reads outside, reads with RSSI inside/outside, their dBm sums.
_N_IN, _N_OUT, _R_IN, _R_OUT, _S_IN, _S_OUT = range(6)
_STRIDE = 6
_LINGER_EVERY = 4
"""Bins between two looks for a tag lingering beyond the gate."""
_LINGER_HORIZON_S = 300.0
"""Visits longer than this are not looked at for lingering (a tag parked by the door)."""


@dataclass(frozen=True, slots=True)
class Passage:
    """A tag went through the gate: "in" (into the room) or "out"."""

    epc: str
    gate: str
    direction: Direction
    at: float
    """Crossing estimate: when the balance last leaned to the side the tag came from."""
    decided_at: float
    """When the engine decided (the deciding read, or the tick that noticed the silence)."""


class _Visit:
    """One tag's visit to the gate: its reads summed in time bins."""

    __slots__ = ("bins", "cur", "last", "start", "total", "width")

    def __init__(self, t: float) -> None:
        self.start = t  # start of bin 0
        self.last = t
        self.width = BIN_S
        self.bins = [0.0] * _STRIDE
        self.cur = 0  # the bin being filled; the ones before it are finished
        self.total = [0.0] * _STRIDE  # sums over the finished bins


def _sum(bins: list[float], first: int, stop: int) -> list[float]:
    """Sums over bins ``first`` (inclusive) to ``stop`` (exclusive)."""
    out = [0.0] * _STRIDE
    for i in range(max(first, 0) * _STRIDE, stop * _STRIDE, _STRIDE):
        for k in range(_STRIDE):
            out[k] += bins[i + k]
    return out


class GateEngine:
    """Turns the reads of one gate's two antennas into passages, one visit at a time."""

    def __init__(
        self,
        gate_id: str,
        inside_antenna: int,
        outside_antenna: int,
        params: GateParams | None = None,
        *,
        rssi_unit: str = "dbm",
    ) -> None:
        if inside_antenna == outside_antenna:
            raise ValueError("inside and outside antenna must differ")
        p = params or GateParams()
        self.gate_id = gate_id
        self.params = p
        self.rssi_unit = rssi_unit
        self._to_dbm = None if rssi_unit == "dbm" else converter(rssi_unit)
        self._sides = {inside_antenna: _INSIDE, outside_antenna: _OUTSIDE}
        self._silence = p.exit_silence_s
        self._cooldown = p.cooldown_s
        self._visits: dict[str, _Visit] = {}  # ordered by latest read, oldest first
        self._quiet_until: dict[str, float] = {}  # epc -> end of its cool-down, oldest first
        self._recent: deque[tuple[float, str]] = deque(maxlen=256)  # (at, direction) reported
        # epc -> (decide until, visit start, visit end, side it would have gone to, at)
        self._undecided: dict[str, tuple[float, float, float, int, float]] = {}
        self.ignored_reads = 0
        """Reads from antennas other than the gate's two."""
        self.suppressed = 0
        """Crossings not reported because they fell within a cool-down."""
        self.unusable_rssi = 0
        """Reads whose strength could not be converted (used without their strength)."""

    @property
    def active_tracks(self) -> int:
        """Tags currently at the gate (visits not yet ended)."""
        return len(self._visits)

    def observe(self, read: TagRead) -> list[Passage]:
        """One read by the gate's reader."""
        side = self._sides.get(read.antenna)
        if side is None:
            self.ignored_reads += 1
            return []
        epc, t = read.epc, read.t
        out: list[Passage] = []
        visit = self._visits.pop(epc, None)  # re-inserted below: the dict stays ordered by read
        if visit is not None and t - visit.last >= self._silence:
            self._close(epc, visit, t, out)
            visit = None
        if visit is None:
            visit = _Visit(t)
            if self._undecided:
                self._undecided.pop(epc, None)  # back at the gate: a new visit
        elif t > visit.last:
            visit.last = t
        index = int((t - visit.start) / visit.width)
        if index > visit.cur:
            self._finish_bin(epc, visit, index, t, out)
        # The side's reads, reads with RSSI and dBm sum sit 2 apart from its offset (0 or 1).
        o = visit.cur * _STRIDE + side - _INSIDE
        bins = visit.bins
        bins[o] += 1.0
        rssi = read.rssi
        if rssi is not None:
            if self._to_dbm is not None:
                rssi = self._to_dbm(rssi)
            elif not math.isfinite(rssi):
                rssi = None
            if rssi is None:
                self.unusable_rssi += 1
            else:
                bins[o + 2] += 1.0
                bins[o + 4] += rssi
        self._visits[epc] = visit
        return out

    def observe_many(self, reads: Iterable[TagRead]) -> list[Passage]:
        """``observe`` for each read of a batch."""
        out: list[Passage] = []
        for read in reads:
            passages = self.observe(read)
            if passages:
                out.extend(passages)
        return out

    def tick(self, now: float) -> list[Passage]:
        """End and decide the visits that fell silent."""
        out: list[Passage] = []
        visits = self._visits
        while visits:
            epc = next(iter(visits))
            visit = visits[epc]
            if now - visit.last < self._silence:
                break
            del visits[epc]
            self._close(epc, visit, now, out)
        if self._undecided:
            self._with_companions(now, out)
        # A cool-down can be dropped once it is over and its tag has left: a later crossing
        # of a tag still at the gate may have begun (``at``) before the cool-down ended.
        quiet = self._quiet_until
        for _ in range(len(quiet)):
            epc = next(iter(quiet))
            if quiet[epc] > now:
                break
            until = quiet.pop(epc)
            if epc in visits:
                quiet[epc] = until  # look again later
        return out

    # -- evidence -------------------------------------------------------------------------------

    def _balance(self, s: list[float], prior: float = 1.0) -> tuple[float, float]:
        """(balance in dB, positive towards the inside; reads of the side it leans to), with
        ``prior`` reads added to each side's count."""
        p = self.params
        balance = p.rssi_doubling * math.log2((s[_N_IN] + prior) / (s[_N_OUT] + prior))
        if s[_R_IN] > 0.0 and s[_R_OUT] > 0.0:
            balance += s[_S_IN] / s[_R_IN] - s[_S_OUT] / s[_R_OUT]
        return balance, s[_N_IN] if balance > 0.0 else s[_N_OUT]

    def _leans(self, s: list[float], margin: float, prior: float = 1.0) -> int:
        """The side the sums lean to by at least ``margin`` dB with enough reads (0: neither);
        ``prior`` reads are added to each side's count."""
        balance, reads = self._balance(s, prior)
        if reads < self.params.min_side_reads or abs(balance) < margin or balance == 0.0:
            return 0
        return _INSIDE if balance > 0.0 else _OUTSIDE

    def _finish_bin(
        self, epc: str, visit: _Visit, index: int, now: float, out: list[Passage]
    ) -> None:
        """The current bin is complete (a read fell in bin ``index``): add it to the totals,
        look for a conclusive early decision, and merge bins if the visit grew long."""
        bins, total = visit.bins, visit.total
        o = visit.cur * _STRIDE
        for k in range(_STRIDE):
            total[k] += bins[o + k]
        finished = visit.cur + 1
        bins.extend([0.0] * (_STRIDE * (index - visit.cur)))
        visit.cur = index
        self._early(epc, visit, finished, now, out)
        if visit.cur >= MAX_BINS:
            merged = [0.0] * (_STRIDE * (visit.cur // 2 + 1))
            for i in range(len(visit.bins)):
                merged[(i // (2 * _STRIDE)) * _STRIDE + i % _STRIDE] += visit.bins[i]
            visit.bins = merged
            visit.cur //= 2
            visit.width *= 2.0
            visit.total = _sum(merged, 0, visit.cur)

    def _early(
        self, epc: str, visit: _Visit, finished: int, now: float, out: list[Passage]
    ) -> None:
        """Decide before the visit ends when the evidence is already conclusive: the last
        ``confirm_s`` lean by ``conclusive_db`` away from all before; or the tag has been on
        the far side, by the full ``margin_db``, for ``linger_s`` (a box carried out and put
        down within range)."""
        p = self.params
        recent_bins = max(1, round(p.confirm_s / visit.width))
        if finished < 2 * recent_bins:
            return  # the side it came from must have been heard as long
        recent = _sum(visit.bins, finished - recent_bins, finished)
        to = self._leans(recent, p.conclusive_db)
        if to != 0:
            before = [a - b for a, b in zip(visit.total, recent, strict=True)]
            came_from = self._leans(before, p.conclusive_db)
            if came_from not in (0, to):
                prefix = self._prefix(visit, finished)
                crossed = self._last_lean(visit, came_from, p.smoothing_s, prefix)
                at = self._crossing_time(visit, crossed, to, p.smoothing_s, prefix)
                self._report(epc, to, at, now, out)
                self._restart(visit)
                return
        linger_bins = p.linger_s / visit.width
        if p.linger_s <= 0.0 or finished % _LINGER_EVERY or finished < linger_bins:
            return
        span = finished * visit.width
        if span > _LINGER_HORIZON_S:
            return
        first_bins = max(1, math.ceil(max(p.edge_share * span, p.smoothing_s) / visit.width))
        came_from = self._leans(_sum(visit.bins, 0, min(first_bins, finished)), p.margin_db)
        if came_from == 0:
            return
        prefix = self._prefix(visit, finished)
        crossed = self._last_lean(visit, came_from, p.smoothing_s, prefix)
        if finished - crossed < linger_bins:
            return
        to = self._leans(_sum(visit.bins, crossed, finished), p.margin_db)
        if to in (0, came_from) or not self._held(visit, crossed, finished, to):
            return
        at = self._crossing_time(visit, crossed, to, p.smoothing_s, prefix)
        self._report(epc, to, at, now, out)
        self._restart(visit)

    def _held(self, visit: _Visit, first: int, stop: int, side: int) -> bool:
        """Did every ``smoothing_s`` window from bin ``first`` to ``stop`` that was heard lean
        to ``side`` by ``linger_margin_db``? A box put down beyond the gate does; a box held
        by a person standing in the doorway, heard by both antennas about equally, swings
        back and forth with every shift of weight and fade."""
        margin = self.params.linger_margin_db
        if margin <= 0.0:
            return True
        window = max(1, round(self.params.smoothing_s / visit.width))
        sign = 1.0 if side == _INSIDE else -1.0
        for lo in range(first, stop - window + 1, window):
            s = _sum(visit.bins, lo, lo + window)
            if s[_N_IN] + s[_N_OUT] < self.params.min_side_reads:
                continue  # not heard: no evidence either way
            if self._balance(s)[0] * sign < margin:
                return False
        return True

    @staticmethod
    def _restart(visit: _Visit) -> None:
        """After an early passage the visit goes on from its current bin: what came before
        is decided."""
        start = visit.start + visit.cur * visit.width
        o = visit.cur * _STRIDE
        visit.bins = visit.bins[o : o + _STRIDE]
        visit.start = start
        visit.cur = 0
        visit.total = [0.0] * _STRIDE

    def _close(self, epc: str, visit: _Visit, now: float, out: list[Passage]) -> None:
        """Decide a visit that ended; one the rule leaves undecided may still go with tags that
        crossed with it (decided at a later tick, when they have been decided too)."""
        if self._decide(epc, visit, now, out) or not self.params.companions:
            return
        stop = visit.cur + 1
        half = max(1, stop // 2)
        came_from = self._leans(_sum(visit.bins, 0, half), 0.0)
        if came_from == 0:
            return
        after = self._balance(_sum(visit.bins, half, stop))[0]
        if after * (1.0 if came_from == _INSIDE else -1.0) >= self.params.margin_db:
            return  # it ended clearly on the side it came from
        went_to = _OUTSIDE if came_from == _INSIDE else _INSIDE
        at = min(visit.start + half * visit.width, visit.last)
        self._undecided[epc] = (now + self._silence, visit.start, visit.last, went_to, at)

    def _with_companions(self, now: float, out: list[Passage]) -> None:
        """A box in the middle of a cart is shadowed by the others and heard too little to be
        sure by itself. If at least ``companions`` tags crossed one way while it was at the
        gate and it came from the side they came from, without ending clearly back there, it
        went with them."""
        recent = self._recent
        while recent and recent[0][0] < now - 120.0:
            recent.popleft()
        for epc, (until, start, last, went_to, at) in list(self._undecided.items()):
            direction = "in" if went_to == _INSIDE else "out"
            together = sum(1 for t, way in recent if way == direction and start <= t <= last)
            if together >= self.params.companions:
                del self._undecided[epc]
                self._report(epc, went_to, at, now, out)
            elif now >= until:
                del self._undecided[epc]

    def _decide(self, epc: str, visit: _Visit, now: float, out: list[Passage]) -> bool:
        """The visit ended: the tag went through if its start leaned to one side by
        ``margin_db``, and all of it after the last moment it leaned so leans to the other
        side by ``late_margin_db`` for at least ``dwell_s``."""
        p = self.params
        width = visit.width
        span = visit.last - visit.start
        stop = visit.cur + 1
        smoothing = min(p.smoothing_s, max(span / 4.0, width))  # short visits: finer
        first_bins = max(1, math.ceil(max(p.edge_share * span, smoothing) / width))
        came_from = self._leans(_sum(visit.bins, 0, min(first_bins, stop)), p.margin_db)
        if came_from == 0:
            return False
        prefix = self._prefix(visit, stop)
        crossed = self._last_lean(visit, came_from, smoothing, prefix)
        if (stop - crossed) * width < p.dwell_s:
            return False
        after = _sum(visit.bins, crossed, stop)
        total = visit.total[_N_IN] + visit.total[_N_OUT] + visit.bins[visit.cur * _STRIDE]
        total += visit.bins[visit.cur * _STRIDE + _N_OUT]
        if after[_N_IN] + after[_N_OUT] < p.late_share * total:
            return False  # a few reads at the end of a walk-past are no crossing
        went_to = self._leans(after, p.late_margin_db)
        if went_to in (0, came_from):
            return False
        if 0.0 < p.standing_s <= (stop - crossed) * width and not self._held(
            visit, crossed, stop, went_to
        ):
            return False  # stood in the doorway, swaying, and went back
        at = self._crossing_time(visit, crossed, went_to, smoothing, prefix)
        self._report(epc, went_to, at, now, out)
        return True

    def _crossing_time(
        self,
        visit: _Visit,
        crossed: int,
        went_to: int,
        smoothing: float,
        prefix: list[list[float]],
    ) -> float:
        """Crossing estimate: halfway between the middle of the last window that leaned to
        the side the tag came from (ending at bin ``crossed``) and the middle of the first
        one after it that leans to ``went_to``."""
        window = max(1, round(smoothing / visit.width))
        margin = self.params.late_margin_db
        came_from_mid = crossed - window / 2.0
        went_to_mid = float(crossed)
        for i in range(crossed + 1, len(prefix)):
            lo, hi = prefix[max(0, i - window)], prefix[i]
            if self._leans([a - b for a, b in zip(hi, lo, strict=True)], margin) == went_to:
                went_to_mid = i - window / 2.0
                break
        middle = max(0.0, (came_from_mid + went_to_mid) / 2.0)
        return min(visit.start + middle * visit.width, visit.last)

    @staticmethod
    def _prefix(visit: _Visit, stop: int) -> list[list[float]]:
        bins = visit.bins
        prefix = [[0.0] * _STRIDE]
        for i in range(stop):
            row = prefix[-1][:]
            o = i * _STRIDE
            for k in range(_STRIDE):
                row[k] += bins[o + k]
            prefix.append(row)
        return prefix

    def _last_lean(
        self, visit: _Visit, side: int, smoothing: float, prefix: list[list[float]]
    ) -> int:
        """The bin after the last window of ``smoothing`` seconds (each window a difference of
        two of the ``prefix`` sums) that leans to ``side`` by ``margin_db``: where the tag
        crossed, if it did."""
        window = max(1, round(smoothing / visit.width))
        margin = self.params.margin_db
        stop = len(prefix) - 1
        heard = prefix[stop][_N_IN] + prefix[stop][_N_OUT]
        prior = max(1.0, self.params.sparse_share * heard * min(window, stop) / max(stop, 1))
        for i in range(len(prefix) - 1, 0, -1):
            lo = prefix[max(0, i - window)]
            hi = prefix[i]
            if self._leans([a - b for a, b in zip(hi, lo, strict=True)], margin, prior) == side:
                return i
        return 0

    def _report(self, epc: str, to: int, at: float, now: float, out: list[Passage]) -> None:
        quiet_until = self._quiet_until.pop(epc, -math.inf)
        if at < quiet_until:
            self.suppressed += 1
            self._quiet_until[epc] = quiet_until
            return
        direction: Direction = "in" if to == _INSIDE else "out"
        out.append(Passage(epc, self.gate_id, direction, at, now))
        self._recent.append((at, direction))
        self._quiet_until[epc] = at + self._cooldown
