"""Reads from a hot standby, when it is close enough behind; everything else on the primary.

A bureau's catalogue service asks many "where is it?" questions; a PostgreSQL hot standby
(streaming replication) can answer them and spare the primary, which the rooms write to. A
standby is always a little behind, and may fall far behind (a long query, a slow link) or go
away. So the standby's lag is measured every few seconds (how long ago the last transaction it
replayed was committed, zero when it has replayed all it received) and published as
``archroom_database_replica_lag_seconds``; reads go to the standby only while it answered the
last probe and is no further behind than ``[database] replica_max_lag_s``, else to the primary.
Writes never go to the standby: ``write()`` is the primary's.

Only the read-mostly answers use this (location lookups, search, the EPCIS export); anything
that reads in order to write (a check-out, a passage) uses the primary, which always has the
latest state.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from prometheus_client import Gauge
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from daemon.spool import is_unavailable
from daemon.store.db import Store

log = logging.getLogger(__name__)

LAG_SQL = text(
    "SELECT CASE WHEN NOT pg_is_in_recovery() THEN 0"
    " WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0"
    " ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END"
)
"""Seconds the standby is behind: zero when it has replayed everything it received."""


class ReplicaReads(Store):
    """A store whose ``read()`` goes to the standby while it is fresh enough.

    It shares the primary's engine and write lock, so anything that writes through it writes
    to the primary."""

    def __init__(
        self,
        primary: Store,
        replica: Store,
        *,
        max_lag_s: float,
        lag_gauge: Gauge,
        probe_s: float = 2.0,
    ) -> None:
        super().__init__(primary.engine)
        self.primary = primary
        self.replica = replica
        self.max_lag_s = max_lag_s
        self.probe_s = probe_s
        self.lag_gauge = lag_gauge
        self.lag_s: float | None = None
        """The standby's lag at the last probe; None when it did not answer."""
        self.reads = {"replica": 0, "primary": 0}

    @property
    def usable(self) -> bool:
        return self.lag_s is not None and self.lag_s <= self.max_lag_s

    async def probe(self) -> float | None:
        """Measure the standby's lag now (None: it does not answer)."""
        try:
            async with self.replica.read() as conn:
                lag = float(await conn.scalar(LAG_SQL) or 0.0)
        except Exception as e:
            if not is_unavailable(e):
                raise
            if self.lag_s is not None:
                log.warning("replica unreachable (%s): reads go to the primary", e)
            self.lag_s = None
            self.lag_gauge.set(float("nan"))
            return None
        if self.lag_s is not None and self.lag_s <= self.max_lag_s < lag:
            log.warning(
                "replica %.1f s behind (bound %.1f s): reads go to the primary", lag, self.max_lag_s
            )
        self.lag_s = lag
        self.lag_gauge.set(lag)
        return lag

    async def run(self) -> None:
        while True:
            await self.probe()
            await asyncio.sleep(self.probe_s)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        if self.usable:
            try:
                conn = await self.replica.engine.connect()
            except Exception as e:
                if not is_unavailable(e):
                    raise
                log.warning("replica unreachable (%s): reads go to the primary", e)
                self.lag_s = None
                self.lag_gauge.set(float("nan"))
            else:
                self.reads["replica"] += 1
                try:
                    yield conn
                finally:
                    await conn.close()
                return
        self.reads["primary"] += 1
        async with self.primary.read() as conn:
            yield conn

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        async with self.primary.write() as conn:
            yield conn

    async def close(self) -> None:
        await self.replica.close()
