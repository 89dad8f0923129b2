"""Simulated temperature/humidity sensors on a Modbus RS485 line and on Modbus TCP.

An archive room's climate is slow and periodic: the building warms during the day and cools at
night, and in a closed room relative humidity moves the other way; seals and calibration drift
over weeks; and the events that matter are steps (a dehumidifier fails and RH climbs towards
the corridor's level over an hour or two). Sensors add their own faults: one freezes on its
last value, one stops answering altogether.

This module serves such sensors with pymodbus servers that speak the real wire protocol: each
"bus" is one TCP listener, carrying RTU frames (as a serial server in front of an RS485 line
would) or Modbus TCP frames. Every device keeps its vendor's register map, written here
independently of ``sensors.profiles`` so that tests check one against the other:

- ``xy-md02``: input registers 1 (temperature, int16 x0.1 °C) and 2 (humidity, x0.1 %),
  read with FC04; holding registers 0x0101-0x0104 (address 1-247, baud code 0 = 9600,
  1 = 14400, 2 = 19200, temperature and humidity corrections int16 x0.1), read with FC03 and
  written with FC06 or FC16.
- ``rs-ws-n01``: holding registers 0 (humidity x0.1 %) and 1 (temperature, int16 x0.1 °C),
  0x07D0 (address 1-254) and 0x07D1 (Renke baud code 0 = 2400, 1 = 4800, 2 = 9600), read
  with FC03 and written with FC06 or FC16.
- ``float32``: holding registers 0-1 (temperature) and 2-3 (humidity) as big-endian IEEE
  floats, FC03 only: what many Modbus TCP transmitters and gateways offer.

A device that is dead (or an address nobody has) does not answer at all, as on a real line.
Each bus has a baud rate (9600 unless given); a sensor's baud register reads the code of the
baud it listens at. A write of the address register is answered at the old address and the
sensor answers at the new one from then on; a write of the baud register is answered at the
old baud and the sensor then listens at the new one, so on a bus running at another baud it
falls silent, as a real one does until the line is re-opened at its new speed. See
docs/device-fidelity.md for the sources and what is not modelled.
Tests drive the model through ``ClimateSimulator``'s methods; ``main`` runs it standalone.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import random
import signal
import struct
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from pymodbus.constants import ExcCodes
from pymodbus.exceptions import NoSuchIdException
from pymodbus.framer import FramerType
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from simulators.climate_room import RelayModule, RoomPhysics, RoomSpec, Weather
from simulators.modbus import Request, device, serve

log = logging.getLogger(__name__)

SimProfile = Literal["xy-md02", "rs-ws-n01", "float32"]
Fault = Literal["dead", "stuck"]
DAY_S = 86400.0


@dataclass(frozen=True, slots=True)
class RoomModel:
    """The true climate of one room, before any sensor's bias and noise."""

    temperature_c: float = 18.0
    humidity_pct: float = 50.0
    diurnal_temperature_c: float = 0.5
    """Amplitude of the daily temperature swing (warmest mid-afternoon)."""
    diurnal_humidity_pct: float = 1.5
    """Amplitude of the daily RH swing (lowest when warmest)."""
    drift_temperature_c_per_day: float = 0.0
    drift_humidity_pct_per_day: float = 0.0
    noise_temperature_c: float = 0.05
    noise_humidity_pct: float = 0.2


@dataclass(frozen=True, slots=True)
class SimSensor:
    name: str
    room: str
    profile: SimProfile
    bus: str
    device_id: int
    bias_temperature_c: float = 0.0
    bias_humidity_pct: float = 0.0


@dataclass(frozen=True, slots=True)
class SimBus:
    name: str
    framer: Literal["rtu", "tcp"]
    port: int = 0
    """TCP port to listen on; 0 picks a free one (read it back from ``ClimateSimulator.port``)."""
    baud: int = 9600
    """The line's speed (RTU): sensors answer only when they listen at this baud."""


@dataclass(slots=True)
class _Step:
    start_s: float
    temperature_c: float
    humidity_pct: float
    tau_s: float


@dataclass(slots=True)
class _SensorState:
    spec: SimSensor
    pinned: tuple[float, float] | None = None
    overrides: dict[int, int] = field(default_factory=dict)
    fault: Fault | None = None
    frozen: dict[int, int] | None = None
    last: dict[int, int] = field(default_factory=dict)
    reads: int = 0
    writes: int = 0
    address: int = 0
    baud: int = 9600
    corrections: tuple[int, int] = (0, 0)
    """XY-MD02 registers 0x0103/0x0104: temperature and humidity corrections, int16 x0.1."""
    on_next_read: Callable[[], None] | None = None
    """Called once, as the next measurement request is answered (before its values are read)."""


_MEASURE: dict[SimProfile, tuple[int, ...]] = {
    "xy-md02": (1, 2),
    "rs-ws-n01": (0, 1),
    "float32": (0, 1, 2, 3),
}
_READ_FC: dict[SimProfile, int] = {"xy-md02": 4, "rs-ws-n01": 3, "float32": 3}


def _int16(value: float) -> int:
    return max(-32768, min(32767, round(value))) & 0xFFFF


def _uint16(value: float) -> int:
    return max(0, min(0xFFFF, round(value)))


def _float32(value: float) -> tuple[int, int]:
    hi, lo = struct.unpack(">HH", struct.pack(">f", value))
    return hi, lo


def encode(profile: SimProfile, temperature_c: float, humidity_pct: float) -> dict[int, int]:
    """The measurement registers a device of ``profile`` holds for these values."""
    if profile == "xy-md02":
        return {1: _int16(temperature_c * 10), 2: _uint16(humidity_pct * 10)}
    if profile == "rs-ws-n01":
        return {0: _uint16(humidity_pct * 10), 1: _int16(temperature_c * 10)}
    t_hi, t_lo = _float32(temperature_c)
    h_hi, h_lo = _float32(humidity_pct)
    return {0: t_hi, 1: t_lo, 2: h_hi, 3: h_lo}


BAUD_CODES: dict[SimProfile, dict[int, int]] = {
    "xy-md02": {0: 9600, 1: 14400, 2: 19200},
    "rs-ws-n01": {0: 2400, 1: 4800, 2: 9600},
}
"""Vendor baud codes: XY-MD02 register 0x0102, Renke RS-WS-N01 register 0x07D1."""
ADDRESS_REGISTER: dict[SimProfile, int] = {"xy-md02": 0x0101, "rs-ws-n01": 0x07D0}
BAUD_REGISTER: dict[SimProfile, int] = {"xy-md02": 0x0102, "rs-ws-n01": 0x07D1}
_MAX_ADDRESS: dict[SimProfile, int] = {"xy-md02": 247, "rs-ws-n01": 254}
_MAX_CORRECTION = 100
"""XY-MD02 corrections are accepted within ±10.0 (°C or % RH)."""


def baud_code(profile: SimProfile, baud: int) -> int:
    for code, rate in BAUD_CODES[profile].items():
        if rate == baud:
            return code
    raise ValueError(
        f"a {profile} cannot run at {baud} baud ({sorted(BAUD_CODES[profile].values())})"
    )


def _config_registers(st: _SensorState) -> dict[int, int]:
    profile = st.spec.profile
    if profile == "xy-md02":
        return {
            0x0101: st.address,
            0x0102: baud_code(profile, st.baud),
            0x0103: st.corrections[0] & 0xFFFF,
            0x0104: st.corrections[1] & 0xFFFF,
        }
    if profile == "rs-ws-n01":
        return {0x07D0: st.address, 0x07D1: baud_code(profile, st.baud)}
    return {}


def _signed(word: int) -> int:
    return word - 0x10000 if word & 0x8000 else word


def _check_config_write(st: _SensorState, new: Mapping[int, int]) -> ExcCodes | None:
    """Exception 03 (illegal data value) for a value the vendor's range does not allow."""
    profile = st.spec.profile
    if profile not in ADDRESS_REGISTER:
        return ExcCodes.ILLEGAL_ADDRESS
    if not 1 <= new[ADDRESS_REGISTER[profile]] <= _MAX_ADDRESS[profile]:
        return ExcCodes.ILLEGAL_VALUE
    if new[BAUD_REGISTER[profile]] not in BAUD_CODES[profile]:
        return ExcCodes.ILLEGAL_VALUE
    if profile == "xy-md02" and any(
        abs(_signed(new[a])) > _MAX_CORRECTION for a in (0x0103, 0x0104)
    ):
        return ExcCodes.ILLEGAL_VALUE
    return None


class ClimateSimulator:
    """Rooms, sensors and the Modbus servers that expose them."""

    def __init__(
        self,
        sensors: Sequence[SimSensor],
        buses: Sequence[SimBus],
        rooms: Mapping[str, RoomModel],
        *,
        host: str = "127.0.0.1",
        seed: int = 0,
        speed: float = 1.0,
        clock: Callable[[], float] = time.time,
        physics: Mapping[str, RoomSpec] | None = None,
        weather: Weather | None = None,
        relays: RelayModule | None = None,
    ) -> None:
        """``physics`` gives rooms a physical model (simulators/climate_room.py) in place of
        the played-back curve; ``relays`` is the relay module switching their actuators."""
        self._host = host
        self._buses = {b.name: b for b in buses}
        self._rooms = dict(rooms)
        self._steps: dict[str, list[_Step]] = {r: [] for r in rooms}
        self._sensors: dict[str, _SensorState] = {}
        seen: set[tuple[str, int]] = set()
        for s in sensors:
            if s.bus not in self._buses:
                raise ValueError(f"sensor {s.name}: unknown bus {s.bus!r}")
            if s.room not in self._rooms:
                raise ValueError(f"sensor {s.name}: unknown room {s.room!r}")
            if (s.bus, s.device_id) in seen:
                raise ValueError(f"sensor {s.name}: device id {s.device_id} taken on {s.bus}")
            if not 1 <= s.device_id <= 247:
                raise ValueError(f"sensor {s.name}: device id must be 1..247")
            seen.add((s.bus, s.device_id))
            baud = self._buses[s.bus].baud
            if s.profile in BAUD_CODES:
                baud_code(s.profile, baud)  # a sensor that cannot run at the line's speed
            self._sensors[s.name] = _SensorState(s, address=s.device_id, baud=baud)
        self._rng = random.Random(seed)
        self._speed = speed
        self._clock = clock
        self._t0 = clock()
        self._physics = {
            room: RoomPhysics(spec, weather or Weather(), self._t0)
            for room, spec in (physics or {}).items()
        }
        unknown = set(self._physics) - set(self._rooms)
        if unknown:
            raise ValueError(f"physics for unknown rooms: {', '.join(sorted(unknown))}")
        self.relays = relays
        self._servers: dict[str, ModbusTcpServer] = {}
        self._ports: dict[str, int] = {b.name: b.port for b in buses}

    # -- the model ---------------------------------------------------------------------------

    def model_time(self) -> float:
        """Simulated epoch seconds: wall time at start, then running ``speed`` times faster."""
        return self._t0 + (self._clock() - self._t0) * self._speed

    def true_climate(self, room: str, at: float | None = None) -> tuple[float, float]:
        """The room's (temperature °C, RH %) without noise or sensor bias."""
        t = self.model_time() if at is None else at
        physics = self._physics.get(room)
        if physics is not None:
            running = self.relays.running(room) if self.relays is not None else frozenset()
            physics.advance(t, running)
            temperature, humidity = physics.temperature_c, physics.humidity_pct
            return self._stepped(room, t, temperature, humidity)
        m = self._rooms[room]
        day = (t % DAY_S) / DAY_S
        wave = math.sin(2 * math.pi * (day - 9 / 24))  # warmest at 15:00, coolest at 03:00
        days = (t - self._t0) / DAY_S
        temperature = m.temperature_c + m.diurnal_temperature_c * wave
        temperature += m.drift_temperature_c_per_day * days
        humidity = m.humidity_pct - m.diurnal_humidity_pct * wave
        humidity += m.drift_humidity_pct_per_day * days
        return self._stepped(room, t, temperature, humidity)

    def _stepped(
        self, room: str, t: float, temperature: float, humidity: float
    ) -> tuple[float, float]:
        """(temperature, humidity) with the room's steps added, each as far as it has settled."""
        for step in self._steps[room]:
            if t >= step.start_s:
                k = 1.0 - math.exp(-(t - step.start_s) / step.tau_s)
                temperature += step.temperature_c * k
                humidity += step.humidity_pct * k
        return temperature, humidity

    def physics(self, room: str) -> RoomPhysics:
        """The physical model of ``room`` (to open its door, change its loads or weather)."""
        return self._physics[room]

    def sensor_values(self, sensor: str) -> tuple[float, float]:
        """What ``sensor`` measures now: pinned values, or the room's climate + bias + noise."""
        st = self._sensors[sensor]
        if st.pinned is not None:
            return st.pinned
        temperature, humidity = self.true_climate(st.spec.room)
        m = self._rooms[st.spec.room]
        temperature += st.spec.bias_temperature_c + self._rng.gauss(0, m.noise_temperature_c)
        humidity += st.spec.bias_humidity_pct + self._rng.gauss(0, m.noise_humidity_pct)
        return temperature, min(100.0, max(0.0, humidity))

    # -- what tests (and the demo) change ------------------------------------------------------

    def set_values(self, sensor: str, temperature_c: float, humidity_pct: float) -> None:
        """Pin what ``sensor`` reads, exactly, until ``release`` (values may be out of range)."""
        self._sensors[sensor].pinned = (temperature_c, humidity_pct)

    def on_next_read(self, sensor: str, change: Callable[[], None]) -> None:
        """Call ``change`` once, while answering ``sensor``'s next measurement request and
        before its values are read: a test that changes the values and its clock there knows no
        answer of the old values is still on its way to the host."""
        self._sensors[sensor].on_next_read = change

    def release(self, sensor: str) -> None:
        """Back to the room model; also drops register overrides."""
        st = self._sensors[sensor]
        st.pinned = None
        st.overrides.clear()

    def set_registers(self, sensor: str, registers: Mapping[int, int]) -> None:
        """Force raw register words (e.g. an error code 0x7FFF) until ``release``."""
        for address, value in registers.items():
            if not 0 <= value <= 0xFFFF:
                raise ValueError(f"register value {value} is not a 16-bit word")
            self._sensors[sensor].overrides[address] = value

    def set_fault(self, sensor: str, fault: Fault | None) -> None:
        """``dead``: never answers; ``stuck``: answers its last values forever; None: healthy."""
        st = self._sensors[sensor]
        st.fault = fault
        st.frozen = dict(st.last) if fault == "stuck" and st.last else None

    def dehumidifier_failure(
        self, room: str, *, rise_pct: float = 20.0, tau_s: float = 3600.0, at: float | None = None
    ) -> None:
        """From now (or model time ``at``) RH climbs by ``rise_pct``, time constant ``tau_s``."""
        self.step(room, humidity_pct=rise_pct, tau_s=tau_s, at=at)

    def step(
        self,
        room: str,
        *,
        temperature_c: float = 0.0,
        humidity_pct: float = 0.0,
        tau_s: float = 600.0,
        at: float | None = None,
    ) -> None:
        start = self.model_time() if at is None else at
        self._steps[room].append(_Step(start, temperature_c, humidity_pct, tau_s))

    def clear_steps(self, room: str) -> None:
        self._steps[room].clear()

    def reads(self, sensor: str) -> int:
        """How many read requests ``sensor`` has answered."""
        return self._sensors[sensor].reads

    def writes(self, sensor: str) -> int:
        """How many write requests ``sensor`` has accepted."""
        return self._sensors[sensor].writes

    def address_of(self, sensor: str) -> int:
        """The Modbus address ``sensor`` answers at now (it changes when written)."""
        return self._sensors[sensor].address

    def baud_of(self, sensor: str) -> int:
        """The baud ``sensor`` listens at now (it changes when written)."""
        return self._sensors[sensor].baud

    def port(self, bus: str) -> int:
        return self._ports[bus]

    @property
    def sensors(self) -> tuple[SimSensor, ...]:
        return tuple(st.spec for st in self._sensors.values())

    @property
    def buses(self) -> tuple[SimBus, ...]:
        return tuple(self._buses.values())

    @property
    def host(self) -> str:
        return self._host

    # -- the Modbus side -----------------------------------------------------------------------

    def _measurement_registers(self, st: _SensorState) -> dict[int, int]:
        if st.on_next_read is not None:
            change, st.on_next_read = st.on_next_read, None
            change()
        if st.fault == "stuck" and st.frozen is not None:
            return st.frozen
        regs = encode(st.spec.profile, *self.sensor_values(st.spec.name))
        regs.update((a, v) for a, v in st.overrides.items() if a in regs)
        st.last = regs
        if st.fault == "stuck":
            st.frozen = dict(regs)
        return regs

    def _device(self, st: _SensorState) -> SimDevice:
        profile = st.spec.profile
        config_addresses = set(_config_registers(st))
        size = max([*_MEASURE[profile], *config_addresses]) + 1
        measure = set(_MEASURE[profile])
        bus = self._buses[st.spec.bus]

        async def answer(request: Request) -> ExcCodes | None:
            function_code, wanted = request.function_code, request.wanted
            if request.values is None and function_code in (6, 16):
                # pymodbus reads the registers back to build the answer to a write it has
                # just applied: that answer goes out at the old address and baud.
                regs = _config_registers(st)
                for a in wanted:
                    request.registers[a - request.start_address] = regs[a]
                return None
            if st.fault == "dead" or st.baud != bus.baud:
                raise NoSuchIdException(f"{st.spec.name} does not answer")
            if request.values is not None:
                if function_code not in (6, 16) or not all(a in config_addresses for a in wanted):
                    return (
                        ExcCodes.ILLEGAL_ADDRESS
                        if function_code in (6, 16)
                        else (ExcCodes.ILLEGAL_FUNCTION)
                    )
                return self._write_config(
                    st, dict(zip(wanted, (int(v) for v in request.values), strict=True))
                )
            if function_code == _READ_FC[profile] and all(a in measure for a in wanted):
                regs = self._measurement_registers(st)
            elif function_code == 3 and all(a in config_addresses for a in wanted):
                regs = _config_registers(st)
            elif function_code in (3, 4):
                return ExcCodes.ILLEGAL_ADDRESS
            else:
                return ExcCodes.ILLEGAL_FUNCTION
            for a in wanted:
                request.registers[a - request.start_address] = regs[a]
            st.reads += 1
            return None

        block = SimData(0, count=size, values=0, datatype=DataType.REGISTERS)
        return device(st.address, [block], answer)

    def _write_config(self, st: _SensorState, written: dict[int, int]) -> ExcCodes | None:
        """Apply an FC06/FC16 write of the address, baud (and XY-MD02 correction) registers.
        The answer goes out at the old address and baud; the new ones apply after it."""
        profile = st.spec.profile
        new = {**_config_registers(st), **written}
        refused = _check_config_write(st, new)
        if refused is not None:
            return refused
        address = new[ADDRESS_REGISTER[profile]]
        if address != st.address and not self._readdress(st, address):
            return ExcCodes.ILLEGAL_VALUE
        st.baud = BAUD_CODES[profile][new[BAUD_REGISTER[profile]]]
        if profile == "xy-md02":
            st.corrections = (_signed(new[0x0103]), _signed(new[0x0104]))
        st.writes += 1
        return None

    def _readdress(self, st: _SensorState, address: int) -> bool:
        """Move ``st`` to ``address`` on its bus's running server. Two devices on one address
        would be a collision on a real line; the simulator refuses the write instead."""
        if any(
            other is not st and other.spec.bus == st.spec.bus and other.address == address
            for other in self._sensors.values()
        ):
            return False
        server = self._servers.get(st.spec.bus)
        core = getattr(server, "context", None) if server is not None else None
        devices = getattr(core, "devices", None)
        old = st.address
        if isinstance(devices, dict) and old in devices:
            # The answer still goes out from the old address (pymodbus looks the device up
            # again to build it): drop that key once the answer has been sent.
            devices[address] = devices[old]
            asyncio.get_running_loop().call_soon(devices.pop, old, None)
        st.address = address
        return True

    async def start(self) -> None:
        for bus in self._buses.values():
            await self.start_bus(bus.name)
        if self.relays is not None:
            await self.relays.start()

    async def start_bus(self, name: str) -> None:
        """Start listening for ``name`` (again, on the same port once it has one)."""
        bus = self._buses[name]
        devices = [self._device(st) for st in self._sensors.values() if st.spec.bus == name]

        async def nobody(_: Request) -> ExcCodes | None:
            raise NoSuchIdException("no device at this address")

        # Device id 0 stands for every address no sensor has: silence, as on a real line.
        filler = SimData(0, count=0xFFFF, values=0, datatype=DataType.REGISTERS)
        devices.append(device(0, [filler], nobody))
        server, self._ports[name] = await serve(
            devices,
            self._host,
            self._ports[name],
            framer=FramerType.RTU if bus.framer == "rtu" else FramerType.SOCKET,
            ignore_missing_devices=True,
        )
        self._servers[name] = server
        log.info(
            "climate bus %s (%s) listening on %s:%d",
            name,
            bus.framer,
            self._host,
            self._ports[name],
        )

    async def stop_bus(self, name: str) -> None:
        """Stop ``name``'s listener and drop its connections (a serial server going away)."""
        server = self._servers.pop(name, None)
        if server is not None:
            await server.shutdown()  # type: ignore[no-untyped-call]

    async def stop(self) -> None:
        for name in list(self._servers):
            await self.stop_bus(name)
        if self.relays is not None:
            await self.relays.stop()

    async def __aenter__(self) -> ClimateSimulator:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()


def default_layout() -> tuple[list[SimSensor], list[SimBus], dict[str, RoomModel]]:
    """Four sensors in two rooms: three on an RS485 line, one on Modbus TCP.

    ``stack-1`` is a paper stack (JGJ 25 paper class: 14-24 °C, 45-60 % RH); ``film-vault`` keeps
    film masters (13-15 °C, 35-45 %).
    """
    rooms = {
        "stack-1": RoomModel(temperature_c=19.0, humidity_pct=52.0),
        "film-vault": RoomModel(
            temperature_c=14.0,
            humidity_pct=40.0,
            diurnal_temperature_c=0.2,
            diurnal_humidity_pct=0.8,
        ),
    }
    buses = [SimBus("rs485", "rtu"), SimBus("tcp", "tcp")]
    sensors = [
        SimSensor("stack-1-a", "stack-1", "xy-md02", "rs485", 1),
        SimSensor("stack-1-b", "stack-1", "rs-ws-n01", "rs485", 2, bias_humidity_pct=0.8),
        SimSensor("vault-a", "film-vault", "xy-md02", "rs485", 3, bias_temperature_c=0.1),
        SimSensor("vault-b", "film-vault", "float32", "tcp", 1),
    ]
    return sensors, buses, rooms


def bench_layout(
    count: int, per_line: int = 100
) -> tuple[list[SimSensor], list[SimBus], dict[str, RoomModel]]:
    """``count`` sensors of the three profiles, ``per_line`` to an RTU line (at most 247)."""
    if not 1 <= per_line <= 247:
        raise ValueError("an RTU line has addresses 1..247")
    rooms = {f"room-{i}": RoomModel() for i in range(max(1, count // 50))}
    room_names = list(rooms)
    profiles: tuple[SimProfile, ...] = ("xy-md02", "rs-ws-n01", "float32")
    buses = [SimBus(f"line-{i}", "rtu") for i in range((count + per_line - 1) // per_line)]
    sensors = [
        SimSensor(
            f"s{i:04d}",
            room_names[i % len(room_names)],
            profiles[i % 3],
            f"line-{i // per_line}",
            i % per_line + 1,
        )
        for i in range(count)
    ]
    return sensors, buses, rooms


def main(argv: list[str]) -> int:
    """``archroom simulate climate --port N [--tcp-port M]``: serve the default layout."""
    parser = argparse.ArgumentParser(
        prog="archroom simulate climate", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5020, help="RS485 line (RTU over TCP)")
    parser.add_argument("--tcp-port", type=int, default=5021, help="Modbus TCP sensor")
    parser.add_argument("--speed", type=float, default=1.0, help="simulated seconds per second")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dead", action="append", default=[], metavar="SENSOR")
    parser.add_argument("--stuck", action="append", default=[], metavar="SENSOR")
    parser.add_argument(
        "--dehumidifier-failure",
        metavar="ROOM",
        help="start with a failed dehumidifier in ROOM (RH climbs 20 %% over ~1 h)",
    )
    parser.add_argument(
        "--sensors", type=int, default=0, help="serve N sensors, 100 per RTU line (benchmarks)"
    )
    args = parser.parse_args(argv)
    if args.sensors:
        sensors, buses, rooms = bench_layout(args.sensors)
        buses = [
            SimBus(b.name, b.framer, args.port + i if args.port else 0) for i, b in enumerate(buses)
        ]
    else:
        sensors, buses, rooms = default_layout()
        buses = [SimBus("rs485", "rtu", args.port), SimBus("tcp", "tcp", args.tcp_port)]
    sim = ClimateSimulator(sensors, buses, rooms, host=args.host, seed=args.seed, speed=args.speed)
    names = {s.name for s in sensors}
    for name in [*args.dead, *args.stuck]:
        if name not in names:
            parser.error(f"unknown sensor {name!r} (one of: {', '.join(sorted(names))})")
    if args.dehumidifier_failure and args.dehumidifier_failure not in rooms:
        parser.error(f"unknown room {args.dehumidifier_failure!r} (one of: {', '.join(rooms)})")
    for name in args.dead:
        sim.set_fault(name, "dead")
    for name in args.stuck:
        sim.set_fault(name, "stuck")
    if args.dehumidifier_failure:
        sim.dehumidifier_failure(args.dehumidifier_failure)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(sim))
    return 0


async def _serve(sim: ClimateSimulator) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    async with sim:
        for bus in sim.buses:
            print(f"bus {bus.name} {bus.framer} {sim.host}:{sim.port(bus.name)}", flush=True)
        if len(sim.sensors) <= 20:
            for s in sim.sensors:
                print(
                    f"sensor {s.name} room={s.room} profile={s.profile} bus={s.bus} "
                    f"device_id={s.device_id}",
                    flush=True,
                )
        print("ready", flush=True)
        await stop.wait()
