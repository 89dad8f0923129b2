"""Rooms for the reconciliation tests: the reader room (``tests.support.room.reader_room``:
simulated shelf, desk and gate readers, a real broker), the room without devices of the API
tests, and the stacker room (a simulated stacker PLC)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.services import Mosquitto
from tests.support.fixtures import (
    catalogue,
    plc_settings,
    room,
    room_admin,
    sim,
    stacker_room,
    staff,
)
from tests.support.room import Room, reader_room

__all__ = [
    "catalogue",
    "plc_settings",
    "rig",
    "room",
    "room_admin",
    "sim",
    "stacker_room",
    "staff",
]


@pytest.fixture
async def rig(tmp_path: Path, mosquitto: Mosquitto, sqlite_url: str) -> AsyncIterator[Room]:
    async with reader_room(tmp_path / "room", mosquitto, sqlite_url).running() as r:
        yield r
