"""Polling the climate sensors of one Modbus bus.

One asyncio pymodbus client per bus: an RS485 line is half-duplex and master-driven, so only
one request may be on the wire at a time, and devices need a quiet gap between frames (3.5
character times by the standard; ~30 ms is what cheap transmitters and serial servers actually
need). Modbus TCP gateways also serialise behind the scenes, so a TCP bus is polled the same
way. pymodbus' own retries and reconnects are switched off: the schedule decides what to ask
next, and this module owns the link's reconnect loop (capped exponential backoff with jitter).

With a ``lock_dir`` (the daemon passes its state directory) the poller holds the line's lock
(:mod:`sensors.buslock`) while it polls, so that ``archroom sensor`` refuses to commission a
sensor on a line the daemon is using; while someone else holds it, the poller reports the
link down and waits.

What it yields goes to a ``ClimateSink``: accepted readings, sensor up/down edges and link
up/down edges. Everything else — timeouts, exception answers, rejected values — is counted.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException
from pymodbus.framer import FramerType
from pymodbus.pdu import ModbusPDU

from drivers.cancellation import raise_if_cancelled
from drivers.links import Link, modbus_link
from drivers.reconnect import Backoff
from sensors.buslock import BusBusyError, BusLock
from sensors.config import BusConfig, SensorConfig
from sensors.profiles import Profile, Rejected, profile_for
from sensors.readings import BusLinkChange, ClimateSink, Reading, SensorStateChange
from sensors.schedule import Health, PollSchedule, Transition

log = logging.getLogger(__name__)

ModbusClient = AsyncModbusSerialClient | AsyncModbusTcpClient


@dataclass(slots=True)
class SensorCounters:
    """Per-sensor totals since the poller started."""

    polls: int = 0
    readings: int = 0
    timeouts: int = 0
    error_answers: int = 0
    """Modbus exception answers and malformed frames."""
    rejected_error_code: int = 0
    rejected_out_of_range: int = 0
    rejected_malformed: int = 0
    skipped_link_down: int = 0

    @property
    def rejected(self) -> int:
        return self.rejected_error_code + self.rejected_out_of_range + self.rejected_malformed


@dataclass(slots=True)
class BusCounters:
    connects: int = 0
    connect_failures: int = 0
    link_losses: int = 0


@dataclass(frozen=True, slots=True)
class _Sensor:
    id: str
    room: str
    device_id: int
    profile: Profile


def serial_parameters(bus: BusConfig, sensors: Sequence[SensorConfig]) -> BusConfig:
    """The bus with its line speed filled in from its sensors' profiles when unset."""
    if bus.baudrate is not None:
        return bus
    speeds = {profile_for(s).serial.baudrate for s in sensors}
    if len(speeds) > 1:
        log.warning(
            "bus %s: sensors default to different speeds %s; using 9600, set baudrate",
            bus.id,
            sorted(speeds),
        )
    baudrate = speeds.pop() if len(speeds) == 1 else 9600
    return bus.model_copy(update={"baudrate": baudrate})


def make_client(bus: BusConfig) -> ModbusClient:
    """A pymodbus client for the bus's link, with pymodbus' own retries and reconnects off."""
    link: Link = modbus_link(bus.url)
    if link.scheme == "serial":
        return AsyncModbusSerialClient(
            link.path,
            framer=FramerType.RTU,
            baudrate=bus.baudrate or 9600,
            bytesize=bus.bytesize,
            parity=bus.parity,
            stopbits=bus.stopbits,
            timeout=bus.timeout_s,
            retries=0,
            reconnect_delay=0,
            name=bus.id,
        )
    framer = FramerType.SOCKET if bus.framer == "tcp" else FramerType.RTU
    return AsyncModbusTcpClient(
        link.host,
        port=link.port,
        framer=framer,
        timeout=bus.timeout_s,
        retries=0,
        reconnect_delay=0,
        name=bus.id,
    )


class BusPoller:
    """Polls every sensor of one bus on its schedule until cancelled."""

    def __init__(
        self,
        bus: BusConfig,
        sensors: Sequence[SensorConfig],
        sink: ClimateSink,
        *,
        wall_clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        lock_dir: Path | None = None,
    ) -> None:
        mine = [s for s in sensors if s.bus == bus.id]
        if not mine:
            raise ValueError(f"bus {bus.id!r} has no sensors")
        self.bus = serial_parameters(bus, mine)
        self._sink = sink
        self._wall = wall_clock
        self._gap_s = self.bus.effective_gap_s()
        self._sensors = {s.id: _Sensor(s.id, s.room, s.device_id, profile_for(s)) for s in mine}
        self._configs = {s.id: s for s in mine}
        self._schedule = PollSchedule(down_retry_s=self.bus.down_retry_s)
        self._backoff = Backoff(0.5, self.bus.reconnect_max_s, rng=rng)
        self.counters: dict[str, SensorCounters] = {s.id: SensorCounters() for s in mine}
        self.bus_counters = BusCounters()
        self._last_error: dict[str, tuple[str, float]] = {}
        self._client: ModbusClient | None = None
        self._link_up = False
        self._link_reported: bool | None = None
        self._reconnect_at = 0.0
        self._lock = BusLock(lock_dir, bus.url) if lock_dir is not None else None

    @property
    def link_up(self) -> bool:
        return self._link_up

    def health(self, sensor: str) -> Health:
        return self._schedule.health(sensor)

    def last_error(self, sensor: str) -> tuple[str, float] | None:
        """Why the latest failed poll of ``sensor`` failed, and when (wall clock); None if none."""
        return self._last_error.get(sensor)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        for cfg in self._configs.values():
            self._schedule.add(
                cfg.id,
                interval_s=cfg.interval_s,
                lazy_error_count=cfg.lazy_error_count,
                first_due=start,
                stuck_after_s=cfg.stuck_after_s,
            )
        if self._lock is not None:
            await self._own_line(self._lock)
        self._client = make_client(self.bus)
        # Any full round of the bus without a single answer means the link itself is gone.
        self._client.set_max_no_responses(len(self._sensors) + 2)
        try:
            await self._loop(loop)
        finally:
            self._client.close()
            self._client = None
            if self._lock is not None:
                self._lock.release()

    async def _own_line(self, lock: BusLock) -> None:
        """Wait until this poller holds the line's lock (while a commissioning session has
        it, the link is reported down). A lock file that cannot be created is logged and
        the line polled anyway: climate alarms matter more than the interlock."""
        while True:
            try:
                lock.acquire()
            except BusBusyError as e:
                delay = self._backoff.next_delay()
                self._backoff.failed(
                    log, "climate bus %s: %s; retry in %.1f s", self.bus.id, e, delay
                )
                self._report_link(False, "line in use by another process")
                await asyncio.sleep(delay)
            except OSError as e:
                log.warning(
                    "climate bus %s: cannot create %s (%s); polling without the line lock",
                    self.bus.id,
                    lock.path,
                    e,
                )
                return
            else:
                self._backoff.reset()
                return

    async def _loop(self, loop: asyncio.AbstractEventLoop) -> None:
        assert self._client is not None
        while True:
            raise_if_cancelled()
            sensor, due = self._schedule.next_due()
            now = loop.time()
            if self._link_up and not self._client.connected:
                self._link_lost("connection closed")
            if not self._link_up and now >= self._reconnect_at:
                await self._connect(loop)
                continue
            wake = due if self._link_up else min(due, self._reconnect_at)
            if wake > now:
                await asyncio.sleep(wake - now)
                continue
            if not self._link_up:
                self.counters[sensor].skipped_link_down += 1
                self._failed(sensor, now, f"bus {self.bus.id} link down")
                continue
            await self._poll(self._sensors[sensor], loop)
            if self._gap_s:
                await asyncio.sleep(self._gap_s)

    async def _connect(self, loop: asyncio.AbstractEventLoop) -> None:
        assert self._client is not None
        ok = await self._client.connect()
        if ok:
            self.bus_counters.connects += 1
            self._link_up = True
            self._report_link(True, "connected")
            log.info("climate bus %s connected (%s)", self.bus.id, self.bus.url)
            return
        self.bus_counters.connect_failures += 1
        delay = self._backoff.next_delay()
        self._reconnect_at = loop.time() + delay
        self._backoff.failed(
            log,
            "climate bus %s: cannot connect to %s; retry in %.1f s",
            self.bus.id,
            self.bus.url,
            delay,
        )
        self._report_link(False, f"cannot connect to {self.bus.url}")

    def _link_lost(self, reason: str) -> None:
        assert self._client is not None
        self.bus_counters.link_losses += 1
        self._link_up = False
        self._client.close()
        # The backoff is only reset by an answer, so a link that accepts and drops at once
        # is retried ever more slowly rather than in a tight loop.
        delay = self._backoff.next_delay()
        self._reconnect_at = asyncio.get_running_loop().time() + delay
        self._backoff.failed(
            log, "climate bus %s: link lost (%s); reconnect in %.1f s", self.bus.id, reason, delay
        )
        self._report_link(False, reason)

    def _report_link(self, up: bool, reason: str) -> None:
        if self._link_reported is up:
            return
        self._link_reported = up
        self._sink.link_state(BusLinkChange(self.bus.id, up, reason, self._wall()))

    async def _poll(self, sensor: _Sensor, loop: asyncio.AbstractEventLoop) -> None:
        assert self._client is not None
        counters = self.counters[sensor.id]
        counters.polls += 1
        answers: list[Sequence[int]] = []
        for i, block in enumerate(sensor.profile.blocks):
            if i and self._gap_s:
                await asyncio.sleep(self._gap_s)
            try:
                if block.function_code == 3:
                    response: ModbusPDU = await self._client.read_holding_registers(
                        block.address, count=block.count, device_id=sensor.device_id
                    )
                else:
                    response = await self._client.read_input_registers(
                        block.address, count=block.count, device_id=sensor.device_id
                    )
            except ConnectionException as e:
                self._link_lost(str(e) or "not connected")
                return
            except ModbusIOException:
                counters.timeouts += 1
                self._failed(sensor.id, loop.time(), "no response")
                return
            except ModbusException as e:
                counters.error_answers += 1
                self._failed(sensor.id, loop.time(), f"bad answer: {e}")
                return
            if response.isError():
                counters.error_answers += 1
                reason = f"exception code {response.exception_code}"
                self._failed(sensor.id, loop.time(), reason)
                return
            self._backoff.reset()
            answers.append(list(response.registers))
        decoded = sensor.profile.decode(answers)
        now = loop.time()
        if isinstance(decoded, Rejected):
            if decoded.kind == "error-code":
                counters.rejected_error_code += 1
            elif decoded.kind == "out-of-range":
                counters.rejected_out_of_range += 1
            else:
                counters.rejected_malformed += 1
            log.debug("sensor %s: rejected %s", sensor.id, decoded.reason)
            self._failed(sensor.id, now, f"rejected {decoded.reason}")
            return
        outcome = self._schedule.succeeded(sensor.id, now, decoded.raw)
        self._apply(outcome.transition)
        if outcome.deliver:
            counters.readings += 1
            self._sink.reading(
                Reading(
                    sensor.id,
                    sensor.room,
                    round(decoded.temperature_c, 4),
                    round(decoded.humidity_pct, 4),
                    self._wall(),
                )
            )

    def _failed(self, sensor: str, now: float, reason: str) -> None:
        self._last_error[sensor] = (reason, self._wall())
        self._apply(self._schedule.failed(sensor, now, reason))

    def _apply(self, transition: Transition | None) -> None:
        if transition is None:
            return
        sensor = self._sensors[transition.sensor]
        if transition.up:
            log.info("sensor %s up (%s)", sensor.id, transition.reason)
        else:
            log.warning("sensor %s down: %s", sensor.id, transition.reason)
        self._sink.sensor_state(
            SensorStateChange(
                sensor.id, sensor.room, transition.up, transition.reason, self._wall()
            )
        )
