"""A private primary and standby per test (tests/ha/pgcluster.py), with a migrated database."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import asyncpg

from tests.ha.pgcluster import ReplicatedCluster
from tests.support.store import migrate

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
            await migrate(c.url(DATABASE))

        asyncio.run(prepare())
        yield c
    finally:
        c.close()
