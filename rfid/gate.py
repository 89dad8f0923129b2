"""Gate passages: which way a tagged item went through a door, from the reads of two antennas.

A door gate has one antenna facing the room ("inside") and one facing out ("outside"). Each
also hears tags on the other side, more weakly (its back lobe, reflections off the door
frame), and a tag carried along the corridor or parked near the door is read for as long as it
stays there. So a read on the outside antenna proves nothing; what shows a crossing is the
*balance* moving: the inside antenna hears the tag best, then the outside one does, and keeps
doing so.

Per tag, the engine keeps a smoothed strength for each side: its read rate (exponentially
smoothed over ``smoothing_s``) times the difference of its average RSSI, in dB, when the reader
reports RSSI (averaging decibels, not powers, so that one lucky read does not swing it). A side
*leads* once it is ``dominance`` times stronger than the other; the lead only changes hands at
that ratio, so a tag in the middle does not flicker. The tag *is on* a side once that side has
led for ``min_side_reads`` reads and ``confirm_s`` seconds, or for ``min_side_reads`` reads
before the tag fell silent (``exit_silence_s`` without a read ends its visit to the gate). The
time condition matters because a reader switches between its antennas: for the first quarter
second only one of them may be listening. A passage is the tag being on one side, then on the
other. Hence:

- walk-past on one side: that side leads throughout, no passage;
- turn-back: the far side is heard weakly or briefly, the lead comes back, no passage;
- a tag parked near the gate: read for hours, but one side always leads, no passage;
- a single read: no side ever leads for ``min_side_reads`` reads, no passage.

A passage's ``at`` is the crossing estimate: the time of the read at which the side the tag
went to became the stronger (the tag passing the gate plane; without RSSI, a little later).
``decided_at`` is when the engine became sure (``confirm_s`` later, or when the silence was
noticed), which is what a latency budget measures. After a passage, another passage of the same
tag whose crossing falls within ``cooldown_s`` is not reported (one crossing, one passage,
however the signal wobbles).

Work per read is constant: a dictionary lookup, two exponentials and a few comparisons. The
engine is pure: time comes from the reads and from ``tick(now)``, which the daemon calls often
(every 0.1 s or so) so that tags that simply fall silent are decided without waiting for
another read.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from drivers.tagread import TagRead
from rfid.config import GateParams

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


class _Track:
    """One tag's visit to the gate."""

    __slots__ = (
        "last",
        "lead",
        "lead_reads",
        "lead_since",
        "rated_in",
        "rated_out",
        "reads_in",
        "reads_out",
        "rssi_in",
        "rssi_out",
        "side",
        "tilt",
        "tilt_since",
    )

    def __init__(self, t: float) -> None:
        self.last = t
        # Per side, exponentially smoothed: reads, reads that carried an RSSI, their RSSI sum.
        self.reads_in = self.reads_out = 0.0
        self.rated_in = self.rated_out = 0.0
        self.rssi_in = self.rssi_out = 0.0
        self.lead = 0  # side that leads (0: none yet)
        self.lead_since = t
        self.lead_reads = 0  # reads on the leading side since it took the lead
        self.side = 0  # side the tag is known to be on (0: not yet known)
        self.tilt = 0  # side that is the stronger, however slightly
        self.tilt_since = t


class GateEngine:
    """Turns the reads of one gate's two antennas into passages."""

    def __init__(
        self,
        gate_id: str,
        inside_antenna: int,
        outside_antenna: int,
        params: GateParams | None = None,
    ) -> None:
        if inside_antenna == outside_antenna:
            raise ValueError("inside and outside antenna must differ")
        p = params or GateParams()
        self.gate_id = gate_id
        self.params = p
        self._sides = {inside_antenna: _INSIDE, outside_antenna: _OUTSIDE}
        self._tau = p.smoothing_s
        self._dominance = p.dominance
        self._min_reads = p.min_side_reads
        self._confirm = p.confirm_s
        self._silence = p.exit_silence_s
        self._cooldown = p.cooldown_s
        self._doubling = p.rssi_doubling
        self._tracks: dict[str, _Track] = {}  # ordered by latest read, oldest first
        self._pending: set[str] = set()  # tracks whose lead is on the far side
        self._quiet_until: dict[str, float] = {}  # epc -> end of its cool-down, oldest first
        self.ignored_reads = 0
        """Reads from antennas other than the gate's two."""
        self.suppressed = 0
        """Crossings not reported because they fell within a cool-down."""

    @property
    def active_tracks(self) -> int:
        """Tags currently at the gate."""
        return len(self._tracks)

    def observe(self, read: TagRead) -> list[Passage]:
        """One read by the gate's reader."""
        side = self._sides.get(read.antenna)
        if side is None:
            self.ignored_reads += 1
            return []
        epc, t = read.epc, read.t
        out: list[Passage] = []
        track = self._tracks.pop(epc, None)  # re-inserted below: the dict stays ordered by read
        if track is not None and t - track.last >= self._silence:
            self._close(epc, track, t, out)
            track = None
        if track is None:
            track = _Track(t)
        elif t > track.last:
            fade = math.exp((track.last - t) / self._tau)
            track.reads_in *= fade
            track.reads_out *= fade
            track.rssi_in *= fade
            track.rssi_out *= fade
            track.rated_in *= fade
            track.rated_out *= fade
            track.last = t
        rssi = read.rssi
        if rssi is not None and not math.isfinite(rssi):
            rssi = None
        if side == _INSIDE:
            track.reads_in += 1.0
            if rssi is not None:
                track.rssi_in += rssi
                track.rated_in += 1.0
        else:
            track.reads_out += 1.0
            if rssi is not None:
                track.rssi_out += rssi
                track.rated_out += 1.0
        ratio = self._ratio(track, side)
        if ratio >= 1.0 and track.tilt != side:
            track.tilt = side
            track.tilt_since = t
        if side == track.lead:
            track.lead_reads += 1
        elif track.lead == 0 or ratio >= self._dominance:
            track.lead = side
            track.lead_since = track.tilt_since if track.tilt == side else t
            track.lead_reads = 1
        self._tracks[epc] = track
        if track.lead != track.side:
            self._pending.add(epc)
            if track.lead_reads >= self._min_reads and t - track.lead_since >= self._confirm:
                self._settle(epc, track, t, out)
        else:
            self._pending.discard(epc)
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
        """Decide the tags that fell silent and the crossings whose confirmation time is over."""
        out: list[Passage] = []
        tracks = self._tracks
        while tracks:
            epc = next(iter(tracks))
            track = tracks[epc]
            if now - track.last < self._silence:
                break
            del tracks[epc]
            self._close(epc, track, now, out)
        for epc in list(self._pending):
            track = tracks[epc]
            if track.lead_reads >= self._min_reads and now - track.lead_since >= self._confirm:
                self._settle(epc, track, now, out)
        # A cool-down can be dropped once it is over and its tag has left: a later crossing
        # of a tag still at the gate may have begun (``at``) before the cool-down ended.
        quiet = self._quiet_until
        for _ in range(len(quiet)):
            epc = next(iter(quiet))
            if quiet[epc] > now:
                break
            until = quiet.pop(epc)
            if epc in tracks:
                quiet[epc] = until  # look again later
        return out

    def _ratio(self, track: _Track, side: int) -> float:
        """How many times stronger ``side`` is than the other: smoothed read rate times the
        smoothed RSSI difference (averaged in dB, so one lucky read does not swing it)."""
        if side == _INSIDE:
            reads, other_reads = track.reads_in, track.reads_out
            rated, other_rated = track.rated_in, track.rated_out
            rssi, other_rssi = track.rssi_in, track.rssi_out
        else:
            reads, other_reads = track.reads_out, track.reads_in
            rated, other_rated = track.rated_out, track.rated_in
            rssi, other_rssi = track.rssi_out, track.rssi_in
        if other_reads <= 0.0:
            return math.inf
        ratio = reads / other_reads
        if rated > 0.0 and other_rated > 0.0:
            gap = (rssi / rated - other_rssi / other_rated) / self._doubling
            ratio *= math.exp2(min(max(gap, -_EXPONENT_LIMIT), _EXPONENT_LIMIT))
        return ratio

    def _close(self, epc: str, track: _Track, now: float, out: list[Passage]) -> None:
        """The tag fell silent: a lead with enough reads stands, however short."""
        if track.lead != track.side and track.lead_reads >= self._min_reads:
            self._settle(epc, track, now, out)
        self._pending.discard(epc)

    def _settle(self, epc: str, track: _Track, now: float, out: list[Passage]) -> None:
        """The leading side is where the tag is; if it was known to be on the other, it crossed."""
        came_from = track.side
        track.side = track.lead
        self._pending.discard(epc)
        if came_from == 0:
            return
        at = track.lead_since
        quiet_until = self._quiet_until.pop(epc, -math.inf)
        if at < quiet_until:
            self.suppressed += 1
            self._quiet_until[epc] = quiet_until
            return
        direction: Direction = "in" if track.lead == _INSIDE else "out"
        out.append(Passage(epc, self.gate_id, direction, at, now))
        self._quiet_until[epc] = at + self._cooldown
