"""Gate passages: which way a tagged item went through a door, from the reads of two antennas.

A door gate has one antenna facing the room ("inside") and one facing out ("outside"). Each
also hears tags on the other side, more weakly (its back lobe, reflections off the door frame
and the floor), and multipath fading swings a single read by 10 dB or more. A tag carried
slowly through is read for many seconds, and for much of that time both antennas hear it about
equally well: read by read, the stronger side changes hands many times. Deciding at each change
of hands is what turned one crossing into two opposite passages and a turn-back into a crossing.

So the unit of decision is the tag's **visit** to the gate: from its first read to
``exit_silence_s`` of silence. Within it, per tag, the engine keeps a smoothed strength for each
side: its read rate (exponentially smoothed over ``smoothing_s``) times 2 to the power of its
average RSSI over ``rssi_doubling`` dB (averaging decibels, so one lucky read does not swing
it). A side *leads* once it is ``dominance`` times stronger than the other, and the lead only
changes hands at that ratio. The tag *has been on* a side once that side led for
``min_side_reads`` reads and ``dwell_s`` seconds. The visit's direction is where the tag came
from (the first side it has been on) and where it was at the end (the side that led at its
last read, if it had been there). Hence:

- one crossing is one passage, however often the lead changed hands in between;
- turn-back: the tag comes from a side and ends its visit on that side, no passage, even if
  the far side led for a while at the turning point;
- walk-past, a tag parked near the gate, a person standing in the doorway: the visit starts
  and ends on the same side (or never leaves the middle), no passage;
- a single read, or one read each side: no side ever counts, no passage.

The end of a visit comes ``exit_silence_s`` after the last read, which would hold the alarm of
a tag carried out and still heard down the corridor. So a passage is decided early when the
evidence is already conclusive: the tag has been on the far side for ``confirm_s`` and both the
side it came from and the side it is on led by at least ``conclusive`` times. After an early
decision the visit goes on with the far side as its origin (a tag carried out and straight back
in is two passages, the second decided at the end of the visit or early, as the first).

A passage's ``at`` is the crossing estimate: the time of the read at which the side the tag went
to became the stronger (the tag passing the gate plane; without RSSI, a little later).
``decided_at`` is when the engine decided: the read that made the evidence conclusive, or the
tick that noticed the silence. After a passage, another passage of the same tag whose crossing
falls within ``cooldown_s`` is not reported.

Each reader reports strength in its own unit (``rssi_unit``); the engine converts to dBm on the
way in (``rfid.rssi``). Work per read is constant: a dictionary lookup, two exponentials and a
few comparisons. The engine is pure: time comes from the reads and from ``tick(now)``, which
the daemon calls often (every 0.1 s or so) so that visits that end in silence, and early
decisions that only need time to pass, are decided without waiting for another read.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from drivers.tagread import TagRead
from rfid.config import GateParams
from rfid.rssi import converter

Direction = Literal["in", "out"]

_INSIDE = 1
_OUTSIDE = 2
_EXPONENT_LIMIT = 100.0


@dataclass(frozen=True, slots=True)
class Passage:
    """A tag went through the gate: "in" (into the room) or "out"."""

    epc: str
    gate: str
    direction: Direction
    at: float
    """Crossing estimate: when the side the tag went to took the lead."""
    decided_at: float
    """When the engine decided (the deciding read, or the tick that noticed the silence)."""


class _Visit:
    """One tag's visit to the gate."""

    __slots__ = (
        "base",
        "base_peak",
        "last",
        "lead",
        "lead_peak",
        "lead_reads",
        "lead_since",
        "rated_in",
        "rated_out",
        "reads_in",
        "reads_out",
        "rssi_in",
        "rssi_out",
        "settled_at",
        "tilt",
        "tilt_since",
    )

    def __init__(self, t: float) -> None:
        self.last = t
        self.settled_at = t  # from then on both antennas have had their turn (see below)
        # Per side, exponentially smoothed: reads, reads that carried an RSSI, their dBm sum.
        self.reads_in = self.reads_out = 0.0
        self.rated_in = self.rated_out = 0.0
        self.rssi_in = self.rssi_out = 0.0
        self.lead = 0  # side that leads (0: none yet)
        self.lead_since = t
        self.lead_reads = 0  # reads on the leading side since it took the lead
        self.lead_peak = 0.0  # strongest lead (ratio) seen since it took the lead
        self.base = 0  # side the tag came from (0: not yet known)
        self.base_peak = 0.0  # strongest lead seen while the tag was on that side
        self.tilt = 0  # side that is the stronger, however slightly
        self.tilt_since = t


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
        self._tau = p.smoothing_s
        self._dominance = p.dominance
        self._min_reads = p.min_side_reads
        self._dwell = p.dwell_s
        self._confirm = p.confirm_s
        self._conclusive = p.conclusive
        self._silence = p.exit_silence_s
        self._cooldown = p.cooldown_s
        self._doubling = p.rssi_doubling
        self._visits: dict[str, _Visit] = {}  # ordered by latest read, oldest first
        self._pending: set[str] = set()  # visits whose lead is away from where they came from
        self._quiet_until: dict[str, float] = {}  # epc -> end of its cool-down, oldest first
        self.ignored_reads = 0
        """Reads from antennas other than the gate's two."""
        self.suppressed = 0
        """Crossings not reported because they fell within a cool-down."""
        self.unusable_rssi = 0
        """Reads whose strength could not be converted (counted, used without RSSI)."""

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
            visit.settled_at = t + self._tau
        elif t > visit.last:
            fade = math.exp((visit.last - t) / self._tau)
            visit.reads_in *= fade
            visit.reads_out *= fade
            visit.rssi_in *= fade
            visit.rssi_out *= fade
            visit.rated_in *= fade
            visit.rated_out *= fade
            visit.last = t
        rssi = read.rssi
        if rssi is not None:
            if self._to_dbm is not None:
                rssi = self._to_dbm(rssi)
            elif not math.isfinite(rssi):
                rssi = None
            if rssi is None:
                self.unusable_rssi += 1
        if side == _INSIDE:
            visit.reads_in += 1.0
            if rssi is not None:
                visit.rssi_in += rssi
                visit.rated_in += 1.0
        else:
            visit.reads_out += 1.0
            if rssi is not None:
                visit.rssi_out += rssi
                visit.rated_out += 1.0
        ratio = self._ratio(visit, side)
        if ratio >= 1.0 and visit.tilt != side:
            visit.tilt = side
            visit.tilt_since = t
        # Until both antennas have had their turn, a side's lead may only mean that the other
        # antenna was not listening yet: it counts, but not as conclusive.
        peak = ratio if t >= visit.settled_at else 1.0
        if side == visit.lead:
            visit.lead_reads += 1
            visit.lead_peak = max(visit.lead_peak, peak)
        elif visit.lead == 0 or ratio >= self._dominance:
            self._leave(visit, t)
            visit.lead = side
            visit.lead_since = visit.tilt_since if visit.tilt == side else t
            visit.lead_reads = 1
            visit.lead_peak = peak
        self._visits[epc] = visit
        self._advance(epc, visit, t, out)
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
        """End the visits that fell silent; decide the early passages whose time has come."""
        out: list[Passage] = []
        visits = self._visits
        while visits:
            epc = next(iter(visits))
            visit = visits[epc]
            if now - visit.last < self._silence:
                break
            del visits[epc]
            self._close(epc, visit, now, out)
        for epc in list(self._pending):
            self._advance(epc, visits[epc], now, out)
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

    def _ratio(self, visit: _Visit, side: int) -> float:
        """How many times stronger ``side`` is than the other: smoothed read rate times the
        smoothed RSSI difference (averaged in dB, so one lucky read does not swing it)."""
        if side == _INSIDE:
            reads, other_reads = visit.reads_in, visit.reads_out
            rated, other_rated = visit.rated_in, visit.rated_out
            rssi, other_rssi = visit.rssi_in, visit.rssi_out
        else:
            reads, other_reads = visit.reads_out, visit.reads_in
            rated, other_rated = visit.rated_out, visit.rated_in
            rssi, other_rssi = visit.rssi_out, visit.rssi_in
        if other_reads <= 0.0:
            return math.inf
        ratio = reads / other_reads
        if rated > 0.0 and other_rated > 0.0:
            gap = (rssi / rated - other_rssi / other_rated) / self._doubling
            ratio *= math.exp2(min(max(gap, -_EXPONENT_LIMIT), _EXPONENT_LIMIT))
        return ratio

    def _held(self, visit: _Visit, now: float) -> bool:
        """The leading side has led long enough for the tag to count as having been there."""
        since = max(visit.lead_since, visit.settled_at)
        return visit.lead_reads >= self._min_reads and now - since >= self._dwell

    def _leave(self, visit: _Visit, now: float) -> None:
        """The lead is about to change hands: a first side held long enough is the origin."""
        if visit.base == 0 and visit.lead != 0 and self._held(visit, visit.last):
            visit.base = visit.lead
            visit.base_peak = visit.lead_peak
        elif visit.lead == visit.base and visit.lead_peak > visit.base_peak:
            visit.base_peak = visit.lead_peak

    def _advance(self, epc: str, visit: _Visit, now: float, out: list[Passage]) -> None:
        """Learn where the tag came from; decide early when the evidence is conclusive."""
        lead = visit.lead
        if visit.base == 0:
            if self._held(visit, now):
                visit.base = lead
                visit.base_peak = visit.lead_peak
            self._pending.discard(epc)
            return
        if lead == visit.base:
            visit.base_peak = max(visit.base_peak, visit.lead_peak)
            self._pending.discard(epc)
            return
        self._pending.add(epc)
        if (
            visit.lead_reads >= self._min_reads
            and now - visit.lead_since >= max(self._confirm, self._dwell)
            and visit.lead_peak >= self._conclusive
            and visit.base_peak >= self._conclusive
        ):
            self._pass(epc, visit, now, out)

    def _close(self, epc: str, visit: _Visit, now: float, out: list[Passage]) -> None:
        """The visit ended: the tag went through if it ended on another side than it came
        from, and had been on that side."""
        self._pending.discard(epc)
        if visit.base in (0, visit.lead):
            return
        if self._held(visit, visit.last):
            self._pass(epc, visit, now, out)

    def _pass(self, epc: str, visit: _Visit, now: float, out: list[Passage]) -> None:
        """The tag went from its origin to the leading side."""
        self._pending.discard(epc)
        visit.base = visit.lead
        visit.base_peak = visit.lead_peak
        at = visit.lead_since
        quiet_until = self._quiet_until.pop(epc, -math.inf)
        if at < quiet_until:
            self.suppressed += 1
            self._quiet_until[epc] = quiet_until
            return
        direction: Direction = "in" if visit.lead == _INSIDE else "out"
        out.append(Passage(epc, self.gate_id, direction, at, now))
        self._quiet_until[epc] = at + self._cooldown
