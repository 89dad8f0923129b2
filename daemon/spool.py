"""When the database is down: keep the room safe, keep every record, catch up afterwards.

A room's safety duties do not wait for PostgreSQL: an item carried out without a loan, a
humidity excursion, a reader going silent must still reach people. While the database is
unreachable, device-originated writes (alarms raised and cleared, gate passages, shelf
decisions) go to a spool on local disk instead: one JSON line each, fsynced, in order. Alarms
are announced at once on MQTT as *provisional* events (``"provisional": true``, no alarm id
yet) and written to the log. A probe notices when the database answers again and the spool is
replayed in order through the normal code paths, so every record, audit entry and event
appears as if it had been written on time (with its original time), and the provisional
alarms are followed by their durable ones.

Writes made by people through the API are not spooled: they fail with 503 and a message, so
nobody believes a check-out was recorded when it was not.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from daemon.health import Health
from daemon.store.db import Store

log = logging.getLogger(__name__)

Record = dict[str, Any]
Handler = Callable[[Record], Awaitable[None]]


# SQLSTATEs a server answers while it cannot take writes for a while: a standby not yet
# promoted (read-only transaction), a server shutting down, crashing or starting up, and the
# connection-exception class.
_TRANSIENT_SQLSTATES = frozenset({"25006", "53300", "57P01", "57P02", "57P03"})
"""Read-only transaction (a standby not yet promoted), too many connections (the server's
``max_connections`` or a role's or database's connection limit is reached), the server shutting
down or crashing, or starting up."""


def is_unavailable(error: BaseException) -> bool:
    """Does ``error`` mean the database cannot be reached (rather than refused the write)?

    During a failover that includes finding no server that takes writes (the old primary is
    gone and the standby answers, but is read-only until it is promoted) and a pooled
    connection to the dead server that the driver has not yet noticed is broken."""
    if isinstance(error, OperationalError | InterfaceError):
        return True
    if isinstance(error, DBAPIError):
        return bool(error.connection_invalidated) or _no_writable_server(error)
    return isinstance(error, OSError | TimeoutError | ConnectionError)


def _no_writable_server(error: BaseException) -> bool:
    cause: BaseException | None = error
    for _ in range(4):
        if cause is None:
            break
        if isinstance(cause, asyncpg.TargetServerAttributeNotMatched):
            return True
        if isinstance(cause, asyncpg.InternalClientError) and "in progress" in str(cause):
            # The connection broke mid-operation (its server died) and the client's protocol
            # state was left behind: the statement never ran.
            return True
        state = getattr(cause, "sqlstate", None)
        if isinstance(state, str) and (state in _TRANSIENT_SQLSTATES or state.startswith("08")):
            return True
        cause = getattr(cause, "orig", None) or cause.__cause__
    return False


class Spool:
    """A durable FIFO of JSON records in one file (appends are fsynced before they return)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = asyncio.Lock()
        self._count = sum(1 for _ in self._read()) if path.exists() else 0

    def __len__(self) -> int:
        return self._count

    def _read(self) -> list[Record]:
        records = []
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        for line in lines:
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                log.exception("unreadable line in the spool %s skipped", self.path)
        return records

    def _append_sync(self, line: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _append_line(self.path, line)

    async def append(self, record: Record) -> None:
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
        async with self._lock:
            await asyncio.to_thread(self._append_sync, line)
            self._count += 1

    async def records(self) -> list[Record]:
        async with self._lock:
            return await asyncio.to_thread(self._read)

    async def drop_first(self, n: int) -> None:
        """Remove the first ``n`` records (they reached the database)."""

        def rewrite() -> None:
            rest = self._read()[n:]
            tmp = self.path.with_suffix(".tmp")
            with tmp.open("w", encoding="utf-8") as f:
                for record in rest:
                    f.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
                f.flush()
                os.fsync(f.fileno())
            tmp.replace(self.path)
            self._count = len(rest)

        async with self._lock:
            await asyncio.to_thread(rewrite)


def _append_line(path: Path, line: str) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write(line + "\n")
        f.flush()
        os.fsync(f.fileno())


class DatabaseGuard:
    """Routes device writes to the database, or to the spool while it is unreachable."""

    def __init__(self, store: Store, spool: Spool, health: Health, *, probe_s: float = 2.0) -> None:
        self.store = store
        self.spool = spool
        self.health = health
        self.probe_s = probe_s
        self.down = False
        self.replayed = 0
        self._handlers: dict[str, Handler] = {}
        self._order = asyncio.Lock()
        self.rejected = spool.path.with_suffix(".rejected")

    def handle(self, kind: str, handler: Handler) -> None:
        self._handlers[kind] = handler

    @property
    def spooling(self) -> bool:
        return self.down or len(self.spool) > 0

    async def write(
        self, kind: str, record: Record, attempt: Callable[[], Awaitable[None]]
    ) -> bool:
        """Run ``attempt``; if the database is (or goes) down, spool ``record``. True if written."""
        async with self._order:
            if not self.spooling:
                try:
                    await attempt()
                except Exception as e:
                    if not is_unavailable(e):
                        raise
                    self._went_down(e)
                else:
                    return True
            await self.spool.append({"kind": kind, "data": record})
            return False

    def _went_down(self, error: BaseException) -> None:
        if not self.down:
            log.error(
                "database unreachable (%s): device records go to the spool %s",
                error,
                self.spool.path,
            )
        self.down = True
        self.health.set("database", "down", "unreachable; device records spooled on local disk")

    async def run(self) -> None:
        """Probe the database; when it answers, replay the spool in order."""
        while True:
            await asyncio.sleep(self.probe_s)
            if not self.spooling:
                continue
            try:
                async with self.store.read() as conn:
                    await conn.execute(text("SELECT 1"))
            except Exception as e:
                if not is_unavailable(e):
                    raise
                self._went_down(e)
                continue
            await self.replay()

    async def _dispatch(self, record: Record) -> None:
        handler = self._handlers.get(record.get("kind", ""))
        if handler is None:
            raise LookupError(f"no handler for spooled records of kind {record.get('kind')!r}")
        await handler(record["data"])

    async def replay(self) -> None:
        async with self._order:
            records = await self.spool.records()
            done = 0
            try:
                for record in records:
                    try:
                        await self._dispatch(record)
                    except Exception as e:
                        if is_unavailable(e):
                            raise
                        # Never block the spool behind one bad record, never lose it either.
                        log.exception(
                            "spooled record could not be written; kept in %s", self.rejected
                        )
                        line = json.dumps(record, ensure_ascii=False)
                        await asyncio.to_thread(_append_line, self.rejected, line)
                    done += 1
            except Exception as e:
                if not is_unavailable(e):
                    raise
                self._went_down(e)
                return
            finally:
                if done:
                    await self.spool.drop_first(done)
                    self.replayed += done
            if self.down:
                log.warning("database reachable again: %d spooled record(s) written", done)
            self.down = False
            self.health.set("database", "ok", self.store.dialect)
