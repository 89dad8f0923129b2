"""A store for the length of a ``with`` block, and a database brought to the newest schema."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from daemon.store.db import Store


@asynccontextmanager
async def open_store(url: str) -> AsyncIterator[Store]:
    """A store on the database ``url``, closed when the block ends."""
    store = Store.connect(url)
    try:
        yield store
    finally:
        await store.close()


async def migrate(url: str) -> None:
    """Bring the database ``url`` to the newest schema (``Store.upgrade``)."""
    async with open_store(url) as store:
        await store.upgrade()
