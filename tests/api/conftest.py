"""A running room (daemon + database) and a client per role, over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from daemon.runtime import Daemon
from daemon.services import Services
from daemon.store.db import Store
from daemon.tokens import Role
from tests.harness import create_token, make_config, running_daemon

RACKS = '[[racks]]\nid = "A"\nbays = "1-3"\nlevels = "1-2"\n'


@dataclass
class Room:
    daemon: Daemon
    db_url: str
    tokens: dict[Role, str]

    @property
    def services(self) -> Services:
        assert self.daemon.services is not None
        return self.daemon.services

    @property
    def url(self) -> str:
        assert self.daemon.listening is not None
        return self.daemon.listening.url

    @asynccontextmanager
    async def daemon_store(self) -> AsyncIterator[Store]:
        store = Store.connect(self.db_url)
        try:
            yield store
        finally:
            await store.close()

    @asynccontextmanager
    async def client(self, role: Role | None) -> AsyncIterator[httpx.AsyncClient]:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        async with httpx.AsyncClient(base_url=self.url, headers=headers, timeout=60) as client:
            yield client


async def start_room(
    tmp_path: Path, db_url: str, *, room: str = "r1", extra: str = RACKS, api: str = ""
) -> AsyncIterator[Room]:
    """A room with a token per role; ``api`` holds extra lines of its ``[api]`` table."""
    tokens = {role: await create_token(db_url, role, f"{role.value}-{room}") for role in Role}
    config = make_config(tmp_path / room, db_url=db_url, room=room, extra=extra, api=api)
    async with running_daemon(config) as daemon:
        yield Room(daemon, db_url, tokens)


@pytest.fixture
async def room(tmp_path: Path, db_url: str) -> AsyncIterator[Room]:
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


VALID_RESIDENT_ID = "11010519491231002X"
VALID_CREDIT_CODE = "91110000600037341L"


def item_body(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "title": "Pension approval, Zhang San",
        "category": "social insurance",
        "year": 2023,
        "retention": "D30",
        "kind": "box",
        "record_id": "EA-2023-000123",
    }
    body.update(overrides)
    return body


@pytest.fixture
async def room_admin(room: Room) -> AsyncIterator[httpx.AsyncClient]:
    async with room.client(Role.admin) as c:
        yield c
