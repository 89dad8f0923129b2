"""Realistic read streams for the RFID engines, from a small physical model.

Gate: the two antennas sit in the door frame (the gate plane, x = 0), the inside one facing the
room (x < 0), the outside one facing out (x > 0); y runs along the wall. A tag's RSSI falls
with distance and by up to 15 dB behind an antenna (its back lobe); the reader switches
antennas every ``dwell_s`` and reads a tag with a probability that grows with its RSSI margin
over the sensitivity. A tag moves along a path: a function from seconds to (x, y) metres.

Shelf: one reader, one antenna per shelf location; an antenna reads the tags on its own shelf
reliably and strongly, and those on the next shelves up and down now and then, weakly.

Everything random comes from a seeded ``random.Random``: a scenario is the same on every run.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from drivers.tagread import TagRead
from rfid.shelf import ShelfDecision, ShelfEngine

T0 = 1_732_600_000.0
"""Scenario start, seconds since the epoch (26 Nov 2024)."""

Path = Callable[[float], tuple[float, float]]
D = TypeVar("D")

INSIDE = 1
OUTSIDE = 2
WALK = 1.2
"""Walking speed, m/s."""


def crossing(direction: str, *, start: float = 4.0, speed: float = WALK, y: float = 0.0) -> Path:
    """Walk straight through the gate; the tag is in the gate plane at ``start / speed``."""
    sign = 1.0 if direction == "out" else -1.0
    return lambda t: (sign * (-start + speed * t), y)


def crossing_time(*, start: float = 4.0, speed: float = WALK) -> float:
    return start / speed


def walk_past(side: str, *, offset: float = 1.5, length: float = 10.0) -> Path:
    """Walk along the wall, ``offset`` metres from the door, without going through."""
    x = -offset if side == "inside" else offset
    return lambda t: (x, -length / 2 + WALK * t)


def turn_back(side: str, *, reach: float = -0.15, start: float = 4.0) -> Path:
    """Walk up to the gate from ``side``, get to ``reach`` (x, as seen from the inside), turn
    back and walk away again."""
    sign = 1.0 if side == "inside" else -1.0
    turn = (start + reach) / WALK

    def path(t: float) -> tuple[float, float]:
        travelled = WALK * t if t <= turn else WALK * turn - WALK * (t - turn)
        return (sign * (-start + travelled), 0.0)

    return path


def out_and_back(turn: float, *, start: float = 4.0) -> Path:
    """Walk out through the gate, turn round after ``turn`` seconds and walk back in."""

    def path(t: float) -> tuple[float, float]:
        travelled = WALK * t if t <= turn else WALK * turn - WALK * (t - turn)
        return (-start + travelled, 0.0)

    return path


def out_and_stay(x: float, *, start: float = 4.0) -> Path:
    """Walk out through the gate and stop ``x`` metres beyond it, still within range."""
    return lambda t: (min(-start + WALK * t, x), 0.0)


def parked(x: float, y: float = 0.0) -> Path:
    """A tag that does not move (a trolley left by the door)."""
    return lambda t: (x, y)


def leave_after(path: Path, t_end: float) -> Path:
    """The tag is carried away out of range (far down the corridor or room) after ``t_end``."""
    return lambda t: path(t) if t <= t_end else (0.0, 1000.0)


def rssi_at(antenna: int, x: float, y: float) -> float:
    distance = math.sqrt(x * x + y * y + 0.16)
    facing = -x if antenna == INSIDE else x
    back_lobe = 15.0 / (1.0 + math.exp(facing / 0.15))
    return -35.0 - 20.0 * math.log10(distance / 0.4) - back_lobe


@dataclass
class GateSite:
    reader: str = "gate-1"
    dwell_s: float = 0.25
    read_interval_s: float = 0.05
    sensitivity_dbm: float = -70.0
    noise_db: float = 2.0
    with_rssi: bool = True


def gate_reads(
    tags: dict[str, Path],
    duration: float,
    *,
    seed: int = 1,
    site: GateSite | None = None,
) -> list[TagRead]:
    """The reads a gate reader reports while the tags follow their paths for ``duration`` s."""
    site = site or GateSite()
    rnd = random.Random(seed)
    reads: list[TagRead] = []
    steps = int(duration / site.read_interval_s)
    for i in range(steps):
        t = i * site.read_interval_s
        antenna = INSIDE if int(t / site.dwell_s) % 2 == 0 else OUTSIDE
        for epc, path in tags.items():
            x, y = path(t)
            rssi = rssi_at(antenna, x, y) + rnd.gauss(0.0, site.noise_db)
            p = min(1.0, max(0.0, (rssi - site.sensitivity_dbm) / 8.0))
            if rnd.random() < p:
                reported = round(rssi, 1) if site.with_rssi else None
                reads.append(TagRead(site.reader, antenna, epc, reported, T0 + t))
    return reads


def single_read(epc: str, antenna: int, t: float = 1.0, rssi: float | None = -50.0) -> TagRead:
    return TagRead("gate-1", antenna, epc, rssi, T0 + t)


@dataclass
class ShelfRoom:
    """A shelf reader with one antenna per location, in the order the shelves are stacked."""

    locations: Sequence[str] = ("R1/A/01/1", "R1/A/01/2", "R1/A/01/3", "R1/A/01/4")
    reader: str = "shelf-1"
    seed: int = 1
    home_p: float = 0.9
    neighbour_p: float = 0.2
    home_rssi: float = -45.0
    neighbour_rssi: float = -63.0
    with_rssi: bool = True
    round_s: float = 0.25
    t: float = T0
    where: dict[str, str | None] = field(default_factory=dict)
    silent_antennas: set[int] = field(default_factory=set)
    """Antennas whose reader does not inventory (no reads, no finished rounds)."""

    def __post_init__(self) -> None:
        self.rnd = random.Random(self.seed)

    @property
    def antenna_locations(self) -> dict[tuple[str, int], str]:
        return {(self.reader, i + 1): code for i, code in enumerate(self.locations)}

    def antenna_of(self, location: str) -> int:
        return list(self.locations).index(location) + 1

    def place(self, epc: str, location: str | None) -> None:
        """Put the tagged item on a shelf (None: out of the reader's range)."""
        self.where[epc] = location

    def read(self, epc: str, location: str, rssi: float | None = None) -> TagRead:
        """One read of a tag by the antenna of ``location`` (e.g. a stray one)."""
        self.t += 0.01
        strength = rssi if rssi is not None else self.neighbour_rssi
        return TagRead(
            self.reader,
            self.antenna_of(location),
            epc,
            strength if self.with_rssi else None,
            self.t,
        )

    def sweep(self, engine: ShelfEngine) -> list[ShelfDecision]:
        """One inventory round of every antenna, in turn."""
        out: list[ShelfDecision] = []
        for index in range(len(self.locations)):
            antenna = index + 1
            if antenna in self.silent_antennas:
                self.t += self.round_s
                continue
            reads: list[TagRead] = []
            for epc, location in self.where.items():
                if location is None:
                    continue
                distance = abs(list(self.locations).index(location) - index)
                if distance == 0:
                    p, rssi = self.home_p, self.home_rssi
                elif distance == 1:
                    p, rssi = self.neighbour_p, self.neighbour_rssi
                else:
                    continue
                if self.rnd.random() < p:
                    noisy = round(rssi + self.rnd.gauss(0.0, 2.0), 1)
                    t = self.t + self.rnd.uniform(0.0, self.round_s * 0.9)
                    reads.append(
                        TagRead(self.reader, antenna, epc, noisy if self.with_rssi else None, t)
                    )
            for read in sorted(reads, key=lambda r: r.t):
                out.extend(engine.observe(read))
            self.t += self.round_s
            out.extend(engine.round_done(self.reader, antenna, self.t))
        return out

    def sweeps(self, engine: ShelfEngine, n: int) -> list[ShelfDecision]:
        out: list[ShelfDecision] = []
        for _ in range(n):
            out.extend(self.sweep(engine))
            out.extend(engine.tick(self.t))
        return out


def of_type(decisions: Iterable[object], kind: type[D]) -> list[D]:
    """The decisions of one kind, in order."""
    return [d for d in decisions if isinstance(d, kind)]
