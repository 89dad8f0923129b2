"""Climate control in the running daemon: each room's controller fed, its switches carried out.

``sensors.control.RoomController`` decides; this module gives its decisions their effects. One
task per room with actuators looks at the room every ``[rooms.control] interval_s`` (at once
after an override): it hands the controller the room's judged climate from the climate
service's monitor (the smoothed values, stamped with the time of their latest reading) and the
clock, and then makes each actuator's output match what the controller wants:

- a switch is written over Modbus (``drivers.modbus_output``: ``retries=0`` and a read-back),
  and only once the output reads back switched is it *recorded*: an audit entry and a
  ``climate.actuator`` MQTT event in one ledger transaction (actor: ``archroom``, or the person
  whose override it carries out), the gauge ``archroom_climate_actuator_on`` and the runtime
  counter;
- a write that fails is logged (WARNING once, then DEBUG), counted, tried again every
  ``retry_s`` and raises the ``actuator.fault`` alarm, cleared by the next good write; a dead
  relay module never stops the other actuators or the room's alarms;
- "control not effective" (an actuator that runs without moving the room) raises the
  ``actuator.ineffective`` alarm, cleared when the room moves or the actuator stops.

Records and alarms go through one queue and one recorder task that retries while the database
is away, so a switch is never left unrecorded and the records keep their order. Outputs are
switched off when the daemon starts (the controller starts with everything off) and when it
stops: an actuator is never left running with nobody watching the room.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from daemon.clock import seconds_to_us
from daemon.config import ArchroomConfig, RoomConfig
from daemon.device_kit import DeviceKit
from daemon.events import ClimateActuatorSwitched
from daemon.ledger.errors import Invalid, NotFound
from drivers.cancellation import raise_if_cancelled
from drivers.modbus_output import ModbusOutputs, OutputAddress, OutputError
from drivers.reconnect import Backoff
from sensors.control import Actuator, Ineffective, Override, RoomClimate, RoomController, Switch
from sensors.control_config import ActuatorConfig, ControlTuning
from sensors.service.climate import ClimateService

log = logging.getLogger(__name__)

FAULT = "actuator.fault"
INEFFECTIVE = "actuator.ineffective"
ALARM_KINDS = (FAULT, INEFFECTIVE)
Mode = Literal["on", "off", "auto"]


def alarm_key(kind: str, actuator: str) -> str:
    return f"{kind}:{actuator}"


@dataclass(slots=True)
class _Output:
    config: ActuatorConfig
    address: OutputAddress
    confirmed: bool | None = None
    """What the output last read back; None until the first good write."""
    wanted: bool = False
    reason: str = "start-up: everything off"
    by: str = "archroom"
    retry_at: float = float("-inf")
    last_error: str | None = None
    failures: int = 0
    switches: int = 0
    runtime_s: float = 0.0
    ineffective: str | None = None
    """The message of the active "control not effective" decision."""


@dataclass(slots=True)
class _Room:
    config: RoomConfig
    tuning: ControlTuning
    controller: RoomController
    outputs: dict[str, _Output]
    wake: asyncio.Event
    last_tick: float | None = None
    ticks: int = 0
    """Times the controller has looked at the room."""


# -- what the service shows --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ActuatorView:
    config: ActuatorConfig
    on: bool | None
    """As the output last read back (None: not known yet)."""
    wanted: bool
    """What the controller (or an override) wants."""
    reason: str
    by: str
    override: Override | None
    fault: str | None
    ineffective: str | None
    switches: int
    failures: int
    runtime_s: float


@dataclass(frozen=True, slots=True)
class RoomControlView:
    room: str
    tuning: ControlTuning
    actuators: tuple[ActuatorView, ...]


@dataclass(frozen=True, slots=True)
class ControlView:
    t: float
    rooms: tuple[RoomControlView, ...]


# -- the service -------------------------------------------------------------------------------


class ClimateControl:
    """Every room's actuators: decisions taken, outputs switched, switches recorded."""

    def __init__(
        self,
        config: ArchroomConfig,
        climate: ClimateService,
        kit: DeviceKit,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not config.actuators:
            raise ValueError("no actuators configured")
        self.config = config
        self.climate = climate
        self.ledger = kit.ledger
        self.alarms = kit.alarms
        self.metrics = kit.metrics
        self.health = kit.health
        self.clock = clock
        self.outputs = ModbusOutputs()
        self.rooms: dict[str, _Room] = {}
        configured = {r.id: r for r in config.rooms}
        for room_id in dict.fromkeys(a.room for a in config.actuators):
            room_config = configured.get(room_id) or climate.rooms[room_id]
            mine = [a for a in config.actuators if a.room == room_id]
            controller = RoomController(
                room_id,
                climate.limits[room_id],
                [Actuator(a.id, a.kind) for a in mine],
                room_config.control.settings(),
            )
            outputs = {
                a.id: _Output(
                    a,
                    OutputAddress(
                        a.url,
                        a.device_id,
                        a.output,
                        a.address,
                        a.on_value,
                        a.off_value,
                        a.timeout_s,
                    ),
                )
                for a in mine
            }
            self.rooms[room_id] = _Room(
                room_config, room_config.control, controller, outputs, asyncio.Event()
            )
        self._records: asyncio.Queue[tuple[str, Callable[[], Awaitable[object]]]] = asyncio.Queue()

    # -- what the API asks --------------------------------------------------------------------

    def view(self) -> ControlView:
        overrides = {r: room.controller.overrides() for r, room in self.rooms.items()}
        return ControlView(
            t=self.clock(),
            rooms=tuple(
                RoomControlView(
                    room=r,
                    tuning=room.tuning,
                    actuators=tuple(
                        ActuatorView(
                            config=o.config,
                            on=o.confirmed,
                            wanted=o.wanted,
                            reason=o.reason,
                            by=o.by,
                            override=overrides[r].get(a),
                            fault=o.last_error,
                            ineffective=o.ineffective,
                            switches=o.switches,
                            failures=o.failures,
                            runtime_s=o.runtime_s,
                        )
                        for a, o in room.outputs.items()
                    ),
                )
                for r, room in self.rooms.items()
            ),
        )

    async def override(
        self, room: str, actuator: str, mode: Mode, *, duration_s: float, by: str
    ) -> None:
        """Force ``actuator`` on or off for ``duration_s`` (``auto``: back to the controller).

        The request is audited before it takes effect; the room's task carries it out at once
        (the interlock still holds: forcing the humidifier on stops the dehumidifier)."""
        r = self.rooms.get(room)
        if r is None:
            raise NotFound(f"no climate control in room {room!r} (rooms: {', '.join(self.rooms)})")
        if actuator not in r.outputs:
            raise NotFound(
                f"room {room} has no actuator {actuator!r} (actuators: {', '.join(r.outputs)})"
            )
        if mode != "auto" and not 0 < duration_s <= r.tuning.max_override_s:
            raise Invalid(
                f"an override lasts more than 0 s and at most {r.tuning.max_override_s:g} s "
                f"(rooms.control.max_override_s), not {duration_s:g}"
            )
        now = self.clock()
        until = now + duration_s
        async with self.ledger.transaction(by, at_us=seconds_to_us(now)) as tx:
            details: dict[str, object] = {"room": room, "mode": mode}
            if mode != "auto":
                details["until_us"] = seconds_to_us(until)
            tx.audit("climate.actuator.override", actuator, details)
        if mode == "auto":
            r.controller.cancel_override(actuator)
        else:
            r.controller.override(actuator, on=mode == "on", until=until, by=by, now=now)
        log.info("climate control: %s of %s set to %s by %s", actuator, room, mode, by)
        r.wake.set()

    async def drained(self) -> None:
        """Until every switch and alarm decided so far has been recorded."""
        await self._records.join()

    # -- running ------------------------------------------------------------------------------

    async def run(self) -> None:
        await self._end_stale_alarms()
        self._report_health()
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self._record_all(), name="climate-control-records")
                for room in self.rooms.values():
                    group.create_task(self._control(room), name=f"climate-control:{room.config.id}")
        finally:
            # Stopping: nothing keeps running unwatched (best effort, briefly).
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(self._all_off(), 3.0)
            self.outputs.close()

    async def _all_off(self) -> None:
        for room in self.rooms.values():
            for o in room.outputs.values():
                # Wanted on but not confirmed: the stop may have cancelled the switch-on after
                # its write reached the relay and before the answer came back.
                if o.confirmed is not False or o.wanted:
                    with contextlib.suppress(OutputError):
                        await self.outputs.switch(o.address, on=False)
                        o.confirmed = False  # a restart by the supervisor switches it again
                        self._set_gauge(room, o, on=False)
                        log.info("climate control: %s switched off, control stops", o.config.id)

    async def _control(self, room: _Room) -> None:
        while True:
            raise_if_cancelled()
            self._tick(room)
            await self._carry_out(room)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(room.tuning.interval_s):
                    await room.wake.wait()
            room.wake.clear()

    def _tick(self, room: _Room) -> None:
        now = self.clock()
        if room.last_tick is not None:
            elapsed = max(0.0, now - room.last_tick)
            for o in room.outputs.values():
                if o.confirmed:
                    o.runtime_s += elapsed
                    self.metrics.climate_actuator_runtime.labels(
                        room=room.config.id, actuator=o.config.id
                    ).inc(elapsed)
        room.last_tick = now
        room.ticks += 1
        snap = self.climate.monitor.room(room.config.id, now)
        temperature = snap.smoothed_temperature_c
        humidity = snap.smoothed_humidity_pct
        if temperature is None or humidity is None:
            temperature, humidity = snap.temperature_c, snap.humidity_pct
        climate = RoomClimate(
            t=snap.t if snap.up else None,
            temperature_c=temperature,
            humidity_pct=humidity,
            dew_point_c=snap.dew_point_c,
        )
        for decision in room.controller.step(climate, now):
            o = room.outputs[decision.actuator]
            if isinstance(decision, Switch):
                o.wanted, o.reason, o.by = decision.on, decision.reason, decision.by
                o.retry_at = float("-inf")
            elif isinstance(decision, Ineffective):
                self._ineffective(room, o, decision)

    async def _carry_out(self, room: _Room) -> None:
        now = self.clock()
        for o in room.outputs.values():
            if o.confirmed == o.wanted or now < o.retry_at:
                continue
            try:
                await self.outputs.switch(o.address, on=o.wanted)
            except OutputError as e:
                self._write_failed(room, o, str(e), now)
                continue
            raise_if_cancelled()
            self._switched(room, o, now)

    def _switched(self, room: _Room, o: _Output, now: float) -> None:
        first = o.confirmed is None
        o.confirmed = o.wanted
        self._set_gauge(room, o, on=o.wanted)
        if o.last_error is not None:
            o.last_error = None
            log.info("climate control: %s answers again", o.config.id)
            key = alarm_key(FAULT, o.config.id)
            self._enqueue(
                key,
                lambda: self.alarms.clear(
                    key, reason=f"{o.config.id} switched", at_us=seconds_to_us(now)
                ),
            )
            self._report_health()
        if first and not o.wanted:
            return  # the start-up switch-off of an output nobody had switched on
        o.switches += 1
        a = o.config
        event = ClimateActuatorSwitched(
            at_us=seconds_to_us(now),
            room=room.config.id,
            actuator=a.id,
            kind=a.kind,
            on=o.wanted,
            reason=o.reason,
            by=o.by,
        )
        log.info(
            "climate control: %s (%s) in %s switched %s: %s",
            a.id, a.kind, room.config.id, "on" if o.wanted else "off", o.reason,
        )  # fmt: skip

        async def record() -> None:
            async with self.ledger.transaction(event.by, at_us=event.at_us) as tx:
                tx.audit(
                    "climate.actuator.switch",
                    a.id,
                    {"room": event.room, "kind": a.kind, "on": event.on, "reason": event.reason},
                )
                tx.emit(event)

        self._enqueue(f"switch of {a.id}", record)

    def _write_failed(self, room: _Room, o: _Output, error: str, now: float) -> None:
        a = o.config
        o.failures += 1
        o.retry_at = now + a.retry_s
        self.metrics.climate_actuator_write_failures.labels(
            room=room.config.id, actuator=a.id
        ).inc()
        first = o.last_error is None
        o.last_error = error
        (log.warning if first else log.debug)(
            "climate control: %s (%s) not switched %s: %s; trying again in %g s",
            a.id, a.url, "on" if o.wanted else "off", error, a.retry_s,
        )  # fmt: skip
        if not first:
            return
        self._enqueue_alarm(
            FAULT,
            a.id,
            source=f"actuator {a.id}",
            message=f"{a.id} ({a.kind}) in {room.config.id} cannot be switched: {error}",
            at_us=seconds_to_us(now),
        )
        self._report_health()

    def _ineffective(self, room: _Room, o: _Output, d: Ineffective) -> None:
        at_us = seconds_to_us(d.t)
        if d.active:
            o.ineffective = d.message
            log.warning("climate control not effective in %s: %s", room.config.id, d.message)
            self._enqueue_alarm(
                INEFFECTIVE,
                d.actuator,
                source=f"room {room.config.id}",
                message=f"control not effective: {d.message}",
                at_us=at_us,
            )
        else:
            o.ineffective = None
            key = alarm_key(INEFFECTIVE, d.actuator)
            self._enqueue(key, lambda: self.alarms.clear(key, reason=d.message, at_us=at_us))

    def _set_gauge(self, room: _Room, o: _Output, *, on: bool) -> None:
        self.metrics.climate_actuator_on.labels(room=room.config.id, actuator=o.config.id).set(
            1 if on else 0
        )

    # -- records --------------------------------------------------------------------------------

    def _enqueue(self, what: str, record: Callable[[], Awaitable[object]]) -> None:
        self._records.put_nowait((what, record))

    def _enqueue_alarm(
        self, kind: str, actuator: str, *, source: str, message: str, at_us: int
    ) -> None:
        """Queue the raising of the alarm ``kind`` about one actuator."""
        key = alarm_key(kind, actuator)
        self._enqueue(
            key,
            lambda: self.alarms.raise_(
                key, kind=kind, source=source, message=message, subject=actuator, at_us=at_us
            ),
        )

    async def _record_all(self) -> None:
        backoff = Backoff(0.5, 30.0)
        while True:
            raise_if_cancelled()
            what, record = await self._records.get()
            try:
                while True:
                    try:
                        await record()
                    except Exception as e:
                        delay = backoff.next_delay()
                        backoff.failed(
                            log, "climate control: %s not recorded (%s); retrying in %.1f s",
                            what, e, delay,
                        )  # fmt: skip
                        await asyncio.sleep(delay)
                    else:
                        backoff.recovered(log, "climate control records are written again")
                        break
            finally:
                self._records.task_done()

    async def _end_stale_alarms(self) -> None:
        """Actuator alarms of a previous run: every actuator starts off and is tried afresh."""
        try:
            active = await self.alarms.list(active_only=True, limit=100_000)
        except Exception as e:
            log.warning("climate control: could not check alarms of a previous run: %s", e)
            return
        for alarm in active:
            if alarm.kind in ALARM_KINDS:
                await self.alarms.clear(alarm.key, reason="climate control restarted")

    def _report_health(self) -> None:
        failing = [
            f"{o.config.id} ({o.last_error})"
            for room in self.rooms.values()
            for o in room.outputs.values()
            if o.last_error is not None
        ]
        count = sum(len(r.outputs) for r in self.rooms.values())
        if failing:
            self.health.set("climate-control", "degraded", "cannot switch " + "; ".join(failing))
        else:
            self.health.set(
                "climate-control", "ok", f"{count} actuators in {len(self.rooms)} rooms"
            )


def build_control(
    config: ArchroomConfig, climate: ClimateService | None, kit: DeviceKit
) -> ClimateControl | None:
    """The control service when actuators are configured (the climate service measures their
    rooms: the configuration makes sure of that), else None."""
    if not config.actuators or climate is None:
        kit.health.set("climate-control", "disabled", "no [[actuators]] in the configuration")
        return None
    return ClimateControl(config, climate, kit)
