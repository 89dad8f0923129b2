"""A room whose daemon drives a simulated stacker PLC over real Modbus TCP, used over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from daemon.runtime import Daemon
from daemon.services import Services
from daemon.tokens import Role
from simulators.stacker_plc import PlcSettings, StackerPlcSimulator
from stacker.service.room import StackerService
from tests.harness import create_token, make_config, running_daemon

STATION = (0, 1, 0, 1, 1)
"""The simulator's pick/drop station, configured as ``io-1``."""
STATION_CODE = "r1-station-io-1"

EPC_A, BOX_A = "3034257BF7194E4000001A85", "F7194E4000001A85"
EPC_B, BOX_B = "3034257BF7194E4000001B99", "F7194E4000001B99"


def stacker_toml(url: str, **settings: float | str) -> str:
    """The ``[stacker]`` table of the rooms under test: a 2 x 10 x 5 double-deep rack."""
    values: dict[str, float | str] = {
        "poll_interval_s": 0.02,
        "heartbeat_interval_s": 0.2,
        "heartbeat_stale_s": 1.0,
        "reconnect_min_s": 0.05,
        "reconnect_max_s": 0.2,
        **settings,
    }
    lines = "".join(
        f"{k} = {v!r}\n" if isinstance(v, float) else f'{k} = "{v}"\n' for k, v in values.items()
    )
    return (
        f'[stacker]\nid = "stacker-t"\nurl = "{url}"\nbays = 10\nlevels = 5\ndepths = 2\n'
        f'stations = [{{ name = "io-1", side = 1, bay = 0, level = 1 }}]\n{lines}'
    )


@pytest.fixture
def plc_settings() -> PlcSettings:
    return PlcSettings(bays=10, levels=5, depths=2, host_watchdog_s=60.0, heartbeat_period_s=0.05)


@pytest.fixture
async def sim(plc_settings: PlcSettings) -> AsyncIterator[StackerPlcSimulator]:
    async with StackerPlcSimulator(plc_settings) as simulator:
        yield simulator


@dataclass
class StackerRoom:
    daemon: Daemon
    sim: StackerPlcSimulator
    db_url: str
    tokens: dict[Role, str]

    @property
    def services(self) -> Services:
        assert self.daemon.services is not None
        return self.daemon.services

    @property
    def stacker(self) -> StackerService:
        assert self.services.stacker is not None
        return self.services.stacker

    @asynccontextmanager
    async def client(self, role: Role = Role.staff) -> AsyncIterator[httpx.AsyncClient]:
        assert self.daemon.listening is not None
        async with httpx.AsyncClient(
            base_url=self.daemon.listening.url,
            headers={"Authorization": f"Bearer {self.tokens[role]}"},
            timeout=30,
        ) as client:
            yield client


async def open_room(
    tmp_path: Path,
    db_url: str,
    sim: StackerPlcSimulator,
    *,
    mqtt_url: str | None = None,
    **stacker_settings: float | str,
) -> AsyncIterator[StackerRoom]:
    tokens = {role: await create_token(db_url, role, f"{role.value}-r1") for role in Role}
    config = make_config(
        tmp_path / "r1",
        db_url=db_url,
        mqtt_url=mqtt_url,
        room="r1",
        extra=stacker_toml(sim.url, **stacker_settings),
    )
    async with running_daemon(config) as daemon:
        room = StackerRoom(daemon, sim, db_url, tokens)
        await eventually(lambda: room.stacker.status().refusal is None)
        yield room
        await settled(room)


async def settled(room: StackerRoom, quiet_s: float = 0.3, at_most_s: float = 3.0) -> None:
    """Let the stacker's state stop changing before the daemon is stopped.

    Each change rings the outbox; ``daemon.outbox.Outbox.wait`` uses ``asyncio.wait_for``,
    which on Python 3.11 loses a cancellation that arrives with a ring, and the daemon then
    never stops. Not settling within ``at_most_s`` (a crane left mid-job) is not an error.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + at_most_s
    last = room.services.retained.values.get("stacker/state")
    since = loop.time()
    while loop.time() < deadline and loop.time() - since < quiet_s:
        await asyncio.sleep(0.05)
        now = room.services.retained.values.get("stacker/state")
        if now != last:
            last, since = now, loop.time()


@pytest.fixture
async def room(tmp_path: Path, db_url: str, sim: StackerPlcSimulator) -> AsyncIterator[StackerRoom]:
    async for r in open_room(tmp_path, db_url, sim):
        yield r


@pytest.fixture
async def staff(room: StackerRoom) -> AsyncIterator[httpx.AsyncClient]:
    async with room.client(Role.staff) as client:
        yield client


async def eventually(check: Callable[[], bool], timeout: float = 15.0) -> None:
    """Wait until ``check()`` holds; fail after ``timeout`` (a bound, not a measurement)."""

    async def wrapped() -> bool:
        return check()

    await eventually_async(wrapped, timeout)


async def eventually_async(check: Callable[[], Awaitable[bool]], timeout: float = 15.0) -> None:
    """Like :func:`eventually` for a check that awaits (an HTTP request, say).

    The deadline is checked between attempts as well as enforced by ``asyncio.timeout``: a
    cancellation lost inside a client library must not turn a failure into a hang.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    async with asyncio.timeout(timeout + 5):
        while not await check():
            if loop.time() > deadline:
                raise AssertionError(f"condition not reached within {timeout:g} s")
            await asyncio.sleep(0.02)


async def add_item(client: httpx.AsyncClient, ref: str, epc: str | None = None) -> None:
    r = await client.put(
        f"/api/v1/items/{ref}",
        json={"title": f"Box {ref}", "retention": "D30", "kind": "box", "year": 2020},
    )
    assert r.status_code == 201, r.text
    if epc is not None:
        r = await client.post(f"/api/v1/items/{ref}/tag", json={"epc": epc})
        assert r.status_code == 201, r.text


async def submit(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    r = await client.post("/api/v1/stacker/jobs", json=body)
    assert r.status_code == 202, r.text
    job: dict[str, Any] = r.json()
    return job


async def wait_job(
    client: httpx.AsyncClient, job_id: int, *states: str, timeout: float = 20.0
) -> dict[str, Any]:
    """The job once its state is one of ``states``."""
    found: dict[str, Any] = {}

    async def reached() -> bool:
        r = await client.get(f"/api/v1/stacker/jobs/{job_id}")
        assert r.status_code == 200, r.text
        found.update(r.json())
        return found["state"] in states

    await eventually_async(reached, timeout)
    return found


async def location_of(client: httpx.AsyncClient, ref: str) -> dict[str, Any]:
    r = await client.get(f"/api/v1/items/{ref}/location")
    assert r.status_code == 200, r.text
    where: dict[str, Any] = r.json()
    return where


async def place_in_rack(
    room: StackerRoom, client: httpx.AsyncClient, ref: str, code: str, box: str
) -> None:
    """A person puts the box in a cell and records it (a manual move): the rack follows."""
    cell = room.stacker.places.cell(code)
    assert cell is not None
    room.sim.put(cell.coordinates(), box)
    r = await client.post(f"/api/v1/items/{ref}/move", json={"to": code})
    assert r.status_code == 200, r.text
    await eventually(lambda: room.stacker.controller.cells.locate(ref=ref) == cell)


async def active_alarms(client: httpx.AsyncClient, kind: str) -> list[dict[str, Any]]:
    r = await client.get("/api/v1/alarms", params={"kind": kind})
    assert r.status_code == 200, r.text
    found: list[dict[str, Any]] = r.json()
    return found


async def audit_of(room: StackerRoom, subject: str) -> list[dict[str, Any]]:
    async with room.client(Role.auditor) as auditor:
        r = await auditor.get("/api/v1/audit", params={"subject": subject})
    assert r.status_code == 200, r.text
    entries: list[dict[str, Any]] = r.json()
    return entries


async def alarms_become(
    client: httpx.AsyncClient, kind: str, subjects: list[str | None], timeout: float = 15.0
) -> None:
    """Wait until the active alarms of ``kind`` are about exactly ``subjects``."""

    async def settled() -> bool:
        return [a["subject"] for a in await active_alarms(client, kind)] == subjects

    await eventually_async(settled, timeout)
