"""A physical model of shelf readers: what the antennas of a bay hear from the boxes on it.

The physics of the gate model (``simulators/gate_model.py``), on shelves, from the same code
(``simulators/rf.py``: the antenna pattern, multipath, the link, a tag's answer, an inventory
round): one reader with an antenna under each shelf board facing down onto the shelf below it,
shelves ``spacing`` metres apart. A shelf antenna hears its own shelf's boxes in its front lobe,
and the neighbouring shelves' boxes through its back lobe and the boards in between
(``board_db`` per board on the direct path), plus multipath: plane waves with random directions
and phases per channel, drifting slowly as people move in the room (``motion_hz``; a still room
drifts little). Read probability comes from the power margin at the tag, RSSI from the
backscatter (or none at all: serial readers report none). So a box on its shelf is read almost
every round by its own antenna and now and then, sometimes strongly, by the antenna of the shelf
above or below; a box pushed to the front edge, out of the boards' shadow, is heard by two
antennas about equally.

A box can be taken off its shelf and put back (``ShelfTag.away``): out of range meanwhile.
``stream`` yields the reads and the end of each antenna's inventory round in time order, as the
daemon's shelf readers deliver them to the shelf engine. Every random draw comes from a seeded
``random.Random``: a bay and a seed give the same reads on every run.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from drivers.tagread import TagRead
from simulators.rf import AntennaFields, InventoryRound, Radio


@dataclass(frozen=True)
class ShelfSite(Radio):
    """One bay: a reader with one antenna per shelf (antenna ``n`` above shelf ``n``); the
    radio's defaults are a shelf reader's."""

    reader: str = "shelf-1"
    shelves: int = 4
    spacing: float = 0.4
    """Height between two shelf boards (metres)."""
    board_db: float = 12.0
    """Loss of the direct path through one shelf board."""
    rssi: bool = True
    """The reader reports RSSI (LLRP, Impinj); False: none (UHFReader18 serial readers)."""
    cycle_s: float = 1.0
    """Time from one antenna's round to its next (the reader polls the antennas in turn)."""


@dataclass(frozen=True)
class ShelfTag:
    """A box on shelf ``shelf`` (1-based, the antenna above it), ``x`` metres along the bay."""

    epc: str
    shelf: int
    x: float = 0.0
    depth: float = 0.2
    """From the front edge of the board, into the shelf."""
    height: float = 0.1
    """Of the tag above its board."""
    edge: float = 0.0
    """Share of the boards' shadow the box is out of: 0 on the shelf, 1 pushed past the front
    edge, half on this shelf and half in the open between it and the next."""
    loss_db: float = 0.0
    away: tuple[tuple[float, float], ...] = ()
    """Intervals ``(from, to)`` when the box is off the shelf (out of range)."""

    def here(self, t: float) -> bool:
        return not any(a <= t < b for a, b in self.away)


EDGE_EPC = "E28011606000070000000100"
AWAY_EPC = "E28011606000070000000101"


def still_bay() -> list[ShelfTag]:
    """A bay where nothing moves: five boxes on each of four shelves, one more pushed to the
    front edge of shelf 2 (heard by the antennas of shelves 2 and 3 alike, ``EDGE_EPC``) and
    one on shelf 3 taken off from 600 s to 900 s and put back (``AWAY_EPC``)."""
    tags = [
        ShelfTag(
            f"E2801160600007{shelf:02d}{i:08X}",
            shelf,
            x=-0.4 + 0.2 * i,
            depth=0.1 + 0.03 * i,
            height=0.05 + 0.04 * i,
        )
        for shelf in range(1, 5)
        for i in range(5)
    ]
    tags.append(ShelfTag(EDGE_EPC, 2, x=0.3, depth=-0.05, height=0.35, edge=0.5))
    tags.append(ShelfTag(AWAY_EPC, 3, x=0.0, away=((600.0, 900.0),)))
    return tags


@dataclass(frozen=True, slots=True)
class RoundDone:
    """An antenna finished an inventory round (the shelf engine counts full sweeps by them)."""

    reader: str
    antenna: int
    t: float


class ShelfModel:
    """The reads of one bay's reader over ``duration`` seconds."""

    def __init__(self, site: ShelfSite | None = None) -> None:
        self.site = site or ShelfSite()

    def _antenna(self, n: int) -> tuple[float, float, float]:
        """Antenna ``n`` sits under the board above shelf ``n``, at the middle of its depth."""
        s = self.site
        return 0.0, 0.2, n * s.spacing - 0.02

    def stream(
        self, tags: Sequence[ShelfTag], duration: float, seed: int, *, motion_hz: float = 0.02
    ) -> Iterator[TagRead | RoundDone]:
        s = self.site
        rng = random.Random(seed)
        fields = AntennaFields.draw(rng, range(1, s.shelves + 1), s, motion_hz)
        scatter = 10.0 ** (-s.scatter_db / 10.0) / s.scatter_paths
        peak = 10.0 ** (s.gain_dbi / 10.0)
        step = s.cycle_s / s.shelves
        t = rng.uniform(0.0, step)
        turn = 0
        while t < duration:
            antenna = 1 + turn % s.shelves
            turn += 1
            inventory = InventoryRound(s, fields, antenna, rng.randrange(s.channels), t=t, rng=rng)
            ax, ay, az = self._antenna(antenna)
            for tag in tags:
                if not tag.here(t):
                    continue
                px, py = tag.x, tag.depth
                pz = (tag.shelf - 1) * s.spacing + tag.height
                vx, vy, vz = px - ax, py - ay, pz - az
                d = math.sqrt(vx * vx + vy * vy + vz * vz)
                direct = s.pattern(-vz / d)  # boresight straight down
                boards = sum(
                    1 for b in range(s.shelves + 1) if min(az, pz) < b * s.spacing < max(az, pz)
                )
                shadow = s.board_db * boards * (1.0 - tag.edge)
                direct *= 10.0 ** (-shadow / 10.0)
                # Reflections reach a neighbouring shelf round the boards, weaker.
                leak = 10.0 ** (-0.5 * shadow / 10.0)
                amplitude = math.sqrt(peak * scatter * leak)
                inventory.offer(tag.epc, tag.loss_db, direct, d, (px, py, pz), scatter=amplitude)
            for epc, rssi, into in inventory.answers():
                yield TagRead(s.reader, antenna, epc, rssi if s.rssi else None, t + into)
            yield RoundDone(s.reader, antenna, t + inventory.seconds)
            t += step
