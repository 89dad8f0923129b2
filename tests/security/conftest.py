"""A running room per test (the same rig as the API tests) and an admin client for it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from daemon.tokens import Role
from tests.support.fixtures import room
from tests.support.room import Room

__all__ = ["admin", "room"]


@pytest.fixture
async def admin(room: Room) -> AsyncIterator[httpx.AsyncClient]:
    async with room.client(Role.admin) as c:
        yield c
