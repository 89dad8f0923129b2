"""What the climate pollers deliver: readings, sensor up/down changes, bus link changes.

These are the only things that leave a bus poller. A reading is a measurement that passed the
profile's checks; anything rejected stays behind as a counter. Up/down changes are edges, sent
once per change, so the daemon can raise and clear a sensor-fault alarm without debouncing.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Reading:
    sensor: str
    room: str
    temperature_c: float
    humidity_pct: float
    t: float
    """Wall-clock time of the answer, seconds since the epoch."""


@dataclass(frozen=True, slots=True)
class SensorStateChange:
    sensor: str
    room: str
    up: bool
    reason: str
    """Why, in words: "answering", "no response (3 in a row)", "values unchanged for 6 h"."""
    t: float


@dataclass(frozen=True, slots=True)
class BusLinkChange:
    bus: str
    up: bool
    reason: str
    t: float


ClimateEvent = Reading | SensorStateChange | BusLinkChange


class ClimateSink(Protocol):
    """Where a bus poller delivers what it learns. Called from the event loop; must not block."""

    def reading(self, reading: Reading) -> None: ...

    def sensor_state(self, change: SensorStateChange) -> None: ...

    def link_state(self, change: BusLinkChange) -> None: ...


class QueueSink:
    """A sink that puts every event on an unbounded asyncio queue, in order."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[ClimateEvent] = asyncio.Queue()

    def reading(self, reading: Reading) -> None:
        self.queue.put_nowait(reading)

    def sensor_state(self, change: SensorStateChange) -> None:
        self.queue.put_nowait(change)

    def link_state(self, change: BusLinkChange) -> None:
        self.queue.put_nowait(change)
