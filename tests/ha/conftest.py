"""A private primary and standby per test (tests/ha/pgcluster.py), with a migrated database."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import asyncpg

from daemon.store.db import Store
from tests.ha.pgcluster import ReplicatedCluster

DATABASE = "archroom"


def started_cluster(*, synchronous: bool) -> Iterator[ReplicatedCluster]:
    c = ReplicatedCluster(synchronous=synchronous)
    try:
        c.start()

        async def prepare() -> None:
            conn = await asyncpg.connect(c.primary.dsn())
            try:
                await conn.execute(f"CREATE DATABASE {DATABASE}")
            finally:
                await conn.close()
            store = Store.connect(c.url(DATABASE))
            try:
                await store.upgrade()
            finally:
                await store.close()

        asyncio.run(prepare())
        yield c
    finally:
        c.close()
