"""A room's climate on one machine: the daemon, the sensor simulator on RTU-over-TCP and Modbus
TCP, a real broker, real HTTP."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aiomqtt
import httpx
import pytest

from daemon.config import ArchroomConfig
from daemon.runtime import Daemon
from daemon.services import Services
from daemon.tokens import Role
from sensors.service.climate import ClimateService
from sensors.service.control import ClimateControl
from simulators.climate import ClimateSimulator, default_layout
from simulators.climate_room import Channel, RelayModule, RoomPhysics, RoomSpec, Weather
from tests.harness import create_token, make_config
from tests.room.conftest import Subscriber
from tests.services import Mosquitto

T = TypeVar("T")
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


def rig_toml(sim: ClimateSimulator) -> str:
    """Rooms that judge within a second (``make_config`` opens the ``stack-1`` paper room)."""
    return (
        "[rooms.limits]\nmin_duration_s = 1.0\n"
        '[[rooms]]\nid = "film-vault"\nclass = "film-master"\n'
        "[rooms.limits]\nmin_duration_s = 1.0\n"
        "[climate]\nsmoothing_s = 0.5\n" + sensors_toml(sim.port("rs485"), sim.port("tcp"))
    )


async def eventually(check: Callable[[], Awaitable[T | None]], *, within_s: float = 30.0) -> T:
    """The first truthy answer of ``check``; ``within_s`` is a hang guard, not a timing claim."""
    async with asyncio.timeout(within_s):
        while True:
            answer = await check()
            if answer:
                return answer
            await asyncio.sleep(0.05)


class Retained:
    """Reads one retained topic from the broker with a fresh connection."""

    def __init__(self, broker: Mosquitto) -> None:
        self.broker = broker

    async def get(self, topic: str) -> dict[str, Any] | None:
        """The retained value a new subscriber is given, or None if there is none yet."""
        async with aiomqtt.Client("127.0.0.1", self.broker.port) as client:
            await client.subscribe(topic, qos=1)
            with suppress(TimeoutError):
                async with asyncio.timeout(3):
                    async for message in client.messages:
                        if message.retain:
                            payload: dict[str, Any] = json.loads(bytes(message.payload))
                            return payload
        return None


@dataclass
class ClimateRig:
    daemon: Daemon
    sim: ClimateSimulator
    mqtt: Subscriber
    retained: Retained
    db_url: str
    tokens: dict[Role, str] = field(default_factory=dict)

    @property
    def services(self) -> Services:
        assert self.daemon.services is not None
        return self.daemon.services

    @property
    def climate(self) -> ClimateService:
        assert self.services.climate is not None
        return self.services.climate

    def client(self, role: Role = Role.facilities) -> httpx.AsyncClient:
        assert self.daemon.listening is not None
        return httpx.AsyncClient(
            base_url=self.daemon.listening.url,
            headers={"Authorization": f"Bearer {self.tokens[role]}"},
            timeout=30,
        )

    async def metrics(self) -> str:
        assert self.daemon.listening is not None
        async with httpx.AsyncClient(base_url=self.daemon.listening.url) as client:
            return (await client.get("/metrics")).text

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


@asynccontextmanager
async def running_room(config: ArchroomConfig) -> AsyncIterator[Daemon]:
    """``tests.harness.running_daemon`` with a stop that cannot hang.

    On Python 3.11 ``asyncio.wait_for`` returns normally when a cancellation arrives in the same
    loop turn as the result it waits for, and aiomqtt awaits every PUBACK through it: a stop
    that lands on a publish of a retained ``climate/{sensor}`` topic is then lost, and the
    MQTT publisher (daemon/mqtt.py) keeps running. The daemon's own stop cancels once, so this
    fixture cancels the publisher again until the daemon is down.
    """
    daemon = Daemon(config)
    stop = asyncio.Event()
    task = asyncio.create_task(daemon.run(stop), name="daemon-under-test")
    ready = asyncio.create_task(daemon.ready.wait())
    await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED, timeout=30)
    if not daemon.ready.is_set():
        ready.cancel()
        stop.set()
        await task
        raise RuntimeError("daemon did not become ready")
    try:
        yield daemon
    finally:
        stop.set()
        async with asyncio.timeout(30):
            while not (await asyncio.wait({task}, timeout=2.0))[0]:
                for leftover in asyncio.all_tasks():
                    if leftover.get_name() == "outbox":
                        leftover.cancel()
        task.result()


@pytest.fixture
async def climate_sim() -> AsyncIterator[ClimateSimulator]:
    sensors, buses, rooms = default_layout()
    async with ClimateSimulator(sensors, buses, rooms, seed=11) as sim:
        yield sim


@pytest.fixture
async def rig(
    tmp_path: Path, mosquitto: Mosquitto, db_url: str, climate_sim: ClimateSimulator
) -> AsyncIterator[ClimateRig]:
    async with AsyncExitStack() as stack:
        subscriber = Subscriber(mosquitto, f"{PREFIX}/#")
        sub_task = asyncio.create_task(subscriber.run(), name="mqtt subscriber")

        async def stop_subscriber() -> None:
            sub_task.cancel()
            with suppress(asyncio.CancelledError):
                await sub_task

        stack.push_async_callback(stop_subscriber)
        await asyncio.wait_for(subscriber.ready.wait(), 10)
        tokens = {role: await create_token(db_url, role, f"{role.value}-climate") for role in Role}
        config = make_config(
            tmp_path / "room",
            db_url=db_url,
            mqtt_url=mosquitto.url,
            room=ROOM,
            extra=rig_toml(climate_sim),
        )
        daemon = await stack.enter_async_context(running_room(config))
        yield ClimateRig(daemon, climate_sim, subscriber, Retained(mosquitto), db_url, tokens)


# -- the service alone, on an injected clock ---------------------------------------------------

T0 = 1_767_225_600.0
"""2026-01-01T00:00:00Z, on a minute boundary."""


class ManualClock:
    """Wall-clock time that moves only when a test moves it."""

    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


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
        task = asyncio.create_task(service.run(), name="climate under test")
        try:
            yield service
        finally:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    async def step(
        self, service: ClimateService, t: float, temperature: float, humidity: float
    ) -> None:
        """From time ``t`` the probe reads these values: wait for a few readings stamped ``t``
        and for every alarm decision they caused to be recorded.

        The clock and the values change together, so a reading still in flight carries an old
        value with the new time at worst; the smoothing over several readings at ``t`` makes
        its weight small."""
        before = _readings(service)
        self.sim.set_values("vault-b", temperature, humidity)
        self.clock.t = t

        async def enough() -> bool:
            return _readings(service) >= before + 6

        await eventually(enough)
        await service.drained()


def _readings(service: ClimateService) -> int:
    (probe,) = (s for s in service.view().sensors if s.config.id == "probe")
    return probe.counters.readings


@pytest.fixture
async def clocked(
    tmp_path: Path, sqlite_url: str, climate_sim: ClimateSimulator
) -> AsyncIterator[ClockedRoom]:
    config = make_config(tmp_path / "daemon", db_url=sqlite_url)
    async with running_room(config) as daemon:
        yield ClockedRoom(daemon, climate_sim, ManualClock(T0), tmp_path / "service", sqlite_url)


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


def controlled_room_toml(sim: ClimateSimulator, **tuning: float) -> str:
    """``rig_toml`` with the paper stack's controller and its actuators (``control_toml``)."""
    assert sim.relays is not None
    return (
        "[rooms.limits]\nmin_duration_s = 1.0\n"
        + control_toml(sim.relays.port, **tuning)
        + '[[rooms]]\nid = "film-vault"\nclass = "film-master"\n'
        + "[climate]\nsmoothing_s = 0.5\n"
        + sensors_toml(sim.port("rs485"), sim.port("tcp"))
    )


@dataclass
class ControlRig(ClimateRig):
    @property
    def control(self) -> ClimateControl:
        assert self.services.control is not None
        return self.services.control

    @property
    def relays(self) -> RelayModule:
        assert self.sim.relays is not None
        return self.sim.relays

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
    async with AsyncExitStack() as stack:
        subscriber = Subscriber(mosquitto, f"{PREFIX}/#")
        sub_task = asyncio.create_task(subscriber.run(), name="mqtt subscriber")

        async def stop_subscriber() -> None:
            sub_task.cancel()
            with suppress(asyncio.CancelledError):
                await sub_task

        stack.push_async_callback(stop_subscriber)
        await asyncio.wait_for(subscriber.ready.wait(), 10)
        tokens = {role: await create_token(db_url, role, f"{role.value}-control") for role in Role}
        config = make_config(
            tmp_path / "room",
            db_url=db_url,
            mqtt_url=mosquitto.url,
            room=ROOM,
            extra=controlled_room_toml(controlled_sim, **tuning),
        )
        daemon = await stack.enter_async_context(running_room(config))
        yield ControlRig(daemon, controlled_sim, subscriber, Retained(mosquitto), db_url, tokens)
