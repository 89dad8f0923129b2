"""Fixtures of a room without devices, for the folders that test through the API, and of a room
with a simulated stacker PLC: a conftest imports the ones it uses
(``from tests.support.fixtures import room, staff``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from daemon.tokens import Role
from simulators.stacker_plc import PlcSettings, StackerPlcSimulator
from stacker.cells import RackGeometry
from tests.support.room import Room, start_room
from tests.support.stacker import open_room


@pytest.fixture
async def room(tmp_path: Path, db_url: str) -> AsyncIterator[Room]:
    """A room without devices on each kind of database (``start_room``)."""
    async for r in start_room(tmp_path, db_url):
        yield r


@pytest.fixture
async def staff(room: Room) -> AsyncIterator[httpx.AsyncClient]:
    async with room.client(Role.staff) as c:
        yield c


@pytest.fixture
async def catalogue(room: Room) -> AsyncIterator[httpx.AsyncClient]:
    async with room.client(Role.catalogue) as c:
        yield c


@pytest.fixture
async def room_admin(room: Room) -> AsyncIterator[httpx.AsyncClient]:
    async with room.client(Role.admin) as c:
        yield c


PLC_SETTINGS = PlcSettings(
    geometry=RackGeometry(bays=10, levels=5, depths=2),
    host_watchdog_s=60.0,
    heartbeat_period_s=0.05,
)
"""The stacker PLC simulator's rack (2 x 10 x 5, double-deep), a fast heartbeat and a watchdog
that does not trip while a test pauses; a module overrides ``plc_settings`` with
``dataclasses.replace(PLC_SETTINGS, ...)``."""


@pytest.fixture
def plc_settings() -> PlcSettings:
    return PLC_SETTINGS


@pytest.fixture
async def sim(plc_settings: PlcSettings) -> AsyncIterator[StackerPlcSimulator]:
    """A stacker PLC simulator on a free TCP port."""
    async with StackerPlcSimulator(plc_settings) as simulator:
        yield simulator


@pytest.fixture
async def stacker_room(
    tmp_path: Path, db_url: str, sim: StackerPlcSimulator
) -> AsyncIterator[Room]:
    """A room whose daemon drives ``sim`` over real Modbus TCP (``open_room``)."""
    async for r in open_room(tmp_path, db_url, sim):
        yield r
