"""Rooms for the reconciliation tests: the reader room (``tests.support.room.reader_room``:
simulated shelf, desk and gate readers, a real broker), and the room without devices of the API
tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.services import Mosquitto
from tests.support.fixtures import catalogue, room, room_admin, staff
from tests.support.room import Room, reader_room

__all__ = ["catalogue", "rig", "room", "room_admin", "staff"]


@pytest.fixture
async def rig(tmp_path: Path, mosquitto: Mosquitto, sqlite_url: str) -> AsyncIterator[Room]:
    async with reader_room(tmp_path / "room", mosquitto, sqlite_url).running() as r:
        yield r
