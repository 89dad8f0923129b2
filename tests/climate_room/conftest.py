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

from daemon.climate import ClimateService
from daemon.config import ArchroomConfig
from daemon.runtime import Daemon
from daemon.services import Services
from daemon.tokens import Role
from simulators.climate import ClimateSimulator, default_layout
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
