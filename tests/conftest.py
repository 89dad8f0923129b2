"""Fixtures every test shares: nothing a test starts may outlive it."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator

import pytest


def _threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.is_alive()}


@pytest.fixture(autouse=True)
def no_thread_left_behind() -> Iterator[None]:
    before = _threads()
    yield
    deadline = time.monotonic() + 2.0
    while True:
        extra = {
            t
            for t in _threads() - before
            # asyncio's default executor and aiosqlite close their threads a beat later.
            if not t.name.startswith(("asyncio_", "ThreadPoolExecutor"))
        }
        if not extra or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert not extra, f"threads left running: {sorted(t.name for t in extra)}"


@pytest.fixture(autouse=True)
async def no_task_left_behind() -> AsyncIterator[None]:
    yield
    current = asyncio.current_task()
    for _ in range(50):
        extra = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
        if not extra:
            break
        await asyncio.sleep(0.01)
    assert not extra, f"tasks left running: {[t.get_name() for t in extra]}"


# -- real services ------------------------------------------------------------------------

from pathlib import Path  # noqa: E402

from daemon.store.db import Store  # noqa: E402
from tests import services  # noqa: E402
from tests.support.store import migrate, open_store  # noqa: E402


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[services.Mosquitto]:
    with services.Mosquitto(tmp_path / "mosquitto") as broker:
        yield broker


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A migrated PostgreSQL database that each test copies (CREATE DATABASE ... TEMPLATE)."""
    problem = services.pg_available()
    if problem is not None:
        pytest.fail(f"PostgreSQL is needed for these tests and is not reachable: {problem}")
    name = services.new_database_name("archroom_tmpl")
    services.create_database(name)
    asyncio.run(migrate(services.async_url(name)))
    try:
        yield name
    finally:
        services.drop_database(name)


@pytest.fixture
def pg_url(pg_template: str) -> Iterator[str]:
    name = services.new_database_name()
    services.create_database(name, template=pg_template)
    try:
        yield services.async_url(name)
    finally:
        services.drop_database(name)


@pytest.fixture
async def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'archroom.db'}"
    await migrate(url)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    """A migrated, empty database of each kind."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[Store]:
    async with open_store(db_url) as s:
        yield s
