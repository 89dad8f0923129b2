"""A room's climate on one machine: the daemon, the sensor simulator on RTU-over-TCP and Modbus
TCP, a real broker, real HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from daemon.config import ArchroomConfig
from daemon.runtime import Daemon
from daemon.services import Services
from daemon.tokens import Role
from sensors.service.climate import ClimateService
from simulators.climate import ClimateSimulator, default_layout
from simulators.climate_room import Channel, RelayModule, RoomPhysics, RoomSpec, Weather
from tests.harness import make_config
from tests.services import Mosquitto
from tests.support.clock import ManualClock
from tests.support.poll import eventually
from tests.support.room import Room, RoomBuilder
from tests.support.tasks import running_task

ROOM = "stack-1"
PREFIX = f"archroom/t/{ROOM}"


def sensors_toml(rtu_port: int, tcp_port: int, *, interval_s: float = 0.1) -> str:
    """The simulator's default layout as the daemon configures it: three sensors on an RS485
    line behind a serial server (RTU frames over TCP) and one on Modbus TCP."""
    common = f"interval_s = {interval_s}\nlazy_error_count = 2\n"
    return f"""
[[buses]]
id = "rs485"
url = "socket://127.0.0.1:{rtu_port}"
baudrate = 9600
timeout_s = 0.2
down_retry_s = 0.5

[[buses]]
id = "tcp"
url = "tcp://127.0.0.1:{tcp_port}"
timeout_s = 0.2
down_retry_s = 0.5

[[sensors]]
type = "xy-md02"
id = "stack-1-a"
bus = "rs485"
room = "stack-1"
device_id = 1
{common}
[[sensors]]
type = "rs-ws-n01"
id = "stack-1-b"
bus = "rs485"
room = "stack-1"
device_id = 2
{common}
[[sensors]]
type = "xy-md02"
id = "vault-a"
bus = "rs485"
room = "film-vault"
device_id = 3
{common}
[[sensors]]
type = "generic"
id = "vault-b"
bus = "tcp"
room = "film-vault"
device_id = 1
{common}
[sensors.temperature]
address = 0
data_type = "float32"

[sensors.humidity]
address = 2
data_type = "float32"
"""


QUICK_LIMITS = "[rooms.limits]\nmin_duration_s = 1.0\n"
"""Limits judged within a second."""


def vault_and_sensors_toml(sim: ClimateSimulator, *, vault_limits: bool = True) -> str:
    """The film vault beside the paper stack (judging within a second with ``vault_limits``)
    and the sensors of ``sim``'s default layout."""
    return (
        '[[rooms]]\nid = "film-vault"\nclass = "film-master"\n'
        + (QUICK_LIMITS if vault_limits else "")
        + "[climate]\nsmoothing_s = 0.5\n"
        + sensors_toml(sim.port("rs485"), sim.port("tcp"))
    )


def climate_room(
    state_dir: Path, db_url: str, mosquitto: Mosquitto, sim: ClimateSimulator, token_suffix: str
) -> RoomBuilder:
    """The paper stack ``stack-1`` (limits judged within a second) and the film vault, the
    sensors of ``sim``'s default layout, a broker; no racks."""
    return (
        RoomBuilder(state_dir, db_url, room=ROOM, racks="", token_suffix=token_suffix)
        .room_table(QUICK_LIMITS)
        .broker(mosquitto)
        .patient_stop()
    )


@dataclass
class ClimateRig(Room):
    """A room of ``climate_room`` and what the climate tests ask of it."""

    @property
    def sim(self) -> ClimateSimulator:
        return self.climate_sim

    def client(self, role: Role | None = Role.facilities) -> httpx.AsyncClient:
        return super().client(role)

    async def sensor(self, sensor: str) -> dict[str, Any]:
        async with self.client() as client:
            body = (await client.get("/api/v1/climate")).json()
        found: dict[str, Any] = next(s for s in body["sensors"] if s["id"] == sensor)
        return found

    async def room(self, room: str) -> dict[str, Any]:
        async with self.client() as client:
            body = (await client.get("/api/v1/climate")).json()
        found: dict[str, Any] = next(r for r in body["rooms"] if r["id"] == room)
        return found


@pytest.fixture
async def climate_sim() -> AsyncIterator[ClimateSimulator]:
    sensors, buses, rooms = default_layout()
    async with ClimateSimulator(sensors, buses, rooms, seed=11) as sim:
        yield sim


@pytest.fixture
async def rig(
    tmp_path: Path, mosquitto: Mosquitto, db_url: str, climate_sim: ClimateSimulator
) -> AsyncIterator[ClimateRig]:
    builder = climate_room(tmp_path / "room", db_url, mosquitto, climate_sim, "climate")
    async with builder.climate(climate_sim, vault_and_sensors_toml).running(ClimateRig) as rig:
        yield rig


# -- the service alone, on an injected clock ---------------------------------------------------

T0 = 1_767_225_600.0
"""2026-01-01T00:00:00Z, on a minute boundary."""


def probe_toml(port: int, *, room: str = "stack-9", limits: str = "", climate: str = "") -> str:
    """One float32 sensor ``probe`` (the simulator's ``vault-b``) on Modbus TCP, in ``room``."""
    return (
        f"[rooms.limits]\n{limits}\n[climate]\n{climate}\n"
        f'[[buses]]\nid = "tcp"\nurl = "tcp://127.0.0.1:{port}"\ntimeout_s = 0.2\n'
        f'[[sensors]]\ntype = "generic"\nid = "probe"\nbus = "tcp"\nroom = "{room}"\n'
        "device_id = 1\ninterval_s = 0.01\nlazy_error_count = 3\n"
        '[sensors.temperature]\naddress = 0\ndata_type = "float32"\n'
        '[sensors.humidity]\naddress = 2\ndata_type = "float32"\n'
    )


@dataclass
class ClockedRoom:
    """A daemon without sensors of its own, and climate services run by the test on its
    ledger, alarms and metrics with a ``ManualClock`` (several in turn: restarts)."""

    daemon: Daemon
    sim: ClimateSimulator
    clock: ManualClock
    state_dir: Path
    db_url: str

    @property
    def services(self) -> Services:
        assert self.daemon.services is not None
        return self.daemon.services

    def config(self, *, limits: str = "", climate: str = "") -> ArchroomConfig:
        text = probe_toml(self.sim.port("tcp"), limits=limits, climate=climate)
        return make_config(self.state_dir, db_url=self.db_url, room="stack-9", extra=text)

    @asynccontextmanager
    async def service(self, config: ArchroomConfig) -> AsyncIterator[ClimateService]:
        s = self.services
        service = ClimateService(
            config,
            ledger=s.ledger,
            alarms=s.alarms,
            metrics=s.metrics,
            retained=s.retained,
            health=s.health,
            clock=self.clock,
        )
        async with running_task(service.run(), "climate under test"):
            yield service

    async def step(
        self, service: ClimateService, t: float, temperature: float, humidity: float
    ) -> None:
        """From time ``t`` the probe reads these values: wait for a few readings stamped ``t``
        and for every alarm decision they caused to be recorded.

        The values and the clock change together while the simulator answers the probe's next
        request: the answer before it was received (and stamped) before that request was sent,
        so no reading carries the old values with the new time, nor the new with the old."""
        changed = asyncio.Event()

        def change() -> None:
            self.sim.set_values("vault-b", temperature, humidity)
            self.clock.now = t
            changed.set()

        self.sim.on_next_read("vault-b", change)
        await eventually(changed.is_set, what="the probe's next request")
        before = _readings(service)

        async def enough() -> bool:
            return _readings(service) >= before + 6

        await eventually(enough, what="six readings at the new time")
        await service.drained()


def _readings(service: ClimateService) -> int:
    (probe,) = (s for s in service.view().sensors if s.config.id == "probe")
    return probe.counters.readings


@pytest.fixture
async def clocked(
    tmp_path: Path, sqlite_url: str, climate_sim: ClimateSimulator
) -> AsyncIterator[ClockedRoom]:
    builder = RoomBuilder(tmp_path / "daemon", sqlite_url, racks="").patient_stop()
    async with builder.running() as room:
        clock = ManualClock(T0)
        yield ClockedRoom(room.daemon, climate_sim, clock, tmp_path / "service", sqlite_url)


# -- climate control: the room as a physical model, its actuators on a relay module ----------

SPEED = 120.0
"""Model seconds per second of the controlled room: a door left open for 3 model minutes is
1.5 s of test, and the dehumidifier pulls the room back within seconds."""


def control_toml(relay_port: int, *, feedback_after_s: float = 600.0) -> str:
    """The paper stack's controller tuned for tests, and a dehumidifier (coil 0) and a
    humidifier (coil 1) on the simulator's relay module."""
    return f"""
[rooms.control]
interval_s = 0.2
min_on_s = 1.0
min_off_s = 1.0
stale_after_s = 3.0
feedback_after_s = {feedback_after_s}
max_override_s = 60

[[actuators]]
id = "dh-1"
room = "stack-1"
kind = "dehumidifier"
url = "tcp://127.0.0.1:{relay_port}"
address = 0
timeout_s = 0.3
retry_s = 0.5

[[actuators]]
id = "hu-1"
room = "stack-1"
kind = "humidifier"
url = "tcp://127.0.0.1:{relay_port}"
address = 1
timeout_s = 0.3
retry_s = 0.5
"""


def controlled_room_toml(sim: ClimateSimulator) -> str:
    """The room tables of a controlled ``stack-1`` (quick limits, ``control_toml``), the film
    vault and the sensors: a whole ``extra`` for ``make_config``."""
    assert sim.relays is not None
    return (
        QUICK_LIMITS
        + control_toml(sim.relays.port)
        + vault_and_sensors_toml(sim, vault_limits=False)
    )


@dataclass
class ControlRig(ClimateRig):
    @property
    def physics(self) -> RoomPhysics:
        return self.sim.physics(ROOM)

    def ticks(self) -> int:
        return self.control.rooms[ROOM].ticks

    async def wait_ticks(self, count: int) -> None:
        """Until the controller has looked at the room ``count`` more times."""
        target = self.ticks() + count

        async def done() -> bool:
            return self.ticks() >= target

        await eventually(done)

    def humid_corridor(self, door_open_s: float = 180.0) -> None:
        """A humid summer corridor, and the door to it left open (model seconds)."""
        self.physics.weather = Weather(26.0, 80.0)
        self.physics.open_door(door_open_s)


@pytest.fixture
async def controlled_sim() -> AsyncIterator[ClimateSimulator]:
    sensors, buses, rooms = default_layout()
    relays = RelayModule([Channel(0, ROOM, "dehumidifier"), Channel(1, ROOM, "humidifier")])
    sim = ClimateSimulator(
        sensors, buses, rooms, seed=5, speed=SPEED, physics={ROOM: RoomSpec()}, relays=relays
    )
    async with sim:
        yield sim


@pytest.fixture
async def control_rig(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    mosquitto: Mosquitto,
    db_url: str,
    controlled_sim: ClimateSimulator,
) -> AsyncIterator[ControlRig]:
    """Parametrize indirectly with ``{"feedback_after_s": S}`` to tune the feedback check."""
    assert controlled_sim.relays is not None
    tuning: dict[str, float] = getattr(request, "param", {})
    builder = climate_room(tmp_path / "room", db_url, mosquitto, controlled_sim, "control")
    builder.room_table(control_toml(controlled_sim.relays.port, **tuning))
    toml = partial(vault_and_sensors_toml, vault_limits=False)
    async with builder.climate(controlled_sim, toml).running(ControlRig) as rig:
        yield rig
