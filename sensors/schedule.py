"""When to poll each sensor of one bus, and whether each sensor is up.

An RS485 line carries one request at a time, so the sensors of a bus take turns. Each sensor
has its own interval; the next poll is due one interval after the previous *due time* (not
after the answer), so a slow answer elsewhere on the bus makes a sensor late once but never
lowers its polling rate. The earliest due sensor goes first, so no sensor can starve another.

A sensor that answers nothing (or nothing usable) ``lazy_error_count`` times in a row is marked
down. A down sensor costs the bus a full timeout per attempt, so it is then only probed every
``down_retry_s``: a dead sensor can delay its neighbours by at most one timeout per probe. A
sensor whose registers stay bit-for-bit identical for ``stuck_after_s`` is also marked down:
a real element at 0.1 resolution always jitters, a frozen one does not.

Pure: the caller passes the current (monotonic) time and what happened.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from enum import Enum


class Health(Enum):
    UNKNOWN = "unknown"
    UP = "up"
    DOWN = "down"


@dataclass(frozen=True, slots=True)
class Transition:
    """A sensor went up or down (reported once per change)."""

    sensor: str
    up: bool
    reason: str


@dataclass(frozen=True, slots=True)
class Outcome:
    deliver: bool
    """Whether the measurement just read may be used (false while the sensor is stuck)."""
    transition: Transition | None


@dataclass(slots=True)
class _Slot:
    sensor: str
    interval_s: float
    lazy_error_count: int
    stuck_after_s: float | None
    due: float
    health: Health = Health.UNKNOWN
    failures: int = 0
    last_failure: str = ""
    raw: tuple[int, ...] | None = None
    raw_since: float = 0.0
    stuck: bool = False


class PollSchedule:
    def __init__(self, *, down_retry_s: float = 60.0) -> None:
        self._down_retry_s = down_retry_s
        self._slots: dict[str, _Slot] = {}
        self._heap: list[tuple[float, int, str]] = []
        self._seq = 0

    def add(
        self,
        sensor: str,
        *,
        interval_s: float,
        lazy_error_count: int,
        first_due: float,
        stuck_after_s: float | None = None,
    ) -> None:
        if sensor in self._slots:
            raise ValueError(f"sensor {sensor!r} scheduled twice")
        self._slots[sensor] = _Slot(sensor, interval_s, lazy_error_count, stuck_after_s, first_due)
        self._push(sensor, first_due)

    def __len__(self) -> int:
        return len(self._slots)

    def next_due(self) -> tuple[str, float]:
        """The sensor to poll next and when; raises LookupError on an empty schedule."""
        if not self._heap:
            raise LookupError("no sensors scheduled")
        due, _, sensor = self._heap[0]
        return sensor, due

    def health(self, sensor: str) -> Health:
        return self._slots[sensor].health

    def succeeded(self, sensor: str, now: float, raw: tuple[int, ...]) -> Outcome:
        """``sensor`` answered with a measurement made of the registers ``raw``."""
        slot, due = self._pop(sensor)
        slot.failures = 0
        outcome = self._judge(slot, now, raw)
        self._reschedule(slot, due, now)
        return outcome

    def failed(self, sensor: str, now: float, reason: str) -> Transition | None:
        """``sensor`` gave nothing usable this time (no answer, error answer, rejected value)."""
        slot, due = self._pop(sensor)
        slot.failures += 1
        transition = None
        if slot.failures >= slot.lazy_error_count:
            transition = self._set(slot, Health.DOWN, f"{reason} ({slot.failures} in a row)")
        self._reschedule(slot, due, now)
        return transition

    def _judge(self, slot: _Slot, now: float, raw: tuple[int, ...]) -> Outcome:
        if raw != slot.raw:
            slot.raw, slot.raw_since, slot.stuck = raw, now, False
        elif (
            slot.stuck_after_s is not None
            and not slot.stuck
            and now - slot.raw_since >= slot.stuck_after_s
        ):
            slot.stuck = True
            hours = slot.stuck_after_s / 3600
            return Outcome(False, self._set(slot, Health.DOWN, f"values unchanged for {hours:g} h"))
        if slot.stuck:
            return Outcome(False, None)
        return Outcome(True, self._set(slot, Health.UP, "answering"))

    def _set(self, slot: _Slot, health: Health, reason: str) -> Transition | None:
        if slot.health is health:
            return None
        slot.health = health
        return Transition(slot.sensor, health is Health.UP, reason)

    def _pop(self, sensor: str) -> tuple[_Slot, float]:
        if not self._heap or self._heap[0][2] != sensor:
            head = self._heap[0][2] if self._heap else None
            raise ValueError(f"{sensor!r} reported while {head!r} was due")
        due, _, _ = heapq.heappop(self._heap)
        return self._slots[sensor], due

    def _reschedule(self, slot: _Slot, due: float, now: float) -> None:
        interval = slot.interval_s
        if slot.health is Health.DOWN and not slot.stuck:
            interval = max(interval, self._down_retry_s)
        nxt = due + interval
        slot.due = nxt if nxt > now else now
        self._push(slot.sensor, slot.due)

    def _push(self, sensor: str, due: float) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (due, self._seq, sensor))
