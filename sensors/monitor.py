"""The climate of each room and sensor, and the alarm decisions it leads to.

A room is judged on the mean of its sensors' latest readings: one sensor by a door or a
radiator should not set off the whole room, and a room with a dead sensor keeps being judged
on the others. Only sensors that are up and have reported recently count. Each sensor also
keeps its own dew point, Preservation Index and mould-risk hours, and, when asked for, its
own limit alarms.

Pure: fed the poller's readings and up/down changes (whose timestamps are the clock), it
returns ``AlarmChange`` decisions and answers snapshot queries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sensors.alarms import AlarmChange, AlarmKind, ClimateAlarms, sensor_fault
from sensors.derived import Preservation, PreservationTracker, dew_point_c
from sensors.limits import ClimateLimits
from sensors.readings import Reading, SensorStateChange


@dataclass(frozen=True, slots=True)
class ClimateSnapshot:
    """What is known of one sensor or room at one moment."""

    source: str
    room: str
    t: float | None
    """Time of the latest reading that went into the values (None: nothing yet)."""
    temperature_c: float | None
    humidity_pct: float | None
    smoothed_temperature_c: float | None
    smoothed_humidity_pct: float | None
    """The values the alarms judge (means over the smoothing window); None without alarms."""
    dew_point_c: float | None
    preservation: Preservation
    temperature_spread_24h_c: float | None
    humidity_spread_24h_pct: float | None
    up: bool
    """Sensor: answering with usable values. Room: at least one such sensor reporting."""
    sensors_up: int
    alarms: tuple[AlarmKind, ...]


@dataclass(slots=True)
class _SensorState:
    room: str
    up: bool = False
    fault: bool = False
    last: Reading | None = None
    tracker: PreservationTracker | None = None
    alarms: ClimateAlarms | None = None


@dataclass(slots=True)
class _RoomState:
    alarms: ClimateAlarms
    tracker: PreservationTracker
    t: float | None = None
    temperature_c: float | None = None
    humidity_pct: float | None = None
    sensors_up: int = 0


class ClimateMonitor:
    def __init__(
        self,
        rooms: Mapping[str, ClimateLimits],
        sensors: Mapping[str, str],
        *,
        stale_after_s: float = 120.0,
        smoothing_s: float = 300.0,
        per_sensor_alarms: bool = False,
    ) -> None:
        """``rooms``: room id -> limits; ``sensors``: sensor id -> room id.

        ``stale_after_s``: a sensor's latest reading stops counting for its room after this
        long (set it to a few polling intervals).
        """
        unknown = sorted({r for r in sensors.values() if r not in rooms})
        if unknown:
            raise ValueError(f"sensors in rooms without limits: {', '.join(unknown)}")
        self._stale_after_s = stale_after_s
        self._rooms = {
            room: _RoomState(ClimateAlarms(room, room, lim, smoothing_s=smoothing_s),
                             PreservationTracker())
            for room, lim in rooms.items()
        }  # fmt: skip
        self._sensors = {
            sensor: _SensorState(
                room,
                tracker=PreservationTracker(),
                alarms=ClimateAlarms(sensor, room, rooms[room], smoothing_s=smoothing_s)
                if per_sensor_alarms
                else None,
            )
            for sensor, room in sensors.items()
        }
        self._members: dict[str, list[_SensorState]] = {room: [] for room in rooms}
        for state in self._sensors.values():
            self._members[state.room].append(state)

    def reading(self, reading: Reading) -> list[AlarmChange]:
        """Take one accepted reading; returns the alarm decisions it causes."""
        state = self._sensors.get(reading.sensor)
        if state is None:
            raise KeyError(f"unknown sensor {reading.sensor!r}")
        changes: list[AlarmChange] = []
        state.up = True  # a reading proves the sensor answers
        state.last = reading
        assert state.tracker is not None
        state.tracker.add(reading.t, reading.temperature_c, reading.humidity_pct)
        if state.alarms is not None:
            changes += state.alarms.observe(reading.t, reading.temperature_c, reading.humidity_pct)
        room = self._rooms[state.room]
        mean = self._room_mean(state.room, reading.t)
        if mean is not None:
            temperature, humidity, count = mean
            room.t, room.temperature_c, room.humidity_pct = reading.t, temperature, humidity
            room.sensors_up = count
            room.tracker.add(reading.t, temperature, humidity)
            changes += room.alarms.observe(reading.t, temperature, humidity)
        return changes

    def sensor_state(self, change: SensorStateChange) -> list[AlarmChange]:
        """Take an up/down edge from a poller; returns the sensor-fault decision."""
        state = self._sensors.get(change.sensor)
        if state is None:
            raise KeyError(f"unknown sensor {change.sensor!r}")
        state.up = change.up
        if change.up == state.fault:  # down while no fault raised, or up while one is
            state.fault = not change.up
            return [sensor_fault(change.sensor, state.room, change.up, change.reason, change.t)]
        return []

    def _room_mean(self, room: str, now: float) -> tuple[float, float, int] | None:
        temperature = humidity = 0.0
        count = 0
        for state in self._members[room]:
            last = state.last
            if not state.up or last is None:
                continue
            if now - last.t > self._stale_after_s:
                continue
            temperature += last.temperature_c
            humidity += last.humidity_pct
            count += 1
        if not count:
            return None
        return temperature / count, humidity / count, count

    def sensor(self, sensor: str, now: float) -> ClimateSnapshot:
        state = self._sensors[sensor]
        last = state.last
        assert state.tracker is not None
        spreads = state.alarms.spreads(now) if state.alarms is not None else (None, None)
        smoothed = state.alarms.smoothed() if state.alarms is not None else None
        return ClimateSnapshot(
            source=sensor,
            room=state.room,
            t=None if last is None else last.t,
            temperature_c=None if last is None else last.temperature_c,
            humidity_pct=None if last is None else last.humidity_pct,
            smoothed_temperature_c=None if smoothed is None else smoothed[0],
            smoothed_humidity_pct=None if smoothed is None else smoothed[1],
            dew_point_c=None
            if last is None
            else dew_point_c(last.temperature_c, last.humidity_pct),
            preservation=state.tracker.snapshot(now),
            temperature_spread_24h_c=spreads[0],
            humidity_spread_24h_pct=spreads[1],
            up=state.up,
            sensors_up=int(state.up),
            alarms=state.alarms.active() if state.alarms is not None else (),
        )

    def room(self, room: str, now: float) -> ClimateSnapshot:
        state = self._rooms[room]
        t_spread, h_spread = state.alarms.spreads(now)
        smoothed = state.alarms.smoothed()
        fresh = self._room_mean(room, now)
        temperature, humidity = state.temperature_c, state.humidity_pct
        dew = None
        if temperature is not None and humidity is not None:
            dew = dew_point_c(temperature, humidity)
        return ClimateSnapshot(
            source=room,
            room=room,
            t=state.t,
            temperature_c=temperature,
            humidity_pct=humidity,
            smoothed_temperature_c=None if smoothed is None else smoothed[0],
            smoothed_humidity_pct=None if smoothed is None else smoothed[1],
            dew_point_c=dew,
            preservation=state.tracker.snapshot(now),
            temperature_spread_24h_c=t_spread,
            humidity_spread_24h_pct=h_spread,
            up=fresh is not None,
            sensors_up=0 if fresh is None else fresh[2],
            alarms=state.alarms.active(),
        )

    @property
    def rooms(self) -> tuple[str, ...]:
        return tuple(self._rooms)

    @property
    def sensors(self) -> tuple[str, ...]:
        return tuple(self._sensors)
