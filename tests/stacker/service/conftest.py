"""A room whose daemon drives a simulated stacker PLC over real Modbus TCP, used over HTTP
(``tests.support.stacker``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from simulators.stacker_plc import StackerPlcSimulator
from tests.support.fixtures import plc_settings, sim, staff
from tests.support.room import Room
from tests.support.stacker import open_room

__all__ = ["plc_settings", "room", "sim", "staff"]


@pytest.fixture
async def room(tmp_path: Path, db_url: str, sim: StackerPlcSimulator) -> AsyncIterator[Room]:
    async for r in open_room(tmp_path, db_url, sim):
        yield r
