"""LLRP gate simulator: a two-antenna door reader whose tag traffic follows a script.

An archive-room gate is one LLRP reader with an antenna (set) facing into the room and one facing
out. A box carried through is first seen by the antenna on the side it comes from, with rising
signal as it approaches; near the door plane both antennas see it; then it fades on the far side.
Which antenna saw it first and strongest tells the direction. The confusing cases matter as much:
someone walking past outside (one side only, never crosses), someone who reaches the door and
turns back (the far antenna sees the tag briefly and weakly), a box left standing near the door.

The script is a pure timeline (``GateScript``: steps in, sightings out for a script time ``t``);
``LlrpGateSimulator`` is ``llrpkit``'s ``LLRPEmulator`` (real LLRP over TCP: connection event,
capabilities, ROSpec lifecycle, keepalives, Impinj extensions) with the tag population replaced
by the script, one inventory cycle every ``cycle_s``. Like a real reader it keeps ROSpecs across
connections, so a client must clean up before installing its own. Test controls: add a step now,
drop the connection, stop sending keepalives, go silent (a hung reader behind an open socket).

The reader side follows LLRP 1.0.1 where a client can tell: ENABLE_EVENTS_AND_REPORTS is
accepted without a response (§13.1.6; nothing is ever held, since connections are not
re-established with holding); a ROSpec whose start trigger is Immediate starts when it is
enabled (§10.2.1.1.1); an AISpec or ROSpec with a Duration stop trigger ends after it, and the
ROSpec then goes back to Inactive with an End_Of_ROSpec event; each TagReportData carries only
the fields its ROSpec's TagReportContentSelector enables (§13.2.1.1); and reports are sent as
the ROReportTrigger says (§13.2.1): after every N unique tags, or with N = 0 once, at the end
of the AISpec (or ROSpec), each tag aggregated with its seen count, first and last seen times
and peak RSSI. Periodic and GPI start triggers and tag-observation stop triggers are not
modelled (the gate service never asks for them). See docs/device-fidelity.md.

Tag traffic comes from the physical gate model (``simulators.gate_model``) or from simple
shapes. A ``Modelled`` step (``{"kind": "model", "scenario": "walk_out", "seed": 3, ...}``)
plays one of the model's scenarios (crossings at 0.5-2 m/s, a cart of 20 boxes, two people
crossing, a turn-back, a walk-past, a box parked by the door, a person standing in the doorway):
its reads arrive round by round as the model hears them, on the antenna that read them, with the
model's RSSI in dBm (LLRP PeakRSSI), so the daemon's gate is exercised with the switching,
fading and shadowing that make real gates hard. ``archroom simulate llrp-gate`` plays the model
by default (``--model`` picks the scenarios). Each modelled step is played as if it were alone
at the door (two people crossing at once is the ``two_way`` scenario).

The simple shapes (``cross``, ``walk_past``, ``turn_back``, ``linger``, ``static``) are short
and clean, for tests of everything but the engine's judgement. RSSI along a pass is a bell over
the pass's progress: the floor (-75 dBm, the edge of the field)
at the ends, the peak where the tag is closest to that antenna; a read is then taken with the
step's read probability, lowered within 6 dB of the floor, plus Gaussian noise.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import functools
import json
import logging
import math
import random
import signal
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Literal

from llrpkit.emulator import LLRPEmulator
from llrpkit.protocol import BitStr, LLRPMessage, enums, impinj, messages, params
from pydantic import Field, ValidationError, field_validator

from drivers.models import StrictModel
from drivers.tagread import TagRead
from simulators import gate_model

log = logging.getLogger(__name__)

INSIDE_ANTENNA = 1
OUTSIDE_ANTENNA = 2
FLOOR_DBM = -75.0
"""Weakest signal the reader still decodes: the edge of an antenna's field."""
MODEL_GLANCE_S = 0.05
"""Reads of a modelled step that ``sightings(t)`` shows: those of this last stretch."""
_FADE_DB = 6.0
"""Within this many dB above the floor the read probability falls off linearly."""

Side = Literal["inside", "outside"]


# -- script steps (the JSON file format and the runtime API) -------------------------------------


class _Step(StrictModel):
    epc: str
    """Tag EPC, hex (whole 16-bit words)."""
    start: float = Field(default=0.0, ge=0.0)
    """Script seconds at which the step begins."""
    read_probability: float = Field(default=0.9, gt=0.0, le=1.0)

    @field_validator("epc")
    @classmethod
    def _hex_words(cls, value: str) -> str:
        epc = value.strip().upper()
        if not epc or len(epc) % 4 or len(epc) > 124:
            raise ValueError("EPC must be 1 to 31 whole 16-bit words of hex")
        try:
            bytes.fromhex(epc)
        except ValueError:
            raise ValueError("EPC must be hex") from None
        return epc

    @property
    def end(self) -> float:
        return math.inf

    def levels(self, u: float, t: float) -> Iterable[tuple[int, float]]:
        """(antenna, mean RSSI dBm) this step shows at progress ``u`` / step time ``t``."""
        raise NotImplementedError


class _Pass(_Step):
    duration: float = Field(default=2.0, gt=0.0)

    @property
    def end(self) -> float:
        return self.start + self.duration


def _bell(u: float, center: float, width: float, peak: float) -> float | None:
    """RSSI of a pass: ``peak`` at ``center``, the floor ``width`` away, invisible beyond."""
    x = (u - center) / width
    if abs(x) >= 1.0:
        return None
    return FLOOR_DBM + (peak - FLOOR_DBM) * (1.0 - x * x)


def _other(side: Side) -> Side:
    return "outside" if side == "inside" else "inside"


def _antenna(side: Side) -> int:
    return INSIDE_ANTENNA if side == "inside" else OUTSIDE_ANTENNA


class Cross(_Pass):
    """A tag carried through the gate: ``out`` leaves the room, ``in`` enters it."""

    kind: Literal["cross"] = "cross"
    direction: Literal["in", "out"]
    peak_rssi: float = -42.0

    def levels(self, u: float, t: float) -> Iterable[tuple[int, float]]:
        near: Side = "inside" if self.direction == "out" else "outside"
        for side, center in ((near, 0.35), (_other(near), 0.65)):
            rssi = _bell(u, center, 0.35, self.peak_rssi)
            if rssi is not None:
                yield _antenna(side), rssi


class WalkPast(_Pass):
    """A tag passing along one side of the gate without crossing: only that side sees it."""

    kind: Literal["walk_past"] = "walk_past"
    side: Side = "outside"
    duration: float = Field(default=3.0, gt=0.0)
    peak_rssi: float = -55.0

    def levels(self, u: float, t: float) -> Iterable[tuple[int, float]]:
        rssi = _bell(u, 0.5, 0.45, self.peak_rssi)
        if rssi is not None:
            yield _antenna(self.side), rssi


class TurnBack(_Pass):
    """A tag brought up to the gate from ``side`` and taken back: the far antenna sees it
    briefly and weakly at the turning point."""

    kind: Literal["turn_back"] = "turn_back"
    side: Side = "inside"
    duration: float = Field(default=3.0, gt=0.0)
    peak_rssi: float = -44.0
    far_peak_rssi: float = -64.0

    def levels(self, u: float, t: float) -> Iterable[tuple[int, float]]:
        near = _bell(u, 0.5, 0.5, self.peak_rssi)
        if near is not None:
            yield _antenna(self.side), near
        far = _bell(u, 0.5, 0.12, self.far_peak_rssi)
        if far is not None:
            yield _antenna(_other(self.side)), far


class Linger(_Step):
    """A tag standing near the gate on one side (a trolley parked by the door)."""

    kind: Literal["linger"] = "linger"
    near: Side = "inside"
    duration: float | None = Field(default=None, gt=0.0)
    """Seconds; ``None`` stays for good."""
    rssi: float = -60.0
    other_rssi: float | None = None
    """Signal on the far antenna, if it reaches that far (``None``: it does not)."""

    @property
    def end(self) -> float:
        return math.inf if self.duration is None else self.start + self.duration

    def levels(self, u: float, t: float) -> Iterable[tuple[int, float]]:
        yield _antenna(self.near), self.rssi
        if self.other_rssi is not None:
            yield _antenna(_other(self.near)), self.other_rssi


class Static(_Step):
    """A plain tag in the field of one antenna at a constant signal."""

    kind: Literal["static"] = "static"
    antenna: int = Field(default=INSIDE_ANTENNA, ge=1)
    duration: float | None = Field(default=None, gt=0.0)
    rssi: float = -55.0

    @property
    def end(self) -> float:
        return math.inf if self.duration is None else self.start + self.duration

    def levels(self, u: float, t: float) -> Iterable[tuple[int, float]]:
        yield self.antenna, self.rssi


ModelledClass = gate_model.ScenarioClass


class Modelled(_Step):
    """A scenario of the physical gate model (``simulators.gate_model``) played from
    ``start``: the reads, their antennas and their RSSI (dBm) are the model's, round by round,
    with multipath fading, the carrier's body and the reader switching antennas. The walk
    begins and ends 6 m from the door (out of range), so the first read comes a few seconds
    after ``start``. The scenario's first tag gets ``epc``; further tags (a cart, the second
    person of ``two_way``) the same EPC with its last word counted up."""

    kind: Literal["model"] = "model"
    scenario: ModelledClass
    seed: int = 1
    """Draws the scenario (speed, path, tag losses) and its fading."""
    parked_s: float = Field(default=600.0, gt=0.0)
    """How long a ``parked`` box stays by the door."""

    @property
    def end(self) -> float:
        return self.start + self.played.scenario.duration

    @property
    def played(self) -> gate_model.Recording:
        """The scenario and its reads, ``t`` in script seconds (computed once)."""
        return _play(self.scenario, self.seed, self.parked_s, self.epc, self.start)

    @property
    def labels(self) -> dict[str, str]:
        """EPC -> what the scenario did with it (``in``/``out`` for a crossing)."""
        epcs = [self.epc, *(_next_epc(self.epc, k) for k in range(1, 64))]
        tags = [t for m in self.played.scenario.movers for t in m.tags]
        return {epc: tag.label for epc, tag in zip(epcs, tags, strict=False)}

    def reads_between(self, t0: float, t1: float) -> list[TagRead]:
        """The model's reads with ``t0 <= t < t1`` (script seconds)."""
        reads = self.played.reads
        lo = bisect.bisect_left(reads, t0, key=lambda r: r.t)
        hi = bisect.bisect_left(reads, t1, key=lambda r: r.t)
        return reads[lo:hi]

    def levels(self, u: float, t: float) -> Iterable[tuple[int, float]]:
        return ()  # reads come from ``reads_between``


@functools.lru_cache(maxsize=64)
def _play(cls: str, seed: int, parked_s: float, epc: str, start: float) -> gate_model.Recording:
    rng = random.Random(seed)
    scenario = gate_model.scenario(cls, rng, prefix=1, parked_s=parked_s)
    epcs = {
        tag.epc: epc if k == 0 else _next_epc(epc, k)
        for k, tag in enumerate(t for m in scenario.movers for t in m.tags)
    }
    model = gate_model.GateModel()
    reads = [
        replace(r, epc=epcs[r.epc]) for r in model.reads(scenario, rng.randrange(1 << 30), t0=start)
    ]
    return gate_model.Recording(scenario, seed, reads)


def _next_epc(epc: str, k: int) -> str:
    return f"{epc[:-4]}{(int(epc[-4:], 16) + k) % 0x10000:04X}"


Step = Annotated[
    Cross | WalkPast | TurnBack | Linger | Static | Modelled, Field(discriminator="kind")
]


class ScriptFile(StrictModel):
    """A gate script as stored in JSON: ``{"loop": false, "steps": [{"kind": "cross", ...}]}``."""

    steps: list[Step] = Field(default_factory=list)
    loop: bool = False
    loop_gap: float = Field(default=1.0, ge=0.0)
    """Quiet seconds between the end of the last step and the next repetition."""


# -- the pure timeline ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sighting:
    """A tag an antenna can see at some moment: mean (or sampled) RSSI and read probability."""

    epc: str
    antenna: int
    rssi_dbm: float
    probability: float


def _step_sightings(step: _Step, t: float) -> Iterable[Sighting]:
    if t < step.start or t >= step.end:
        return
    u = (t - step.start) / (step.end - step.start) if math.isfinite(step.end) else 0.0
    for antenna, rssi in step.levels(u, t - step.start):
        fade = min(1.0, max(0.0, (rssi - FLOOR_DBM) / _FADE_DB))
        if fade > 0.0:
            yield Sighting(step.epc, antenna, rssi, step.read_probability * fade)


class GateScript:
    """What the gate's antennas can see at script time ``t``: no clock, no randomness inside.

    ``steps`` repeat every ``period`` when ``loop`` is set (open-ended steps stay present);
    steps added later with ``add`` run once, at the script time they were given.
    """

    def __init__(
        self, steps: Iterable[_Step] = (), *, loop: bool = False, loop_gap: float = 1.0
    ) -> None:
        self._steps = list(steps)
        self._added: list[_Step] = []
        self._sampled_to: float | None = None
        finite_ends = [s.end for s in self._steps if math.isfinite(s.end)]
        self.period: float | None = (
            max(finite_ends) + loop_gap if loop and finite_ends and max(finite_ends) > 0 else None
        )

    @classmethod
    def from_file(cls, script: ScriptFile, *, loop: bool | None = None) -> GateScript:
        return cls(
            script.steps, loop=script.loop if loop is None else loop, loop_gap=script.loop_gap
        )

    def add(self, step: _Step, *, at: float) -> None:
        """Schedule ``step`` with its ``start`` counted from script time ``at``."""
        self._added.append(step.model_copy(update={"start": at + step.start}))

    def sightings(self, t: float) -> list[Sighting]:
        """What the antennas see at ``t``; for modelled steps, their reads of the last
        ``MODEL_GLANCE_S``."""
        looped_t = t % self.period if self.period is not None else t
        seen = [s for step in self._steps for s in _step_sightings(step, looped_t)]
        seen.extend(s for step in self._added for s in _step_sightings(step, t))
        seen.extend(self._modelled(t - MODEL_GLANCE_S, t))
        return seen

    def sample(self, t: float, rng: random.Random, noise_db: float) -> list[Sighting]:
        """One inventory cycle: each sighting read with its probability, RSSI plus noise;
        modelled steps give the model's reads since the previous cycle as they are."""
        since = self._sampled_to if self._sampled_to is not None else t - MODEL_GLANCE_S
        self._sampled_to = t
        scripted = [
            Sighting(s.epc, s.antenna, s.rssi_dbm + rng.gauss(0.0, noise_db), 1.0)
            for step in (*self._steps, *self._added)
            if not isinstance(step, Modelled)
            for s in _step_sightings(step, self._local(step, t))
            if rng.random() < s.probability
        ]
        return scripted + self._modelled(since, t)

    def _local(self, step: _Step, t: float) -> float:
        """Script time ``t`` as a step of the file (looped) or an added step sees it."""
        if self.period is not None and any(step is s for s in self._steps):
            return t % self.period
        return t

    def _modelled(self, t0: float, t1: float) -> list[Sighting]:
        """The modelled steps' reads from ``t0`` to ``t1`` (a looped script wraps round)."""
        spans: list[tuple[Sequence[_Step], float, float]] = [(self._added, t0, t1)]
        if self.period is None:
            spans.append((self._steps, t0, t1))
        else:
            a, b = t0 % self.period, t1 % self.period
            if t1 - t0 >= self.period:
                a, b = 0.0, self.period
            spans += (
                [(self._steps, a, b)]
                if a <= b
                else [
                    (self._steps, a, self.period),
                    (self._steps, 0.0, b),
                ]
            )
        return [
            Sighting(r.epc, r.antenna, r.rssi if r.rssi is not None else FLOOR_DBM, 1.0)
            for steps, lo, hi in spans
            for step in steps
            if isinstance(step, Modelled)
            for r in step.reads_between(lo, hi)
        ]

    def finished(self, t: float) -> bool:
        """True once no step will show anything after ``t`` (never for a looping script)."""
        if self.period is not None:
            return False
        return all(step.end <= t for step in (*self._steps, *self._added))


def demo_script() -> ScriptFile:
    """A tag carried out, one carried in, someone walking past outside."""
    return ScriptFile(
        steps=[
            Cross(epc="E28011700000020A00000001", direction="out", start=1.0, duration=2.0),
            Cross(epc="E28011700000020A00000002", direction="in", start=4.0, duration=2.0),
            WalkPast(epc="E28011700000020A00000003", side="outside", start=7.0, duration=3.0),
        ],
        loop_gap=2.0,
    )


MODEL_DEMO: tuple[str, ...] = ("walk_out", "walk_in", "walk_past", "turn_back", "parked")
"""What ``archroom simulate llrp-gate`` plays by default: the physical model's walks."""


def model_script(
    classes: Sequence[str] = MODEL_DEMO, *, seed: int = 1, gap: float = 1.0, parked_s: float = 30.0
) -> ScriptFile:
    """The physical model's scenarios one after another, ``gap`` seconds apart, each with its
    own tag (``E2801170000000000000`` and a count) and seed."""
    steps: list[Step] = []
    start = 0.0
    for k, cls in enumerate(classes):
        if cls not in gate_model.SCENARIO_CLASSES:
            raise ValueError(
                f"unknown scenario {cls!r} (one of: {', '.join(gate_model.SCENARIO_CLASSES)})"
            )
        step = Modelled.model_validate(
            {
                "epc": f"E2801170000000000000{k + 1:02X}00",
                "scenario": cls,
                "seed": seed * 1000 + k,
                "start": start,
                "parked_s": parked_s,
            }
        )
        steps.append(step)
        start = step.end + gap
    return ScriptFile(steps=steps, loop_gap=gap)


# -- the LLRP reader around it -------------------------------------------------------------------


class LlrpGateSimulator(LLRPEmulator):
    """A two-antenna LLRP gate reader on TCP whose reads follow a ``GateScript``.

    Script time starts at ``start()`` on ``clock``. ``impinj=False`` announces a non-Impinj
    manufacturer, which refuses the Octane extensions and reports whole-dBm RSSI only.
    ``reader_clock_offset_s`` sets the reader's clock that far from the wall clock.
    """

    def __init__(
        self,
        script: GateScript | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        cycle_s: float = 0.05,
        noise_db: float = 1.5,
        seed: int = 1,
        impinj: bool = True,
        antenna_count: int = 2,
        reader_clock_offset_s: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(host=host, port=port, tags=[], antenna_count=antenna_count, seed=seed)
        self.script = script if script is not None else GateScript()
        self.cycle_s = cycle_s
        self.noise_db = noise_db
        self.impinj = impinj
        self.reader_clock_offset_s = reader_clock_offset_s
        self._clock = clock
        self._t0 = clock()
        self._keepalives_silenced = False
        self._silent = False
        self._carried_rospecs: dict[int, tuple[params.ROSpec, str]] | None = None
        #: Observability for tests and the CLI.
        self.connections = 0
        self.rospec_adds = 0
        self.keepalives_sent = 0
        self.reads_sent = 0
        self.extension_requests = 0
        self.reports_sent = 0
        self.events_and_reports_enabled = 0
        self._runs: dict[int, _Run] = {}

    async def start(self) -> None:
        self._t0 = self._clock()
        await super().start()
        log.info("LLRP gate simulator listening on %s:%d", self.host, self.port)

    async def __aenter__(self) -> LlrpGateSimulator:
        await self.start()
        return self

    # -- controls ------------------------------------------------------------------------------

    def script_time(self) -> float:
        return self._clock() - self._t0

    def add(self, step: _Step) -> None:
        """Run ``step`` now (its ``start`` counts from the current script time)."""
        self.script.add(step, at=self.script_time())

    async def drop_connection(self) -> bool:
        """Close the client's TCP connection as a reader reboot would; False if none."""
        writer = self._writer
        if writer is None:
            return False
        self._stop_reporting()
        self._stop_keepalive()
        writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await writer.wait_closed()
        return True

    async def end_inventory(self) -> None:
        """Stop every active ROSpec from the reader's side (its web UI, a fault) and say so."""
        ended = [rid for rid, (_spec, state) in self._rospecs.items() if state == "Active"]
        for rid in ended:
            self._rospecs[rid] = (self._rospecs[rid][0], "Enabled")
        await self._flush_ended_runs()
        for rid in ended:
            await self._send_rospec_event(rid, enums.ROSpecEventType.End_Of_ROSpec)
        self._sync_reporting()

    def silence_keepalives(self, silent: bool = True) -> None:
        """Stop (or resume) sending KEEPALIVEs; everything else goes on."""
        self._keepalives_silenced = silent

    def go_silent(self, silent: bool = True) -> None:
        """Send nothing at all while the socket stays open (or resume): a hung reader."""
        self._silent = silent

    async def send_report(self, tag_reports: Sequence[params.TagReportData]) -> None:
        """Send one RO_ACCESS_REPORT with exactly these tag reports (malformed ones welcome)."""
        await self._send(messages.RO_ACCESS_REPORT(tag_report_datas=list(tag_reports)))

    @property
    def client_connected(self) -> bool:
        return self._writer is not None

    def rospecs(self) -> dict[int, params.ROSpec]:
        """Installed ROSpecs by id, as the client sent them."""
        return {rid: spec for rid, (spec, _) in self._rospecs.items()}

    def rospec_states(self) -> dict[int, str]:
        """Installed ROSpec ids and their states (``Disabled``, ``Enabled``, ``Active``)."""
        return {rid: state for rid, (_, state) in self._rospecs.items()}

    # -- emulator hooks ------------------------------------------------------------------------

    async def _handle_client(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        if self._writer is None:
            # Readers keep their ROSpecs across connections; the emulator would forget them.
            # What a stopped inventory still held went down with the old connection.
            self._runs.clear()
            self._carried_rospecs = dict(self._rospecs)
            self.connections += 1
        await super()._handle_client(reader, writer)

    async def _send_connection_event(self, writer: asyncio.StreamWriter, status: int) -> None:
        if (
            int(status) == int(enums.ConnectionAttemptStatusType.Success)
            and self._carried_rospecs is not None
        ):
            self._rospecs = {
                rid: (spec, "Enabled" if state == "Active" else state)
                for rid, (spec, state) in self._carried_rospecs.items()
            }
            self._carried_rospecs = None
        await super()._send_connection_event(writer, status)

    async def _handle_message(self, msg: LLRPMessage) -> None:
        await self._handle_message_as_reader(msg)
        await self._flush_ended_runs()

    async def _handle_message_as_reader(self, msg: LLRPMessage) -> None:
        if await self._handle_rospec_message(msg):
            return
        if isinstance(msg, messages.DELETE_ROSPEC) and msg.ro_spec_id == 0:
            self._rospecs.clear()  # LLRP: ROSpecID 0 means all of them
            self._sync_reporting()
            await self._send(
                messages.DELETE_ROSPEC_RESPONSE(llrp_status=self._status_ok()),
                message_id=msg.message_id,
            )
            return
        if isinstance(msg, impinj.IMPINJ_ENABLE_EXTENSIONS):
            self.extension_requests += 1
            if not self.impinj:
                await self._send(
                    messages.ERROR_MESSAGE(
                        llrp_status=self._status_error(
                            enums.StatusCode.M_UnsupportedMessage, "no vendor extensions"
                        )
                    ),
                    message_id=msg.message_id,
                )
                return
        await super()._handle_message(msg)

    def _add_rospec(self, rospec: params.ROSpec) -> params.LLRPStatus:
        status = super()._add_rospec(rospec)
        if int(status.status_code) == int(enums.StatusCode.M_Success):
            self.rospec_adds += 1
        return status

    def _capabilities_response(self) -> messages.GET_READER_CAPABILITIES_RESPONSE:
        response = super()._capabilities_response()
        gdc = response.general_device_capabilities
        if gdc is not None and not self.impinj:
            gdc.device_manufacturer_name = 0  # not Impinj: no Octane extensions
        return response

    async def _send(self, msg: LLRPMessage, *, message_id: int = 0) -> None:
        if self._silent:
            return
        if isinstance(msg, messages.KEEPALIVE):
            if self._keepalives_silenced:
                return
            self.keepalives_sent += 1
        await super()._send(msg, message_id=message_id)

    async def _handle_rospec_message(self, msg: LLRPMessage) -> bool:
        """ENABLE_ROSPEC with an Immediate start trigger and ENABLE_EVENTS_AND_REPORTS, as the
        standard has them; False for any other message (the emulator handles it)."""
        if isinstance(msg, messages.ENABLE_EVENTS_AND_REPORTS):
            self.events_and_reports_enabled += 1  # LLRP 1.0.1 §13.1.6: no response
            return True
        if not isinstance(msg, messages.ENABLE_ROSPEC):
            return False
        status = self._set_rospec_state(msg.ro_spec_id, "Disabled", "Enabled")
        await self._send(
            messages.ENABLE_ROSPEC_RESPONSE(llrp_status=status), message_id=msg.message_id
        )
        ok = int(status.status_code) == int(enums.StatusCode.M_Success)
        if ok and _starts_immediately(self._rospecs[msg.ro_spec_id][0]):
            self._rospecs[msg.ro_spec_id] = (self._rospecs[msg.ro_spec_id][0], "Active")
            self._sync_reporting()
        return True

    def _sync_reporting(self) -> None:
        loop_now = asyncio.get_running_loop().time()
        for rid, (spec, state) in self._rospecs.items():
            if state == "Active" and rid not in self._runs:
                self._runs[rid] = _Run(
                    rospec_id=rid,
                    spec=spec,
                    started=loop_now,
                    spec_started=loop_now,
                    vendor_content=frozenset(self._scan_profile().content),
                    keyed_by_antenna=_content_selector(spec).enable_antenna_id,
                )
        super()._sync_reporting()

    async def _flush_ended_runs(self) -> None:
        """Send what ROSpecs that stopped (STOP, DISABLE, DELETE, a dropped link) still hold."""
        for rid in list(self._runs):
            entry = self._rospecs.get(rid)
            if entry is None or entry[1] != "Active":
                await self._send_held(self._runs.pop(rid))

    def _tag_report(
        self, sighting: Sighting, spec: params.ROSpec, spec_index: int, now_us: int
    ) -> _Held:
        return _Held(
            epc=sighting.epc,
            antenna=sighting.antenna,
            peak_dbm=sighting.rssi_dbm,
            channel=self._rng.randint(1, 50),
            first_us=now_us,
            last_us=now_us,
            ro_spec_id=spec.ro_spec_id,
            spec_index=spec_index,
        )

    def _encode_held(
        self, held: _Held, spec: params.ROSpec, content: frozenset[str]
    ) -> params.TagReportData:
        selector = _content_selector(spec)
        epc = bytes.fromhex(held.epc)
        trd = params.TagReportData(
            epc_parameter=params.EPC_96(epc=epc)
            if len(epc) == 12
            else params.EPCData(epc=BitStr.from_bytes(epc))
        )
        if selector.enable_ro_spec_id:
            trd.ro_spec_id = params.ROSpecID(ro_spec_id=held.ro_spec_id)
        if selector.enable_spec_index:
            trd.spec_index = params.SpecIndex(spec_index=held.spec_index)
        if selector.enable_inventory_parameter_spec_id:
            trd.inventory_parameter_spec_id = params.InventoryParameterSpecID(
                inventory_parameter_spec_id=_inventory_parameter_spec_id(spec, held.spec_index)
            )
        if selector.enable_antenna_id:
            trd.antenna_id = params.AntennaID(antenna_id=held.antenna)
        if selector.enable_peak_rssi:
            trd.peak_rssi = params.PeakRSSI(peak_rssi=max(-128, min(127, round(held.peak_dbm))))
        if selector.enable_channel_index:
            trd.channel_index = params.ChannelIndex(channel_index=held.channel)
        if selector.enable_first_seen_timestamp:
            trd.first_seen_timestamp_utc = params.FirstSeenTimestampUTC(microseconds=held.first_us)
        if selector.enable_last_seen_timestamp:
            trd.last_seen_timestamp_utc = params.LastSeenTimestampUTC(microseconds=held.last_us)
        if selector.enable_tag_seen_count:
            trd.tag_seen_count = params.TagSeenCount(tag_count=min(held.count, 0xFFFF))
        if any(m.enable_pc_bits for m in selector.air_protocol_epc_memory_selectors):
            trd.air_protocol_tag_datas.append(params.C1G2_PC(pc_bits=(len(epc) // 2) << 11))
        if "rssi" in content:
            trd.custom.append(impinj.ImpinjPeakRSSI(rssi=round(held.peak_dbm * 100)))
        return trd

    async def _send_held(self, run: _Run) -> None:
        """One RO_ACCESS_REPORT with everything ``run`` holds (nothing if it holds nothing)."""
        if not run.held:
            return
        held = list(run.held.values())
        run.held.clear()
        reports = [self._encode_held(h, run.spec, run.vendor_content) for h in held]
        await self._send(messages.RO_ACCESS_REPORT(tag_report_datas=reports))
        self.reports_sent += 1
        self.reads_sent += len(reports)

    async def _end_rospec(self, rid: int, run: _Run) -> None:
        """The ROSpec ran its course (its stop trigger or its last AISpec): report, go back to
        Inactive (our ``Enabled``) and say so, as a reader does."""
        await self._send_held(run)
        self._runs.pop(rid, None)
        spec, _state = self._rospecs[rid]
        self._rospecs[rid] = (spec, "Enabled")
        await self._send_rospec_event(rid, enums.ROSpecEventType.End_Of_ROSpec)

    async def _advance(self, rid: int, run: _Run, now: float) -> bool:
        """Apply the stop triggers at loop time ``now``; False when the ROSpec has ended."""
        spec = run.spec
        stop = spec.ro_boundary_spec.ro_spec_stop_trigger
        if (
            int(stop.ro_spec_stop_trigger_type) == int(enums.ROSpecStopTriggerType.Duration)
            and now - run.started >= stop.duration_trigger_value / 1000
        ):
            await self._end_rospec(rid, run)
            return False
        ai_specs = _ai_specs(spec)
        while run.spec_index < len(ai_specs):
            trigger = ai_specs[run.spec_index].ai_spec_stop_trigger
            if (
                int(trigger.ai_spec_stop_trigger_type) != int(enums.AISpecStopTriggerType.Duration)
                or now - run.spec_started < trigger.duration_trigger / 1000
            ):
                return True
            if _report_trigger(spec) == int(enums.ROReportTriggerType.Upon_N_Tags_Or_End_Of_AISpec):
                await self._send_held(run)
            run.spec_index += 1
            run.spec_started = now
        await self._end_rospec(rid, run)
        return False

    async def _report_loop(self) -> None:
        loop = asyncio.get_running_loop()
        next_due = loop.time()
        while True:
            next_due += self.cycle_s
            delay = next_due - loop.time()
            if delay < -1.0:  # stalled (debugger, overloaded host): do not burst to catch up
                next_due = loop.time()
            await asyncio.sleep(max(0.0, delay))
            await self._flush_ended_runs()
            now = loop.time()
            filters = self._scan_profile().filters
            sample = [
                s
                for s in self.script.sample(self.script_time(), self._rng, self.noise_db)
                if self._passes_filters(bytes.fromhex(s.epc), filters)
            ]
            now_us = round((time.time() + self.reader_clock_offset_s) * 1_000_000)
            for rid, run in list(self._runs.items()):
                if not await self._advance(rid, run, now):
                    continue
                spec = run.spec
                ai_spec = _ai_specs(spec)[run.spec_index]
                antennas = set(ai_spec.antenna_ids) - self._disconnected
                every = 0 in antennas or not ai_spec.antenna_ids
                n = spec.ro_report_spec.n if spec.ro_report_spec is not None else 0
                for s in sample:
                    if not (every or s.antenna in antennas):
                        continue
                    key = (s.epc, s.antenna if run.keyed_by_antenna else 0)
                    held = run.held.get(key)
                    if held is None:
                        run.held[key] = self._tag_report(s, spec, run.spec_index + 1, now_us)
                    else:
                        held.seen(s, now_us)
                    if n and len(run.held) >= n:
                        await self._send_held(run)


@dataclass(slots=True)
class _Held:
    """One tag's reads held for the next report, aggregated as a reader does."""

    epc: str
    antenna: int
    peak_dbm: float
    channel: int
    first_us: int
    last_us: int
    ro_spec_id: int
    spec_index: int
    count: int = 1

    def seen(self, sighting: Sighting, now_us: int) -> None:
        self.count += 1
        self.last_us = now_us
        if sighting.rssi_dbm > self.peak_dbm:
            self.peak_dbm = sighting.rssi_dbm
            self.antenna = sighting.antenna


@dataclass(slots=True)
class _Run:
    """An active ROSpec: when it (and its current AISpec) started, what it holds back."""

    rospec_id: int
    spec: params.ROSpec
    started: float
    spec_started: float
    vendor_content: frozenset[str] = frozenset()
    """Impinj report extensions asked for (``rssi``: ImpinjPeakRSSI)."""
    keyed_by_antenna: bool = False
    """Tags are aggregated per (EPC, antenna) when the antenna is reported, else per EPC."""
    spec_index: int = 0
    held: dict[tuple[str, int], _Held] = field(default_factory=dict)


def _ai_specs(spec: params.ROSpec) -> list[params.AISpec]:
    return [sp for sp in spec.spec_parameters if isinstance(sp, params.AISpec)]


def _starts_immediately(spec: params.ROSpec) -> bool:
    trigger = spec.ro_boundary_spec.ro_spec_start_trigger
    return int(trigger.ro_spec_start_trigger_type) == int(enums.ROSpecStartTriggerType.Immediate)


def _report_trigger(spec: params.ROSpec) -> int:
    report = spec.ro_report_spec
    return int(report.ro_report_trigger) if report is not None else 0


_NO_CONTENT = params.TagReportContentSelector()


def _content_selector(spec: params.ROSpec) -> params.TagReportContentSelector:
    """The ROSpec's selector; without an ROReportSpec a reader uses its own default, which
    for this simulator is the EPC alone (LLRP 1.0.1 §13.2.1)."""
    report = spec.ro_report_spec
    return report.tag_report_content_selector if report is not None else _NO_CONTENT


def _inventory_parameter_spec_id(spec: params.ROSpec, spec_index: int) -> int:
    ai_specs = _ai_specs(spec)
    if (
        not 1 <= spec_index <= len(ai_specs)
        or not ai_specs[spec_index - 1].inventory_parameter_specs
    ):
        return 0
    return ai_specs[spec_index - 1].inventory_parameter_specs[0].inventory_parameter_spec_id


# -- command line --------------------------------------------------------------------------------


def _load_script(
    path: str | None, loop: bool, model: str | None = None, seed: int = 1
) -> GateScript:
    if model is not None:
        classes = [c.strip() for c in model.split(",") if c.strip()]
        return GateScript.from_file(model_script(classes, seed=seed), loop=loop)
    if path is None:
        return GateScript.from_file(model_script(seed=seed), loop=loop)
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    return GateScript.from_file(ScriptFile.model_validate(raw), loop=loop or None)


async def _serve(
    sim: LlrpGateSimulator, duration: float | None, stop_signals: Sequence[signal.Signals]
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in stop_signals:
        loop.add_signal_handler(sig, stop.set)
    try:
        async with sim:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(duration):
                    await stop.wait()
    finally:
        for sig in stop_signals:
            loop.remove_signal_handler(sig)
    log.info(
        "LLRP gate simulator stopped: %d connection(s), %d read(s) sent",
        sim.connections,
        sim.reads_sent,
    )


def main(argv: list[str]) -> int:
    """``archroom simulate llrp-gate``: serve a scripted gate until interrupted."""
    parser = argparse.ArgumentParser(
        prog="archroom simulate llrp-gate",
        description="LLRP gate reader (inside antenna 1, outside antenna 2) with scripted tags.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5084)
    parser.add_argument(
        "--script",
        help="JSON gate script (default: the physical model's crossing out, crossing in,"
        " walk-past, turn-back and a box parked by the door)",
    )
    parser.add_argument(
        "--model",
        metavar="SCENARIOS",
        help="play these scenarios of the physical gate model one after another, comma"
        f" separated ({', '.join(gate_model.SCENARIO_CLASSES)})",
    )
    parser.add_argument("--loop", action="store_true", help="repeat the script")
    parser.add_argument("--duration", type=float, help="stop after this many seconds")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--non-impinj", action="store_true", help="announce no vendor extensions")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        script = _load_script(args.script, args.loop, args.model, args.seed)
    except (OSError, ValueError, ValidationError) as exc:
        log.error("cannot load gate script %s: %s", args.script, exc)  # noqa: TRY400
        return 2
    sim = LlrpGateSimulator(
        script, host=args.host, port=args.port, seed=args.seed, impinj=not args.non_impinj
    )
    try:
        asyncio.run(_serve(sim, args.duration, (signal.SIGINT, signal.SIGTERM)))
    except OSError as exc:
        log.error("cannot listen on %s:%d: %s", args.host, args.port, exc)  # noqa: TRY400
        return 1
    return 0
