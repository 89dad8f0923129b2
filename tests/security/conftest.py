"""A running room per test (the same rig as the API tests) and an admin client for it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from daemon.tokens import Role
from tests.support.room import Room, start_room


@pytest.fixture
async def room(tmp_path: Path, db_url: str) -> AsyncIterator[Room]:
    async for r in start_room(tmp_path, db_url):
        yield r


@pytest.fixture
async def admin(room: Room) -> AsyncIterator[httpx.AsyncClient]:
    async with room.client(Role.admin) as c:
        yield c
