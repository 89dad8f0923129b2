"""A whole room on one machine: the daemon, simulated readers on TCP, a real broker."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, suppress
from dataclasses import dataclass, field
from pathlib import Path

import aiomqtt
import httpx
import pytest

from daemon.runtime import Daemon
from daemon.services import Services
from daemon.tokens import Role
from drivers.uhfreader18 import Variant
from simulators.llrp_gate import LlrpGateSimulator
from simulators.uhfreader18 import SimulatedReader, Uhfreader18Simulator
from tests.harness import create_token, make_config, running_daemon
from tests.services import Mosquitto


class Subscriber:
    """Collects every message under a topic filter from a real broker."""

    def __init__(self, broker: Mosquitto, topic: str) -> None:
        self.broker = broker
        self.topic = topic
        self.messages: list[tuple[str, dict[str, object] | str]] = []
        self.ready = asyncio.Event()

    async def run(self) -> None:
        while True:
            with suppress(aiomqtt.MqttError):
                async with aiomqtt.Client("127.0.0.1", self.broker.port) as client:
                    await client.subscribe(self.topic, qos=1)
                    self.ready.set()
                    async for m in client.messages:
                        text = bytes(m.payload).decode()
                        try:
                            self.messages.append((str(m.topic), json.loads(text)))
                        except json.JSONDecodeError:
                            self.messages.append((str(m.topic), text))
            await asyncio.sleep(0.1)

    def events(self, event_type: str) -> list[dict[str, object]]:
        return [
            p
            for t, p in self.messages
            if t.endswith(f"/events/{event_type}") and isinstance(p, dict)
        ]

    async def wait_for(
        self, event_type: str, timeout: float = 20.0, **match: object
    ) -> dict[str, object]:
        async with asyncio.timeout(timeout):
            while True:
                for event in self.events(event_type):
                    if all(event.get(k) == v for k, v in match.items()):
                        return event
                await asyncio.sleep(0.05)


@dataclass
class RoomRig:
    daemon: Daemon
    shelf: Uhfreader18Simulator
    desk: Uhfreader18Simulator
    gate: LlrpGateSimulator
    mqtt: Subscriber
    tokens: dict[Role, str] = field(default_factory=dict)

    @property
    def services(self) -> Services:
        assert self.daemon.services is not None
        return self.daemon.services

    def client(self, role: Role = Role.staff) -> httpx.AsyncClient:
        assert self.daemon.listening is not None
        return httpx.AsyncClient(
            base_url=self.daemon.listening.url,
            headers={"Authorization": f"Bearer {self.tokens[role]}"},
            timeout=30,
        )


FAST_GATE = """smoothing_s = 0.5
confirm_s = 0.5
exit_silence_s = 0.8
cooldown_s = 1.0
"""
"""Gate parameters for the scripted passes (short, clean): decisions within a second."""


def room_toml(
    shelf_port: int,
    desk_port: int,
    gate_port: int,
    *,
    gate_extra: str = "",
    gate_params: str = FAST_GATE,
) -> str:
    return f"""
[[readers]]
type = "uhfreader18"
id = "shelf-a"
url = "socket://127.0.0.1:{shelf_port}"
role = "shelf"
poll_interval_s = 0.05
antennas = {{ 1 = "r1-A-01-01", 2 = "r1-A-01-02" }}

[[readers]]
type = "uhfreader18"
id = "desk-1"
url = "socket://127.0.0.1:{desk_port}"
role = "desk"

[[readers]]
type = "llrp"
id = "door-1"
url = "tcp://127.0.0.1:{gate_port}"
role = "gate"
keepalive_s = 1.0

[[gates]]
id = "door-1"
reader = "door-1"
inside_antenna = 1
outside_antenna = 2
{gate_params}{gate_extra}
[shelf]
min_reads = 2
half_life_sweeps = 2.0
silence_s = 2.0
missing_sweeps = 5
misplaced_after_s = 1.0

[[racks]]
id = "A"
bays = 1
levels = 2
"""


async def open_rig(
    stack: AsyncExitStack,
    state_dir: Path,
    mosquitto: Mosquitto,
    db_url: str,
    *,
    daemon_db_url: str | None = None,
    token_name: str = "rig",
    gate_extra: str = "",
    gate_params: str = FAST_GATE,
) -> RoomRig:
    """Simulated readers, a subscriber and a daemon, all closed by ``stack``; returns once every
    reader is up. ``daemon_db_url`` lets the daemon reach the database another way (a proxy)."""
    shelf = Uhfreader18Simulator(SimulatedReader(Variant.UHFREADER288, antennas=2))
    await shelf.start_tcp()
    stack.push_async_callback(shelf.close)
    desk = Uhfreader18Simulator(SimulatedReader(Variant.UHFREADER18))
    await desk.start_tcp()
    stack.push_async_callback(desk.close)
    gate = LlrpGateSimulator(cycle_s=0.05, seed=3)
    await gate.start()
    stack.push_async_callback(gate.stop)
    subscriber = Subscriber(mosquitto, "archroom/t/r1/#")
    sub_task = asyncio.create_task(subscriber.run())

    async def stop_subscriber() -> None:
        sub_task.cancel()
        with suppress(asyncio.CancelledError):
            await sub_task

    stack.push_async_callback(stop_subscriber)
    await asyncio.wait_for(subscriber.ready.wait(), 10)
    tokens = {role: await create_token(db_url, role, f"{role.value}-{token_name}") for role in Role}
    config = make_config(
        state_dir,
        db_url=daemon_db_url or db_url,
        mqtt_url=mosquitto.url,
        extra=room_toml(
            shelf.port, desk.port, gate.port, gate_extra=gate_extra, gate_params=gate_params
        ),
    )
    daemon = await stack.enter_async_context(running_daemon(config))
    rig = RoomRig(daemon, shelf, desk, gate, subscriber, tokens)
    async with asyncio.timeout(20):
        while not all(rig.services.readers.up.get(r) for r in ("shelf-a", "desk-1", "door-1")):
            await asyncio.sleep(0.05)
    return rig


@pytest.fixture
async def rig(tmp_path: Path, mosquitto: Mosquitto, sqlite_url: str) -> AsyncIterator[RoomRig]:
    async with AsyncExitStack() as stack:
        yield await open_rig(stack, tmp_path / "room", mosquitto, sqlite_url)
