"""Per-minute climate history: min, mean and max of each sensor's readings in each minute.

Readings arrive every few seconds per sensor; storing each one would make the history table
grow by millions of rows a month for no gain, while a minute's min/avg/max keeps everything a
chart or an audit of the storage climate needs. The aggregator is pure: it is fed readings and
returns the minutes that are closed (a later minute has started for that sensor, or the clock
has passed the minute's end), each exactly once. ``drain`` hands over the open minutes as they
stand without closing them (a periodic or final flush); a later reading of such a minute starts
a second partial aggregate of it, and the store merges the two (counts add up, extremes widen,
means are weighted by count), so a flush in the middle of a minute loses nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sensors.readings import Reading

MINUTE_S = 60


@dataclass(frozen=True, slots=True)
class MinuteAggregate:
    sensor: str
    room: str
    minute: int
    """Start of the minute, whole seconds since the epoch."""
    count: int
    temperature_min_c: float
    temperature_avg_c: float
    temperature_max_c: float
    humidity_min_pct: float
    humidity_avg_pct: float
    humidity_max_pct: float


@dataclass(slots=True)
class _Open:
    room: str
    minute: int
    count: int
    t_min: float
    t_sum: float
    t_max: float
    h_min: float
    h_sum: float
    h_max: float

    def close(self, sensor: str) -> MinuteAggregate:
        return MinuteAggregate(
            sensor=sensor,
            room=self.room,
            minute=self.minute,
            count=self.count,
            temperature_min_c=self.t_min,
            temperature_avg_c=round(self.t_sum / self.count, 4),
            temperature_max_c=self.t_max,
            humidity_min_pct=self.h_min,
            humidity_avg_pct=round(self.h_sum / self.count, 4),
            humidity_max_pct=self.h_max,
        )


class MinuteAggregator:
    def __init__(self) -> None:
        self._open: dict[str, _Open] = {}
        self._last_closed: dict[str, int] = {}
        self.late = 0
        """Readings dropped because their minute had already been closed."""

    def add(self, reading: Reading) -> list[MinuteAggregate]:
        """Fold ``reading`` in; returns the sensor's minute it closed, if any."""
        minute = math.floor(reading.t / MINUTE_S) * MINUTE_S
        closed: list[MinuteAggregate] = []
        current = self._open.get(reading.sensor)
        late_for_open = current is not None and minute < current.minute
        if late_for_open or minute <= self._last_closed.get(reading.sensor, -1):
            self.late += 1
            return closed
        if current is not None and minute > current.minute:
            closed.append(self._close(reading.sensor))
            current = None
        t, h = reading.temperature_c, reading.humidity_pct
        if current is None:
            self._open[reading.sensor] = _Open(reading.room, minute, 1, t, t, t, h, h, h)
        else:
            current.count += 1
            current.t_min = min(current.t_min, t)
            current.t_max = max(current.t_max, t)
            current.t_sum += t
            current.h_min = min(current.h_min, h)
            current.h_max = max(current.h_max, h)
            current.h_sum += h
        return closed

    def flush(self, now: float) -> list[MinuteAggregate]:
        """Close every open minute that ended at or before ``now`` (silent sensors)."""
        due = [s for s, o in self._open.items() if o.minute + MINUTE_S <= now]
        return [self._close(s) for s in due]

    def drain(self) -> list[MinuteAggregate]:
        """Hand over every open minute as it stands, leaving it open for later readings."""
        drained = [o.close(s) for s, o in self._open.items()]
        self._open.clear()
        return drained

    def close_all(self) -> list[MinuteAggregate]:
        """Close everything still open (at shutdown)."""
        return [self._close(s) for s in list(self._open)]

    def _close(self, sensor: str) -> MinuteAggregate:
        current = self._open.pop(sensor)
        self._last_closed[sensor] = current.minute
        return current.close(sensor)
