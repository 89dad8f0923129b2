"""The climate of the rooms in the running daemon: buses polled, alarms recorded, history kept.

The ``sensors`` package decides (profiles, polling schedule, limits with hysteresis, the 24 h
fluctuation rule, preservation figures); this module gives its decisions their effects. One
``BusPoller`` per bus runs as a supervised task and delivers into ``ClimateService``, its sink:

- a reading goes to the ``ClimateMonitor`` (the rooms' judgement) and the minute aggregator,
  and sets the Prometheus gauges at once (humidity as a 0-1 ratio there, in percent in the API
  and on MQTT);
- alarm decisions queue for one recorder task that raises and clears them through ``Alarms`` in
  order, stamped with the time of the reading that caused them, retrying while the database is
  away: a decision is never dropped or reordered;
- the retained ``climate/{sensor}`` topic carries each sensor's latest reading, batched once a
  second, so 500 sensors wake the MQTT publisher once a second rather than fifty times;
- finished minutes go to ``climate_minutes`` in one transaction every ``history_flush_s``, and
  history past its retention is pruned a day's slice at a time, so ledger writes never wait
  long behind it.

A restart must neither forget an alarm nor repeat one. Before polling starts, the last day of
stored history is replayed into the monitor, so the fluctuation rule and the 24 h TWPI keep their
window. Once a room has been judged on live readings for its minimum duration (plus the
smoothing window), its recorded alarms are brought in line with the judgement: raised if the
condition holds and none is active, cleared if one is active and the condition is gone. Sensor
faults follow the pollers' up/down edges, which are debounced already, so an up edge always
clears a fault, including one left by the previous run.

Every time here comes from the injected ``clock`` through the readings, so a test can drive a
day of climate through the service in seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import time
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from prometheus_client import Gauge

from daemon import messages
from daemon.clock import seconds_to_us, us_to_iso
from daemon.config import ArchroomConfig, RoomConfig
from daemon.device_kit import DeviceKit
from daemon.health import Health
from daemon.ledger.alarms import Alarms
from daemon.ledger.uow import Ledger
from daemon.messages import Message
from daemon.metrics import Metrics
from daemon.mqtt import RetainedState
from daemon.supervisor import Supervisor
from drivers.cancellation import raise_if_cancelled
from drivers.reconnect import Backoff
from sensors.alarms import AlarmChange, AlarmKind, sensor_fault
from sensors.bus import BusPoller, SensorCounters
from sensors.config import BusConfig, SensorConfig
from sensors.derived import dew_point_c
from sensors.history import MINUTE_S, MinuteAggregate, MinuteAggregator
from sensors.limits import ClimateLimits, limits_for
from sensors.monitor import ClimateMonitor, ClimateSnapshot
from sensors.readings import BusLinkChange, Reading, SensorStateChange
from sensors.service.history_store import ClimateHistory

log = logging.getLogger(__name__)

SENSOR_FAULT = "sensor.fault"
CLIMATE_KINDS: tuple[AlarmKind, ...] = tuple(
    k for k in typing.get_args(AlarmKind) if k != "sensor-fault"
)
"""The alarm kinds a room (or, with ``per_sensor_alarms``, a sensor) is judged on."""
_CRITICAL: frozenset[AlarmKind] = frozenset({"mould-risk"})
_MAX_BUFFERED_MINUTES = 200_000
"""Minutes kept in memory while the database is away (500 sensors: almost 7 hours)."""
_PRUNE_EVERY_S = 3600.0


def alarm_kind(kind: AlarmKind) -> str:
    """The kind an alarm is recorded under: ``climate.humidity-high``, ``sensor.fault``."""
    return SENSOR_FAULT if kind == "sensor-fault" else f"climate.{kind}"


def climate_words(change: AlarmChange) -> str | Message:
    """A raised climate alarm's message with its key. The English is the core's own words,
    unchanged; the key and the parameters (value and limit as the core wrote them) are read
    back from them, so the two cannot disagree."""
    if change.kind == "sensor-fault":
        reason = change.message.removeprefix(f"{change.source}: ")
        return Message(
            "alarm.sensor_fault",
            {"source": change.source, "reason": messages.sensor_reason(reason)},
        )
    key = f"alarm.climate.{change.kind}"
    found = messages.recognise(change.message, messages.family(key))
    return change.message if found is None else found


def alarm_key(kind: AlarmKind, room: str, source: str) -> str:
    """``climate.{kind}:{room}`` for a room, ``climate.{kind}:{room}/{sensor}`` for one
    sensor judged on its own, ``sensor.fault:{sensor}`` for a sensor that is down."""
    if kind == "sensor-fault":
        return f"{SENSOR_FAULT}:{source}"
    if source == room:
        return f"climate.{kind}:{room}"
    return f"climate.{kind}:{room}/{source}"


def alarm_owner(key: str) -> tuple[Literal["room", "sensor"], str] | None:
    """Whose climate alarm ``key`` is: ("room", id) or ("sensor", id); None if not climate."""
    kind, sep, rest = key.partition(":")
    if not sep:
        return None
    if kind == SENSOR_FAULT:
        return "sensor", rest
    if kind.startswith("climate."):
        room, slash, sensor = rest.partition("/")
        return ("sensor", sensor) if slash else ("room", room)
    return None


# -- what the service shows -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SensorReport:
    """The retained ``climate/{sensor}`` payload: the latest reading, and whether it is current."""

    sensor: str
    room: str
    up: bool | None
    """None until the sensor has answered or failed often enough to tell."""
    at: str | None
    """Time of the reading (ISO 8601 UTC)."""
    temperature_c: float | None
    humidity_pct: float | None
    dew_point_c: float | None
    reason: str | None
    """Why the sensor is down, when it is."""


@dataclass(frozen=True, slots=True)
class SensorView:
    config: SensorConfig
    snapshot: ClimateSnapshot
    state: Literal["up", "down", "unknown"]
    reason: str | None
    """Reason of the latest up/down change."""
    last_error: tuple[str, float] | None
    """Why the latest failed poll failed, and when."""
    counters: SensorCounters


@dataclass(frozen=True, slots=True)
class RoomView:
    config: RoomConfig
    limits: ClimateLimits
    snapshot: ClimateSnapshot
    sensors: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BusView:
    config: BusConfig
    up: bool | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class ClimateView:
    t: float
    rooms: tuple[RoomView, ...]
    sensors: tuple[SensorView, ...]
    buses: tuple[BusView, ...]


# -- the service -------------------------------------------------------------------------------


class ClimateService:
    """Every climate bus of the daemon, the rooms' judgement, and what follows from it."""

    def __init__(
        self,
        config: ArchroomConfig,
        *,
        ledger: Ledger,
        alarms: Alarms,
        metrics: Metrics,
        retained: RetainedState,
        health: Health,
        clock: Callable[[], float] = time.time,
        supervisor: Supervisor | None = None,
    ) -> None:
        if not config.sensors:
            raise ValueError("no climate sensors configured")
        self.config = config
        self.settings = config.climate
        self.ledger = ledger
        self.alarms = alarms
        self.metrics = metrics
        self.retained = retained
        self.health = health
        self.clock = clock
        self.supervisor = supervisor or Supervisor(metrics)
        self.history = ClimateHistory(ledger.store)
        self.sensors: dict[str, SensorConfig] = {s.id: s for s in config.sensors}
        configured = {r.id: r for r in config.rooms}
        self.rooms: dict[str, RoomConfig] = {}
        for s in config.sensors:
            self.rooms.setdefault(s.room, configured.get(s.room) or RoomConfig(id=s.room))
        self.limits = {r: limits_for(c.room_class, c.limits) for r, c in self.rooms.items()}
        self.buses = {b.id: b for b in config.buses if any(s.bus == b.id for s in config.sensors)}
        stale = self.settings.stale_after_s or max(
            30.0, 3 * max(s.interval_s for s in config.sensors)
        )
        self.monitor = ClimateMonitor(
            self.limits,
            {s.id: s.room for s in config.sensors},
            stale_after_s=stale,
            smoothing_s=self.settings.smoothing_s,
            per_sensor_alarms=self.settings.per_sensor_alarms,
        )
        self._aggregator = MinuteAggregator()
        self._minutes: list[MinuteAggregate] = []
        self._decisions: asyncio.Queue[AlarmChange] = asyncio.Queue()
        self._pollers: dict[str, BusPoller] = {}
        self._counted: dict[str, SensorCounters] = {}
        self._latest: dict[str, Reading] = {}
        self._states: dict[str, SensorStateChange] = {}
        self._links: dict[str, BusLinkChange] = {}
        self._dirty: set[str] = set()
        self._judged_since: dict[str, float] = {}
        self._reconciled: set[str] = set()
        self._gauges: dict[str, tuple[Gauge, Gauge, Gauge]] = {}
        self._prepared = False
        self.dropped_minutes = 0
        """Minutes lost because the database stayed away longer than the buffer lasts."""

    # -- ClimateSink: called by the pollers in the loop; never blocks --------------------------

    def reading(self, reading: Reading) -> None:
        for change in self.monitor.reading(reading):
            self._decisions.put_nowait(change)
        self._minutes.extend(self._aggregator.add(reading))
        self._latest[reading.sensor] = reading
        temperature, humidity, dew = self._gauges_of(reading.sensor, reading.room)
        temperature.set(reading.temperature_c)
        humidity.set(reading.humidity_pct / 100.0)
        dew_point = dew_point_c(reading.temperature_c, reading.humidity_pct)
        if dew_point is not None:
            dew.set(dew_point)
        self._dirty.add(reading.sensor)
        if reading.room not in self._reconciled:
            self._maybe_reconcile(reading.room, reading.t)

    def sensor_state(self, change: SensorStateChange) -> None:
        # The poller's edges are debounced already; the monitor's own fault decision is not
        # used, so that an up edge also clears a fault recorded before a restart.
        self.monitor.sensor_state(change)
        self._states[change.sensor] = change
        self.metrics.sensor_up.labels(room=change.room, sensor=change.sensor).set(
            1 if change.up else 0
        )
        if not change.up:
            self._forget_gauges(change.sensor, change.room)
        self._decisions.put_nowait(
            sensor_fault(change.sensor, change.room, change.up, change.reason, change.t)
        )
        self._dirty.add(change.sensor)
        self._report_health()

    def link_state(self, change: BusLinkChange) -> None:
        self._links[change.bus] = change
        self.metrics.climate_bus_up.labels(bus=change.bus).set(1 if change.up else 0)
        if not change.up:
            log.warning("climate bus %s down: %s", change.bus, change.reason)
        self._report_health()

    # -- running ----------------------------------------------------------------------------

    async def run(self) -> None:
        """Replay recent history once, then poll every bus and record until cancelled."""
        if not self._prepared:
            await self._prepare()
            self._prepared = True
        for sensor in self.sensors:
            if sensor not in self._states:
                self.metrics.sensor_up.labels(room=self.sensors[sensor].room, sensor=sensor).set(0)
        self._export_limits()
        self._report_health()
        async with asyncio.TaskGroup() as group:
            for bus in self.buses.values():
                self.supervisor.start(
                    group, f"climate:bus:{bus.id}", functools.partial(self._poll, bus)
                )
            self.supervisor.start(group, "climate:alarms", self._record_alarms)
            self.supervisor.start(group, "climate:publish", self._publish)
            self.supervisor.start(group, "climate:history", self._keep_history)

    async def drained(self) -> None:
        """Until every alarm decision taken so far has been recorded."""
        await self._decisions.join()

    async def flush_history(self) -> int:
        """Write every minute so far, open ones as they stand; returns how many were written."""
        self._minutes.extend(self._aggregator.drain())
        count = len(self._minutes)
        await self._write_minutes()
        return count

    def view(self) -> ClimateView:
        now = self.clock()
        rooms = tuple(
            RoomView(
                config,
                self.limits[room],
                self.monitor.room(room, now),
                tuple(s for s, cfg in self.sensors.items() if cfg.room == room),
            )
            for room, config in self.rooms.items()
        )
        return ClimateView(
            now,
            rooms,
            tuple(self._sensor_view(s, now) for s in self.sensors),
            tuple(
                BusView(
                    bus,
                    None if bus.id not in self._links else self._links[bus.id].up,
                    None if bus.id not in self._links else self._links[bus.id].reason,
                )
                for bus in self.buses.values()
            ),
        )

    def report(self, sensor: str) -> SensorReport:
        """What ``climate/{sensor}`` says about ``sensor`` now."""
        config = self.sensors[sensor]
        state = self._states.get(sensor)
        latest = self._latest.get(sensor)
        dew = None if latest is None else dew_point_c(latest.temperature_c, latest.humidity_pct)
        return SensorReport(
            sensor=sensor,
            room=config.room,
            up=None if state is None else state.up,
            at=None if latest is None else us_to_iso(seconds_to_us(latest.t)),
            temperature_c=None if latest is None else latest.temperature_c,
            humidity_pct=None if latest is None else latest.humidity_pct,
            dew_point_c=None if dew is None else round(dew, 2),
            reason=state.reason if state is not None and not state.up else None,
        )

    # -- start-up ------------------------------------------------------------------------------

    async def _prepare(self) -> None:
        try:
            await self._end_orphaned_alarms()
        except Exception as e:
            log.warning("climate: could not check alarms left by a previous run: %s", e)
        if self.settings.replay_history_s <= 0:
            return
        try:
            replayed = await self._replay()
        except Exception as e:
            log.warning("climate: history not replayed (%s); judging rooms afresh", e)
            return
        if replayed:
            log.info("climate: replayed %d minutes of history", replayed)

    async def _end_orphaned_alarms(self) -> None:
        """Clear climate alarms of rooms and sensors this daemon no longer judges."""
        for alarm in await self.alarms.list(active_only=True, limit=100_000):
            owner = alarm_owner(alarm.key)
            if owner is None:
                continue
            what, name = owner
            if what == "room":
                orphan = name not in self.rooms
            elif alarm.kind == SENSOR_FAULT:
                orphan = name not in self.sensors
            else:
                orphan = name not in self.sensors or not self.settings.per_sensor_alarms
            if orphan:
                await self.alarms.clear(alarm.key, reason=f"{name} is no longer judged here")

    async def _replay(self) -> int:
        now = self.clock()
        since_us = seconds_to_us(now - self.settings.replay_history_s)
        replayed = 0
        async for rows in self.history.since(list(self.sensors), since_us):
            for row in rows:
                config = self.sensors.get(row.sensor)
                if config is None or config.room != row.room:
                    continue
                t = min(row.minute_us / 1_000_000 + MINUTE_S, now)
                self.monitor.reading(Reading(row.sensor, row.room, row.temp_avg, row.rh_avg, t))
                replayed += 1
            await asyncio.sleep(0)  # a long replay must not stall the API
        return replayed

    def _maybe_reconcile(self, room: str, t: float) -> None:
        """Once a room has been judged live long enough, align its recorded alarms with it."""
        since = self._judged_since.setdefault(room, t)
        if t - since < self.limits[room].min_duration_s + self.settings.smoothing_s:
            return
        self._reconciled.add(room)
        sources = [(room, self.monitor.room(room, t))]
        if self.settings.per_sensor_alarms:
            sources += [
                (s, self.monitor.sensor(s, t)) for s, c in self.sensors.items() if c.room == room
            ]
        for source, snapshot in sources:
            judged = set(snapshot.alarms)
            for kind in CLIMATE_KINDS:
                recorded = self.alarms.is_active(alarm_key(kind, room, source))
                if (kind in judged) == recorded:
                    continue
                words = kind.replace("-", " ")
                self._decisions.put_nowait(
                    AlarmChange(
                        action="raise" if kind in judged else "clear",
                        kind=kind,
                        source=source,
                        room=room,
                        severity="critical" if kind in _CRITICAL else "warning",
                        t=t,
                        message=f"{source}: {words} "
                        + ("found" if kind in judged else "not found")
                        + " when monitoring resumed",
                    )
                )

    # -- tasks ----------------------------------------------------------------------------------

    async def _poll(self, bus: BusConfig) -> None:
        self._count_polls()
        poller = BusPoller(
            bus, self.config.sensors, self, wall_clock=self.clock, lock_dir=self.config.state_dir
        )
        for sensor in poller.counters:
            self._counted[sensor] = SensorCounters()
        self._pollers[bus.id] = poller
        await poller.run()

    async def _record_alarms(self) -> None:
        backoff = Backoff(0.5, 30.0)
        while True:
            raise_if_cancelled()  # a database driver may have swallowed it (Python 3.11)
            change = await self._decisions.get()
            try:
                while True:
                    try:
                        await self._record(change)
                    except Exception as e:
                        delay = backoff.next_delay()
                        backoff.failed(
                            log,
                            "climate alarm %s not recorded (%s); retrying in %.1f s",
                            alarm_key(change.kind, change.room, change.source),
                            e,
                            delay,
                        )
                        await asyncio.sleep(delay)
                    else:
                        backoff.recovered(log, "climate alarms are recorded again")
                        break
            finally:
                self._decisions.task_done()

    async def _record(self, change: AlarmChange) -> None:
        key = alarm_key(change.kind, change.room, change.source)
        at_us = seconds_to_us(change.t)
        if change.action == "clear":
            await self.alarms.clear(key, reason=change.message, at_us=at_us)
            return
        sensor_alarm = change.kind == "sensor-fault" or change.source != change.room
        await self.alarms.raise_(
            key,
            kind=alarm_kind(change.kind),
            source=f"sensor {change.source}" if sensor_alarm else f"room {change.room}",
            message=climate_words(change),
            severity=change.severity,
            subject=change.source,
            at_us=at_us,
        )

    async def _publish(self) -> None:
        """Once a second: retained topics, counters, room figures, minutes of quiet sensors."""
        while True:
            raise_if_cancelled()
            await asyncio.sleep(1.0)
            now = self.clock()
            dirty, self._dirty = self._dirty, set()
            for sensor in dirty:
                self.retained.set(f"climate/{sensor}", dataclasses.asdict(self.report(sensor)))
            self._count_polls()
            self._room_figures(now)
            self._minutes.extend(self._aggregator.flush(now))

    async def _keep_history(self) -> None:
        loop = asyncio.get_running_loop()
        backoff = Backoff()  # for its log habit: the pace is the flush interval
        prune_due = loop.time() + 60.0
        try:
            while True:
                raise_if_cancelled()
                await asyncio.sleep(self.settings.history_flush_s)
                try:
                    await self._write_minutes()
                    if loop.time() >= prune_due:
                        prune_due = loop.time() + _PRUNE_EVERY_S
                        await self._prune()
                except Exception as e:
                    backoff.failed(
                        log, "climate history not written (%s); %d minutes wait", e,
                        len(self._minutes),
                    )  # fmt: skip
                else:
                    backoff.recovered(log, "climate history is written again")
        except asyncio.CancelledError:
            # Stopping: what has been measured so far is written (briefly) before leaving.
            self._minutes.extend(self._aggregator.drain())
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._write_minutes(), 3.0)
            raise

    async def _write_minutes(self) -> None:
        batch, self._minutes = self._minutes, []
        try:
            await self.history.write(batch)
        except BaseException:
            self._minutes[:0] = batch
            self._bound_buffer()
            raise

    def _bound_buffer(self) -> None:
        excess = len(self._minutes) - _MAX_BUFFERED_MINUTES
        if excess > 0:
            del self._minutes[:excess]
            self.dropped_minutes += excess
            log.error("climate history: %d minutes dropped, the database is away", excess)

    async def _prune(self) -> None:
        cutoff_s = self.clock() - self.settings.history_retention_days * 86400.0
        pruned = await self.history.prune(list(self.rooms), seconds_to_us(cutoff_s))
        if pruned:
            log.info("climate history: pruned %d minutes older than the retention", pruned)

    # -- metrics and health --------------------------------------------------------------------

    def _gauges_of(self, sensor: str, room: str) -> tuple[Gauge, Gauge, Gauge]:
        gauges = self._gauges.get(sensor)
        if gauges is None:
            m = self.metrics
            gauges = self._gauges[sensor] = (
                m.climate_temperature.labels(room=room, sensor=sensor),
                m.climate_humidity.labels(room=room, sensor=sensor),
                m.climate_dew_point.labels(room=room, sensor=sensor),
            )
        return gauges

    def _forget_gauges(self, sensor: str, room: str) -> None:
        """A down sensor's last values leave the exposition: a gap, not a frozen line."""
        if self._gauges.pop(sensor, None) is None:
            return
        for gauge in (
            self.metrics.climate_temperature,
            self.metrics.climate_humidity,
            self.metrics.climate_dew_point,
        ):
            with contextlib.suppress(KeyError):
                gauge.remove(room, sensor)

    def _count_polls(self) -> None:
        """Add what the pollers counted since last time to the Prometheus counters."""
        m = self.metrics
        for poller in self._pollers.values():
            for sensor, now in poller.counters.items():
                before = self._counted.get(sensor) or SensorCounters()
                if now.readings > before.readings:
                    m.sensor_readings.labels(sensor=sensor).inc(now.readings - before.readings)
                if now.timeouts > before.timeouts:
                    m.sensor_errors.labels(sensor=sensor, error="timeout").inc(
                        now.timeouts - before.timeouts
                    )
                if now.error_answers > before.error_answers:
                    m.sensor_errors.labels(sensor=sensor, error="error-answer").inc(
                        now.error_answers - before.error_answers
                    )
                if now.rejected > before.rejected:
                    m.sensor_rejected.labels(sensor=sensor).inc(now.rejected - before.rejected)
                self._counted[sensor] = dataclasses.replace(now)

    def _export_limits(self) -> None:
        """Each room's own limits as gauges, so dashboards and alert rules judge the film vault
        by its 13-15 °C and not by the paper stacks' lines."""
        m = self.metrics
        for room, limits in self.limits.items():
            for bound, celsius, pct in (
                ("min", limits.temp_min_c, limits.rh_min_pct),
                ("max", limits.temp_max_c, limits.rh_max_pct),
                ("swing", limits.temp_swing_c, limits.rh_swing_pct),
            ):
                m.climate_temperature_limit.labels(room=room, bound=bound).set(celsius)
                m.climate_humidity_limit.labels(room=room, bound=bound).set(pct / 100.0)

    def _room_figures(self, now: float) -> None:
        m = self.metrics
        for room in self.rooms:
            snapshot = self.monitor.room(room, now)
            if snapshot.temperature_spread_24h_c is not None:
                m.climate_temperature_swing.labels(room=room).set(snapshot.temperature_spread_24h_c)
            if snapshot.humidity_spread_24h_pct is not None:
                m.climate_humidity_swing.labels(room=room).set(
                    snapshot.humidity_spread_24h_pct / 100.0
                )
            p = snapshot.preservation
            if p.pi_years is not None:
                m.climate_pi.labels(room=room).set(p.pi_years)
            if p.twpi_24h_years is not None:
                m.climate_twpi.labels(room=room, window="24h").set(p.twpi_24h_years)
            if p.twpi_30d_years is not None:
                m.climate_twpi.labels(room=room, window="30d").set(p.twpi_30d_years)
            m.climate_mould_risk.labels(room=room, window="24h").set(p.mould_hours_24h * 3600)
            m.climate_mould_risk.labels(room=room, window="30d").set(p.mould_hours_30d * 3600)

    def _report_health(self) -> None:
        problems = [
            f"bus {bus} down ({change.reason})"
            for bus, change in sorted(self._links.items())
            if not change.up
        ]
        problems += [
            f"sensor {sensor} down ({change.reason})"
            for sensor, change in sorted(self._states.items())
            if not change.up
        ]
        up = sum(1 for c in self._states.values() if c.up)
        if problems:
            self.health.set("climate", "degraded", "; ".join(problems))
        elif up == len(self.sensors):
            self.health.set("climate", "ok", f"{up} sensors up")
        else:
            self.health.set("climate", "starting", f"{up} of {len(self.sensors)} sensors up")

    def _sensor_view(self, sensor: str, now: float) -> SensorView:
        config = self.sensors[sensor]
        state = self._states.get(sensor)
        poller = self._pollers.get(config.bus)
        return SensorView(
            config=config,
            snapshot=self.monitor.sensor(sensor, now),
            state="unknown" if state is None else "up" if state.up else "down",
            reason=None if state is None else state.reason,
            last_error=None if poller is None else poller.last_error(sensor),
            counters=dataclasses.replace(poller.counters[sensor])
            if poller is not None
            else SensorCounters(),
        )


async def build_climate(config: ArchroomConfig, kit: DeviceKit) -> ClimateService | None:
    """The climate service when sensors are configured, else None (and health says so). Sensors
    are placed by room, not by location: the kit's locations are not needed."""
    if not config.sensors:
        kit.health.set("climate", "disabled", "no [[sensors]] in the configuration")
        return None
    service = ClimateService(
        config,
        ledger=kit.ledger,
        alarms=kit.alarms,
        metrics=kit.metrics,
        retained=kit.retained,
        health=kit.health,
    )
    kit.health.set(
        "climate", "starting", f"{len(service.sensors)} sensors on {len(service.buses)} buses"
    )
    return service
