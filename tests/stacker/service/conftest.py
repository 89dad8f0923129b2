"""A room whose daemon drives a simulated stacker PLC over real Modbus TCP, used over HTTP
(``tests.support.stacker``)."""

from __future__ import annotations

import pytest

from tests.support.fixtures import plc_settings, sim, stacker_room, staff
from tests.support.room import Room

__all__ = ["plc_settings", "room", "sim", "stacker_room", "staff"]


@pytest.fixture
def room(stacker_room: Room) -> Room:
    """The stacker room is the room of these tests (``staff`` is its staff client)."""
    return stacker_room
