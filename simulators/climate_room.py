"""A room's air as a small physical model, and the relay module that switches its actuators.

The sensor simulator (simulators/climate.py) plays the climate back as a smooth curve, which is
enough to watch a room but not to control one: a dehumidifier must be able to pull humidity
down, and a door left open must let the corridor's air in. ``RoomPhysics`` keeps the room's
state instead and integrates it over time:

- **air mass**: ``volume_m3`` of air (1.2 kg/m³), whose temperature and moisture content
  (grams of water per kilogram of dry air) are the state; relative humidity follows from both
  (Magnus saturation pressure at sea level), so cooling raises RH and heating lowers it, as in
  a real room;
- **outside weather**: the air the room exchanges with through leaks (``air_changes_per_h``)
  and, much faster, through an open door (``open_door``); the building's fabric slows
  temperature changes by ``thermal_mass`` (a factor on the air's own heat capacity);
- **loads**: moisture from people, wet files or a leak (``moisture_load_g_per_h``), heat
  (``heat_load_w``);
- **actuators**: a running dehumidifier removes ``dehumidifier_g_per_h`` of water, a
  humidifier adds ``humidifier_g_per_h``, cooling and heating move ``cooling_w`` /
  ``heating_w`` of heat.

The actuators are switched by ``RelayModule``, a Modbus TCP relay module (coils read with FC01,
written with FC05/FC15) whose channels are wired to rooms' actuators; like a real one it keeps
its outputs until written, and when ``dead`` it does not answer at all.
Model time is the sensor simulator's (``ClimateSimulator.model_time``), so a fast simulator
runs the physics fast too.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from pymodbus.constants import ExcCodes
from pymodbus.exceptions import NoSuchIdException
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData

from simulators.modbus import Request, device, serve

log = logging.getLogger(__name__)

ActuatorKind = Literal["dehumidifier", "humidifier", "cooling", "heating"]
AIR_DENSITY = 1.2  # kg/m³
AIR_CP = 1005.0  # J/(kg·K)
PRESSURE_HPA = 1013.25
_MAX_STEP_S = 1.0


def saturation_hpa(temperature_c: float) -> float:
    """Saturation vapour pressure over water (Magnus, WMO coefficients)."""
    return 6.112 * math.exp(17.62 * temperature_c / (243.12 + temperature_c))


def moisture_g_per_kg(temperature_c: float, humidity_pct: float) -> float:
    vapour = saturation_hpa(temperature_c) * humidity_pct / 100
    return 622.0 * vapour / (PRESSURE_HPA - vapour)


def humidity_pct(temperature_c: float, moisture: float) -> float:
    vapour = moisture * PRESSURE_HPA / (622.0 + moisture)
    return min(100.0, 100 * vapour / saturation_hpa(temperature_c))


@dataclass(frozen=True, slots=True)
class Weather:
    """The air outside the room (a corridor, or outdoors through the building's leaks); the
    default matches ``RoomSpec``'s start, so a room left alone stays where it is."""

    temperature_c: float = 19.0
    humidity_pct: float = 52.0


@dataclass(frozen=True, slots=True)
class RoomSpec:
    volume_m3: float = 200.0
    temperature_c: float = 19.0
    humidity_pct: float = 52.0
    """The state at the start."""
    air_changes_per_h: float = 0.2
    """Leaks: the share of the room's air replaced by outside air per hour, door shut."""
    door_air_changes_per_h: float = 6.0
    """... and with the door open."""
    thermal_mass: float = 20.0
    """Heat capacity of the room (fabric, shelves, files) as a multiple of its air's."""
    dehumidifier_g_per_h: float = 1500.0
    humidifier_g_per_h: float = 1000.0
    cooling_w: float = 3000.0
    heating_w: float = 3000.0


class RoomPhysics:
    """One room's temperature and moisture, integrated in model time."""

    def __init__(self, spec: RoomSpec, weather: Weather, t0: float) -> None:
        self.spec = spec
        self.weather = weather
        self.t = t0
        self.temperature_c = spec.temperature_c
        self.moisture = moisture_g_per_kg(spec.temperature_c, spec.humidity_pct)
        self.moisture_load_g_per_h = 0.0
        self.heat_load_w = 0.0
        self.door_open_until = float("-inf")
        self.broken: set[ActuatorKind] = set()
        """Actuators that run but do nothing (a dehumidifier with a full tank)."""

    @property
    def humidity_pct(self) -> float:
        return humidity_pct(self.temperature_c, self.moisture)

    def open_door(self, seconds: float) -> None:
        """The door stands open for ``seconds`` (model time) from now."""
        self.door_open_until = max(self.door_open_until, self.t) + seconds

    def advance(self, t: float, running: frozenset[ActuatorKind]) -> None:
        """Integrate up to model time ``t`` with ``running`` actuators (never backwards)."""
        while self.t < t:
            dt = min(_MAX_STEP_S, t - self.t)
            self._step(dt, running)
            self.t += dt

    def _step(self, dt: float, running: frozenset[ActuatorKind]) -> None:
        s, w = self.spec, self.weather
        running = running - self.broken
        air_kg = s.volume_m3 * AIR_DENSITY
        ach = s.door_air_changes_per_h if self.t < self.door_open_until else s.air_changes_per_h
        exchange = ach / 3600 * dt  # share of the air replaced in dt
        outside = moisture_g_per_kg(w.temperature_c, w.humidity_pct)
        water_g_per_h = self.moisture_load_g_per_h
        if "dehumidifier" in running:
            water_g_per_h -= s.dehumidifier_g_per_h
        if "humidifier" in running:
            water_g_per_h += s.humidifier_g_per_h
        self.moisture += exchange * (outside - self.moisture) + water_g_per_h * dt / 3600 / air_kg
        self.moisture = max(0.0, self.moisture)
        heat_w = self.heat_load_w
        if "heating" in running:
            heat_w += s.heating_w
        if "cooling" in running:
            heat_w -= s.cooling_w
        capacity = air_kg * AIR_CP * s.thermal_mass
        self.temperature_c += exchange / s.thermal_mass * (w.temperature_c - self.temperature_c)
        self.temperature_c += heat_w * dt / capacity


@dataclass(frozen=True, slots=True)
class Channel:
    """A relay output wired to one actuator of one room."""

    coil: int
    room: str
    kind: ActuatorKind


class RelayModule:
    """A Modbus TCP relay module (coils 0..n-1) switching rooms' actuators."""

    def __init__(
        self, channels: Mapping[int, Channel] | list[Channel], *, device_id: int = 1,
        host: str = "127.0.0.1", port: int = 0, size: int = 8,
    ) -> None:  # fmt: skip
        listed = list(channels.values()) if isinstance(channels, Mapping) else list(channels)
        if any(not 0 <= c.coil < size for c in listed):
            raise ValueError(f"a relay module of {size} channels has coils 0..{size - 1}")
        self.channels = {c.coil: c for c in listed}
        self.device_id = device_id
        self.host = host
        self.port = port
        self.size = size
        self.coils = [False] * size
        self.dead = False
        self.writes = 0
        self._server: ModbusTcpServer | None = None

    def running(self, room: str) -> frozenset[ActuatorKind]:
        """The actuators of ``room`` whose relay is closed."""
        return frozenset(
            c.kind for c in self.channels.values() if c.room == room and self.coils[c.coil]
        )

    def is_on(self, room: str, kind: ActuatorKind) -> bool:
        return kind in self.running(room)

    async def _answer(self, request: Request) -> ExcCodes | None:
        if self.dead:
            raise NoSuchIdException("the relay module does not answer")
        if request.function_code not in (1, 5, 15):
            return ExcCodes.ILLEGAL_FUNCTION
        if request.address + request.count > self.size:
            return ExcCodes.ILLEGAL_ADDRESS
        if request.values is not None:
            for i, v in enumerate(request.values):
                self.coils[request.address + i] = bool(v)
            self.writes += 1
        return None

    async def start(self) -> None:
        coils = [SimData(0, count=self.size, values=False, datatype=DataType.BITS)]
        nothing = [SimData(0, count=1, values=False, datatype=DataType.BITS)]
        regs = [SimData(0, count=1, values=0, datatype=DataType.REGISTERS)]
        relays = device(self.device_id, (coils, nothing, regs, regs), self._answer)
        self._server, self.port = await serve([relays], self.host, self.port)
        log.info("relay module listening on %s:%d", self.host, self.port)

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            await server.shutdown()  # type: ignore[no-untyped-call]

    async def __aenter__(self) -> RelayModule:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()
