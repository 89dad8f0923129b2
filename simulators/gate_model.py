"""A physical model of a door gate: what a two-antenna UHF reader hears as tags go by.

One fixed reader, two antennas above the door (``x = 0`` is the door plane; the inside antenna
faces the room, ``x < 0``, the outside one faces out, ``x > 0``), both tilted down 45 degrees
so that they hear a tag in the doorway equally. ``y`` runs along the wall, ``z`` is height.

What the reader hears is built from the physics that makes real gates hard:

- **Free-space path loss** at the carrier frequency, and the antennas' **patterns**: a front
  lobe (gain ``gain_dbi``, a cosine power law) and a back lobe ``front_back_db`` below it.
- **Multipath**: besides the direct path, energy reflected by floor, frame and shelving reaches
  the tag from every direction, ``scatter_db`` below the antenna's peak gain. It is a sum of
  plane waves with random directions and phases per antenna and frequency channel, so the
  fading is Rician where the direct path is strong and Rayleigh behind an antenna, varies over
  a few centimetres as the tag moves, changes when the reader hops channel, and drifts when
  people move nearby (``motion_hz``).
- **The carrier's body** shadows the direct path when the antenna is behind the person
  (``body_db``, less for an antenna high above: scaled by the cosine of the angle between the
  path and the way the person faces); boxes in a cart shadow each other (a loss per tag).
- **Read probability from link margin**: a tag answers when the power reaching it exceeds its
  sensitivity (forward-link limited, as passive tags are), softly around the threshold, and an
  inventory round then decodes it with probability ``decode_p``; a round takes longer with more
  tags in the field.
- **The reader switches antennas**: it runs rounds on one antenna for ``dwell_s``, then on the
  other; RSSI is the backscatter power (the path counted twice), reported to 0.5 dB.

The antennas' pattern, the multipath, the link, a tag's answer and an inventory round are
``simulators/rf.py``, shared with the shelf model (``simulators/shelf_model.py``).

Scenarios are data (``Scenario``: people or carts moving along key frames, the tags they carry,
and the label of each tag); the builders below make the classes a gate must tell apart. Every
random draw comes from a seeded ``random.Random``, so a scenario and a seed give the same reads
on every run. Pure Python, no numpy: the tests and the benchmark run it as is.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal, get_args

from drivers.tagread import TagRead
from simulators.rf import AntennaFields, InventoryRound, Radio

INSIDE_ANTENNA = 1
OUTSIDE_ANTENNA = 2


@dataclass(frozen=True)
class GateSite(Radio):
    """The door, its antennas and its reader."""

    antenna_height: float = 2.2
    antenna_tilt_deg: float = 45.0
    antenna_offset: float = 0.05
    """Distance of each antenna from the door plane."""
    body_db: float = 10.0
    hop_s: float = 0.2
    dwell_s: float = 0.2
    """Time the reader inventories on one antenna before switching."""
    # A gate's radio: a stronger, narrower beam at the door, more reflections, short rounds.
    reader: str = "gate-1"
    tx_dbm: float = 24.0
    gain_dbi: float = 8.0
    beam_power: float = 3.0
    scatter_db: float = 10.0
    decode_p: float = 0.85
    round_s: float = 0.015


@dataclass(frozen=True)
class Tag:
    """A tag carried by a mover, at an offset from the mover's reference point."""

    epc: str
    label: str
    """``in``/``out`` for a crossing, or the kind of non-crossing."""
    dx: float = 0.3
    """Ahead of the mover, along its heading (a box held in front)."""
    dy: float = 0.0
    """To the mover's left."""
    z: float = 1.0
    loss_db: float = 0.0
    """Orientation, packaging, neighbouring boxes."""


@dataclass(frozen=True)
class Mover:
    """A person (or a person pushing a cart) moving along key frames ``(t, x, y)``; positions
    in between are linear, before the first and after the last the mover is out of range."""

    frames: tuple[tuple[float, float, float], ...]
    tags: tuple[Tag, ...]
    body: bool = True
    """The carrier's body shadows the direct path from antennas behind it."""
    sway: float = 0.0
    """Standing still, the tags drift this many metres at random (a person shifting)."""

    def at(self, t: float) -> tuple[float, float, float, float] | None:
        """(x, y, heading x, heading y) at ``t``; None when out of range."""
        frames = self.frames
        if t < frames[0][0] or t > frames[-1][0]:
            return None
        for (t0, x0, y0), (t1, x1, y1) in itertools.pairwise(frames):
            if t0 <= t <= t1:
                u = (t - t0) / (t1 - t0) if t1 > t0 else 0.0
                dx, dy = x1 - x0, y1 - y0
                norm = math.hypot(dx, dy)
                if norm > 0.0:
                    return x0 + u * dx, y0 + u * dy, dx / norm, dy / norm
                return x0, y0, *self._heading_before(t0)
        _, x, y = frames[-1]
        return x, y, *self._heading_before(frames[-1][0])

    def _heading_before(self, t: float) -> tuple[float, float]:
        """Standing still, the mover keeps facing the way it last moved."""
        previous = [f for f in self.frames if f[0] <= t]
        for (_, x0, y0), (_, x1, y1) in reversed(list(itertools.pairwise(previous))):
            norm = math.hypot(x1 - x0, y1 - y0)
            if norm > 0.0:
                return (x1 - x0) / norm, (y1 - y0) / norm
        following = [f for f in self.frames if f[0] >= t]
        for (_, x0, y0), (_, x1, y1) in itertools.pairwise(following):
            norm = math.hypot(x1 - x0, y1 - y0)
            if norm > 0.0:
                return (x1 - x0) / norm, (y1 - y0) / norm
        return 1.0, 0.0


@dataclass(frozen=True)
class Scenario:
    """Movers in front of the gate for ``duration`` seconds, each tag labelled."""

    name: str
    """Class it is reported under (``fast_out``, ``cart_in``, ``turn_back``...)."""
    movers: tuple[Mover, ...]
    duration: float
    motion_hz: float = 0.3
    """How fast the multipath changes by itself (people moving in the room)."""

    @property
    def labels(self) -> dict[str, str]:
        return {tag.epc: tag.label for mover in self.movers for tag in mover.tags}

    @property
    def classes(self) -> dict[str, str]:
        return {tag.epc: self.name for mover in self.movers for tag in mover.tags}


class GateModel:
    """The reads of a gate reader over a scenario."""

    def __init__(self, site: GateSite | None = None) -> None:
        self.site = site or GateSite()
        s = self.site
        tilt = math.radians(s.antenna_tilt_deg)
        self._antennas = {
            INSIDE_ANTENNA: (
                (-s.antenna_offset, 0.0, s.antenna_height),
                (-math.cos(tilt), 0.0, -math.sin(tilt)),
            ),
            OUTSIDE_ANTENNA: (
                (s.antenna_offset, 0.0, s.antenna_height),
                (math.cos(tilt), 0.0, -math.sin(tilt)),
            ),
        }

    def _gain(self, antenna: int, to: tuple[float, float, float], d: float) -> float:
        """Linear antenna gain towards a point at distance ``d``."""
        _, boresight = self._antennas[antenna]
        cos = (to[0] * boresight[0] + to[1] * boresight[1] + to[2] * boresight[2]) / d
        return self.site.pattern(cos)

    def reads(
        self, scenario: Scenario, seed: int, *, t0: float = 0.0, dwell_s: float | None = None
    ) -> list[TagRead]:
        """Every read of the scenario (``t`` from ``t0``), in time order."""
        return list(self.stream(scenario, seed, t0=t0, dwell_s=dwell_s))

    def stream(
        self, scenario: Scenario, seed: int, *, t0: float = 0.0, dwell_s: float | None = None
    ) -> Iterator[TagRead]:
        s = self.site
        rng = random.Random(seed)
        fields = AntennaFields.draw(rng, self._antennas, s, scenario.motion_hz)
        hop_order = list(range(s.channels))
        rng.shuffle(hop_order)
        dwell = dwell_s if dwell_s is not None else s.dwell_s
        peak = 10.0 ** (s.gain_dbi / 10.0)
        scatter = math.sqrt(peak * (10.0 ** (-s.scatter_db / 10.0) / s.scatter_paths))
        sway_phase = [rng.uniform(0.0, 2.0 * math.pi) for _ in range(4)]
        t = 0.0
        antenna = INSIDE_ANTENNA if rng.random() < 0.5 else OUTSIDE_ANTENNA
        switch_at = rng.uniform(0.0, dwell)
        while t < scenario.duration:
            if t >= switch_at:
                antenna = OUTSIDE_ANTENNA if antenna == INSIDE_ANTENNA else INSIDE_ANTENNA
                switch_at += dwell
            channel = hop_order[int(t / s.hop_s) % s.channels]
            inventory = InventoryRound(s, fields, antenna, channel, t=t, rng=rng)
            (ax, ay, az), _ = self._antennas[antenna]
            for mover in scenario.movers:
                where = mover.at(t)
                if where is None:
                    continue
                mx, my, hx, hy = where
                if mover.sway:
                    mx += mover.sway * math.sin(0.7 * t + sway_phase[0])
                    my += mover.sway * math.sin(0.5 * t + sway_phase[1])
                for tag in mover.tags:
                    px = mx + tag.dx * hx - tag.dy * hy
                    py = my + tag.dx * hy + tag.dy * hx
                    vx, vy, vz = px - ax, py - ay, tag.z - az
                    d = math.sqrt(vx * vx + vy * vy + vz * vz)
                    direct = self._gain(antenna, (vx, vy, vz), d)
                    behind = (vx * hx + vy * hy) / d
                    if mover.body and behind > 0.0:
                        # The carrier's body is in the way of an antenna behind them, less so
                        # of one high above.
                        direct *= 10.0 ** (-s.body_db * behind / 10.0)
                    inventory.offer(
                        tag.epc, tag.loss_db, direct, d, (px, py, tag.z), scatter=scatter
                    )
            for epc, rssi, into in inventory.answers():
                yield TagRead(s.reader, antenna, epc, rssi, t0 + t + into)
            t += inventory.seconds


# -- scenarios ---------------------------------------------------------------------------------

START = 6.0
"""Metres from the door plane where a walk begins and ends (beyond the read range)."""


def _epc(prefix: int, k: int) -> str:
    return f"E2801170{prefix:08X}{k:08X}"


def crossing(
    direction: str, speed: float, rng: random.Random, *, name: str = "", prefix: int = 1
) -> Scenario:
    """A person carries one box through the door at ``speed`` m/s."""
    sign = 1.0 if direction == "out" else -1.0
    y = rng.uniform(-0.35, 0.35)
    tag = Tag(_epc(prefix, 0), direction, dx=0.3, z=rng.uniform(0.8, 1.3), loss_db=_loss(rng))
    duration = 2.0 * START / speed
    mover = Mover(((0.0, -sign * START, y), (duration, sign * START, y)), (tag,))
    return Scenario(name or f"walk_{direction}", (mover,), duration)


def cart(direction: str, rng: random.Random, *, boxes: int = 20, prefix: int = 2) -> Scenario:
    """A cart of ``boxes`` boxes pushed through the door (0.6-1.0 m/s); boxes in the middle of
    the load are shadowed by the others."""
    sign = 1.0 if direction == "out" else -1.0
    speed = rng.uniform(0.6, 1.0)
    y = rng.uniform(-0.15, 0.15)
    tags = []
    for k in range(boxes):
        row, col, layer = k % 3, (k // 3) % 2, k // 6
        inner = row == 1 or (layer in (1, 2) and col == 0)
        tags.append(
            Tag(
                _epc(prefix, k),
                direction,
                dx=0.5 + 0.3 * row,
                dy=-0.2 + 0.4 * col,
                z=0.5 + 0.3 * layer,
                loss_db=_loss(rng) + (rng.uniform(4.0, 10.0) if inner else rng.uniform(0.0, 4.0)),
            )
        )
    duration = 2.0 * START / speed
    mover = Mover(((0.0, -sign * START, y), (duration, sign * START, y)), tuple(tags))
    return Scenario(f"cart_{direction}", (mover,), duration)


def turn_back(side: str, rng: random.Random, *, prefix: int = 3) -> Scenario:
    """A person walks up to the door from ``side``, reaches up to 0.3 m beyond the door plane,
    hesitates, turns round and walks back."""
    sign = -1.0 if side == "inside" else 1.0  # where the person comes from
    speed = rng.uniform(0.6, 1.5)
    reach = rng.uniform(-0.3, 0.3)  # beyond the plane when positive
    pause = rng.uniform(0.0, 2.0)
    y = rng.uniform(-0.35, 0.35)
    t1 = (START + reach) / speed
    tag = Tag(_epc(prefix, 0), "turn_back", z=rng.uniform(0.8, 1.3), loss_db=_loss(rng))
    frames = (
        (0.0, sign * START, y),
        (t1, -sign * reach, y),
        (t1 + pause, -sign * reach, y),
        (2.0 * t1 + pause, sign * START, y),
    )
    return Scenario("turn_back", (Mover(frames, (tag,)),), frames[-1][0])


def walk_past(side: str, rng: random.Random, *, prefix: int = 4) -> Scenario:
    """A person carries a box along the corridor (or the room) past the door."""
    sign = -1.0 if side == "inside" else 1.0
    offset = rng.uniform(0.5, 2.0)
    speed = rng.uniform(0.6, 1.6)
    along = rng.choice((-1.0, 1.0))
    tag = Tag(_epc(prefix, 0), "walk_past", z=rng.uniform(0.8, 1.3), loss_db=_loss(rng))
    duration = 2.0 * START / speed
    frames = ((0.0, sign * offset, -along * START), (duration, sign * offset, along * START))
    return Scenario("walk_past", (Mover(frames, (tag,)),), duration)


def parked(rng: random.Random, *, seconds: float = 3600.0, prefix: int = 5) -> Scenario:
    """A box left on the floor next to the door, on either side, while people go about."""
    x = rng.choice((-1.0, 1.0)) * rng.uniform(0.3, 1.0)
    y = rng.choice((-1.0, 1.0)) * rng.uniform(0.7, 1.2)
    tag = Tag(_epc(prefix, 0), "static", dx=0.0, z=0.1, loss_db=_loss(rng))
    mover = Mover(((0.0, x, y), (seconds, x, y)), (tag,), body=False)
    return Scenario("parked", (mover,), seconds, motion_hz=0.5)


def standing(rng: random.Random, *, prefix: int = 6) -> Scenario:
    """A person walks into the doorway with a box, stands there talking, and goes back."""
    sign = rng.choice((-1.0, 1.0))
    speed = rng.uniform(0.6, 1.2)
    spot = rng.uniform(-0.25, 0.25)
    stay = rng.uniform(10.0, 30.0)
    y = rng.uniform(-0.3, 0.3)
    t1 = (START - sign * spot) / speed
    tag = Tag(_epc(prefix, 0), "standing", z=rng.uniform(0.8, 1.3), loss_db=_loss(rng))
    frames = (
        (0.0, sign * START, y),
        (t1, spot, y),
        (t1 + stay, spot, y),
        (2.0 * t1 + stay, sign * START, y),
    )
    mover = Mover(frames, (tag,), sway=0.05)
    return Scenario("standing", (mover,), frames[-1][0], motion_hz=0.6)


def two_way(rng: random.Random, *, prefix: int = 7) -> Scenario:
    """Two people cross at the same time, one out and one in."""
    speed_out, speed_in = rng.uniform(0.7, 1.5), rng.uniform(0.7, 1.5)
    duration = 2.0 * START / min(speed_out, speed_in)
    movers = []
    for k, (direction, speed, y) in enumerate((("out", speed_out, -0.3), ("in", speed_in, 0.3))):
        sign = 1.0 if direction == "out" else -1.0
        tag = Tag(_epc(prefix, k), direction, z=rng.uniform(0.8, 1.3), loss_db=_loss(rng))
        t_end = 2.0 * START / speed
        movers.append(Mover(((0.0, -sign * START, y), (t_end, sign * START, y)), (tag,)))
    return Scenario("two_way", tuple(movers), duration)


def _loss(rng: random.Random) -> float:
    """Orientation and packaging loss of one tag."""
    return rng.uniform(0.0, 6.0)


ScenarioClass = Literal[
    "fast_in",
    "fast_out",
    "walk_in",
    "walk_out",
    "cart_in",
    "cart_out",
    "two_way",
    "turn_back",
    "walk_past",
    "parked",
    "standing",
]
SCENARIO_CLASSES: tuple[ScenarioClass, ...] = get_args(ScenarioClass)


def scenario(cls: str, rng: random.Random, *, prefix: int, parked_s: float = 3600.0) -> Scenario:
    """One scenario of a class (see ``SCENARIO_CLASSES``), drawn with ``rng``."""
    if cls in ("fast_in", "fast_out"):
        return crossing(cls[5:], 2.0, rng, name=cls, prefix=prefix)
    if cls in ("walk_in", "walk_out"):
        return crossing(cls[5:], rng.uniform(0.5, 1.6), rng, name=cls, prefix=prefix)
    if cls in ("cart_in", "cart_out"):
        return cart(cls[5:], rng, prefix=prefix)
    if cls == "two_way":
        return two_way(rng, prefix=prefix)
    if cls == "turn_back":
        return turn_back(rng.choice(("inside", "outside")), rng, prefix=prefix)
    if cls == "walk_past":
        return walk_past(rng.choice(("inside", "outside")), rng, prefix=prefix)
    if cls == "parked":
        return parked(rng, seconds=parked_s, prefix=prefix)
    if cls == "standing":
        return standing(rng, prefix=prefix)
    raise ValueError(f"unknown scenario class {cls!r} (one of: {', '.join(SCENARIO_CLASSES)})")


@dataclass(frozen=True)
class Recording:
    """A scenario played once: its reads and its labels."""

    scenario: Scenario
    seed: int
    reads: list[TagRead] = field(repr=False)

    @property
    def labels(self) -> dict[str, str]:
        return self.scenario.labels

    @property
    def classes(self) -> dict[str, str]:
        return self.scenario.classes


def suite(
    per_class: int,
    seed: int = 1,
    *,
    classes: Sequence[str] = SCENARIO_CLASSES,
    parked_s: float = 3600.0,
    site: GateSite | None = None,
    t0: float = 1_732_600_000.0,
) -> Iterator[Recording]:
    """``per_class`` recordings of each scenario class, each with its own tags and seed."""
    model = GateModel(site)
    rng = random.Random(seed)
    prefix = 0
    for cls in classes:
        for _ in range(per_class):
            prefix += 1
            sc = scenario(cls, rng, prefix=prefix, parked_s=parked_s)
            run_seed = rng.randrange(1 << 30)
            yield Recording(sc, run_seed, model.reads(sc, run_seed, t0=t0))
