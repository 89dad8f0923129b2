"""A running room per test (the same rig as the API tests) and its clients (admin, staff,
catalogue)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from daemon.tokens import Role
from tests.support.fixtures import catalogue, room, staff
from tests.support.room import Room

__all__ = ["admin", "catalogue", "room", "staff"]


@pytest.fixture
async def admin(room: Room) -> AsyncIterator[httpx.AsyncClient]:
    async with room.client(Role.admin) as c:
        yield c
