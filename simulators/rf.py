"""The radio physics the gate and shelf models share: antennas, multipath, the link, an answer.

A passive UHF tag answers when the power reaching it exceeds its sensitivity (the forward link
limits, as with all passive tags); the reader hears the answer at the power that came back
along the same path (the path counted twice, less the backscatter loss). What reaches the tag
is the antenna's direct path (free-space path loss, the antenna's pattern, any shadowing, all
in ``direct``) plus multipath: energy reflected by floor, walls, frames and shelving, modelled
as a sum of plane waves with random directions and phases per antenna and frequency channel,
drifting slowly as people move (``MultipathField``). So the fading is Rician where the direct
path is strong and Rayleigh where it is weak, changes over a few centimetres as a tag moves,
changes when the reader hops channel, and drifts in a still room.

A reader's settings are a ``Radio`` (each model's site adds its geometry and its defaults);
``AntennaFields`` draws each antenna's multipath and ``InventoryRound`` runs one round of one
antenna: the tags offered to it answer or not, and the decoded ones are spread over the round.

Every random draw comes from the caller's ``random.Random``, in a fixed order, so a model and
a seed give the same reads on every run.
"""

from __future__ import annotations

import cmath
import math
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

SPEED_OF_LIGHT = 299_792_458.0


@dataclass(frozen=True)
class Radio:
    """A reader, its antennas and the tags, as the link sees them; each model's site adds its
    geometry and sets its own defaults."""

    reader: str = "reader-1"
    tx_dbm: float = 20.0
    """Conducted power at each antenna (after cable loss)."""
    gain_dbi: float = 4.0
    beam_power: float = 2.0
    """Front lobe shape: gain falls as ((1 + cos angle) / 2) ** beam_power."""
    front_back_db: float = 15.0
    scatter_db: float = 12.0
    """Multipath power below the direct path of the antenna's peak gain."""
    scatter_paths: int = 6
    tag_gain_dbi: float = 2.0
    tag_sensitivity_dbm: float = -18.0
    threshold_softness_db: float = 1.0
    decode_p: float = 0.9
    backscatter_loss_db: float = 5.0
    channels: int = 16
    frequency_hz: float = 915e6
    channel_spacing_hz: float = 500e3
    round_s: float = 0.05
    """An inventory round with no tag energised; each energised tag adds ``round_per_tag_s``."""
    round_per_tag_s: float = 0.0025
    rssi_noise_db: float = 0.5

    def pattern(self, cos: float) -> float:
        """Linear gain of an antenna towards a direction at an angle off its boresight (``cos``:
        the angle's cosine): the front lobe, or the back lobe where that is stronger."""
        front: float = ((1.0 + cos) / 2.0) ** self.beam_power
        back: float = 10.0 ** (-self.front_back_db / 10.0)
        peak: float = 10.0 ** (self.gain_dbi / 10.0)
        return peak * max(front, back)


@dataclass
class MultipathField:
    """The multipath of one antenna: plane waves with random directions, phases per channel
    and slow drifts."""

    directions: list[tuple[float, float, float]]
    phases: list[list[float]]  # [channel][path]
    drifts: list[float]  # rad/s per path

    @classmethod
    def draw(
        cls, rng: random.Random, paths: int, channels: int, motion_hz: float
    ) -> MultipathField:
        """A field of ``paths`` plane waves drifting at up to ``motion_hz``."""
        return cls(
            [_unit(rng) for _ in range(paths)],
            [[rng.uniform(0.0, 2.0 * math.pi) for _ in range(paths)] for _ in range(channels)],
            [2.0 * math.pi * rng.uniform(-motion_hz, motion_hz) for _ in range(paths)],
        )

    def at(self, channel: int, t: float, k: float, point: tuple[float, float, float]) -> complex:
        """The sum of the plane waves (unit amplitude each) at a point, time and channel
        (``k``: its wavenumber)."""
        x, y, z = point
        multipath = 0j
        for (ux, uy, uz), phase, drift in zip(
            self.directions, self.phases[channel], self.drifts, strict=True
        ):
            multipath += cmath.rect(1.0, phase + drift * t + k * (ux * x + uy * y + uz * z))
        return multipath


def _unit(rng: random.Random) -> tuple[float, float, float]:
    """A direction drawn uniformly on the sphere."""
    z = rng.uniform(-1.0, 1.0)
    a = rng.uniform(0.0, 2.0 * math.pi)
    r = math.sqrt(1.0 - z * z)
    return r * math.cos(a), r * math.sin(a), z


def wavelength(frequency_hz: float, spacing_hz: float, channel: int) -> float:
    """Wavelength (m) of a hopping channel."""
    return SPEED_OF_LIGHT / (frequency_hz + spacing_hz * channel)


def link_gain(
    direct: float,
    d: float,
    wave_length: float,
    *,
    los_phase: float,
    multipath: complex,
    scatter_amplitude: float,
    tag_gain: float,
) -> float:
    """Power gain (linear) from the reader's port to the tag: the direct path (``direct``:
    antenna gain towards the tag times any shadowing) at distance ``d`` in free space, plus
    the multipath scaled by ``scatter_amplitude``, times the tag antenna's gain."""
    k = 2.0 * math.pi / wave_length
    path = (wave_length / (4.0 * math.pi * d)) ** 2  # free space, linear
    wave = cmath.rect(math.sqrt(direct), los_phase + k * d)
    wave += multipath * scatter_amplitude
    return abs(wave) ** 2 * path * tag_gain


def answer(
    rng: random.Random, gain: float, loss_db: float, link: Radio
) -> tuple[bool, float | None]:
    """(energised, RSSI to 0.5 dB or None if it was not decoded) for a tag whose link has
    power gain ``gain`` and ``loss_db`` of its own (orientation, packaging): it is powered
    softly around its sensitivity, and an inventory round decodes it with ``decode_p``."""
    if gain <= 0.0:
        return False, None
    at_tag = link.tx_dbm + 10.0 * math.log10(gain) - loss_db
    margin = at_tag - link.tag_sensitivity_dbm
    if margin < -6.0 * link.threshold_softness_db:
        return False, None
    p = link.decode_p / (1.0 + math.exp(-margin / link.threshold_softness_db))
    if rng.random() >= p:
        return True, None
    rssi = at_tag + 10.0 * math.log10(gain) - loss_db
    rssi += rng.gauss(-link.backscatter_loss_db, link.rssi_noise_db)
    return True, round(rssi * 2.0) / 2.0


@dataclass
class AntennaFields:
    """Each antenna's multipath field and its direct path's phase per channel."""

    multipath: dict[int, MultipathField]
    los_phase: dict[int, list[float]]

    @classmethod
    def draw(
        cls, rng: random.Random, antennas: Iterable[int], radio: Radio, motion_hz: float
    ) -> AntennaFields:
        """Every antenna's field, then every antenna's phases (the order of the draws is part of
        what a seed gives)."""
        multipath = {
            a: MultipathField.draw(rng, radio.scatter_paths, radio.channels, motion_hz)
            for a in antennas
        }
        los_phase = {
            a: [rng.uniform(0, 2 * math.pi) for _ in range(radio.channels)] for a in multipath
        }
        return cls(multipath, los_phase)


class InventoryRound:
    """One inventory round of one antenna on one channel, starting at ``t``.

    Each tag ``offer``-ed answers or not (one or two draws of ``rng`` each, in the order
    offered); the round lasts ``round_s`` plus ``round_per_tag_s`` per energised tag, and the
    decoded answers are spread evenly over it (``answers``).
    """

    def __init__(
        self,
        radio: Radio,
        fields: AntennaFields,
        antenna: int,
        channel: int,
        *,
        t: float,
        rng: random.Random,
    ) -> None:
        self.radio = radio
        self.t = t
        self._rng = rng
        self._channel = channel
        self._length = wavelength(radio.frequency_hz, radio.channel_spacing_hz, channel)
        self._k = 2.0 * math.pi / self._length
        self._field = fields.multipath[antenna]
        self._los_phase = fields.los_phase[antenna][channel]
        self._tag_gain = 10.0 ** (radio.tag_gain_dbi / 10.0)
        self.answered: list[tuple[str, float]] = []
        self.energised = 0

    def offer(
        self,
        epc: str,
        loss_db: float,
        direct: float,
        d: float,
        point: tuple[float, float, float],
        *,
        scatter: float,
    ) -> None:
        """A tag (its EPC and its own loss: orientation, packaging) at ``point``, ``d`` from the
        antenna, whose direct path has the gain ``direct`` and the multipath the amplitude
        ``scatter`` (``link_gain``'s ``scatter_amplitude``)."""
        gain = link_gain(
            direct,
            d,
            self._length,
            los_phase=self._los_phase,
            multipath=self._field.at(self._channel, self.t, self._k, point),
            scatter_amplitude=scatter,
            tag_gain=self._tag_gain,
        )
        powered, rssi = answer(self._rng, gain, loss_db, self.radio)
        if powered:
            self.energised += 1
        if rssi is not None:
            self.answered.append((epc, rssi))

    @property
    def seconds(self) -> float:
        return self.radio.round_s + self.radio.round_per_tag_s * self.energised

    def answers(self) -> Iterator[tuple[str, float, float]]:
        """(EPC, RSSI, seconds into the round) of each decoded answer, in the order offered."""
        seconds = self.seconds
        n = len(self.answered)
        for i, (epc, rssi) in enumerate(self.answered):
            yield epc, rssi, seconds * (i + 1) / (n + 1)
