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
