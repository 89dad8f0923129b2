"""A whole room on one machine: the daemon, simulated readers on TCP, a real broker
(``tests.support.room.reader_room``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.services import Mosquitto
from tests.support.room import Room, reader_room


@pytest.fixture
async def rig(tmp_path: Path, mosquitto: Mosquitto, sqlite_url: str) -> AsyncIterator[Room]:
    async with reader_room(tmp_path / "room", mosquitto, sqlite_url).running() as r:
        yield r
