"""Opening the database and running transactions on it.

SQLite (the default, one room on one machine) and PostgreSQL (several rooms sharing one
database) behave alike behind this module. On SQLite the ledger wants durability over speed:
WAL, ``synchronous=FULL`` and foreign keys on; write transactions start with ``BEGIN
IMMEDIATE`` so two writers queue on the lock instead of failing when one upgrades from read to
write. Inside one daemon, writes also queue on an asyncio lock, so a burst of ledger writes
never turns into "database is locked" errors.

A PostgreSQL primary with hot standbys is named by one URL listing every server, in libpq's
form: ``postgresql+asyncpg://user@db1:5432,db2:5432/archroom?target_session_attrs=read-write``.
SQLAlchemy wants the hosts as repeated ``host=`` query parameters instead, so ``parse_url``
rewrites the first form into the second (both are accepted); asyncpg then tries the servers in
order and keeps the one that takes writes, which after a failover is the promoted standby.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from importlib.resources import files
from pathlib import Path
from typing import Any, TypeVar, TypeVarTuple

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import ColumnElement, Row, Select, event, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

log = logging.getLogger(__name__)


class SchemaError(Exception):
    """The database schema is not the one this version of archroom runs on."""


_MULTI_HOST = re.compile(
    r"^(?P<scheme>[\w+.-]+)://(?P<userinfo>[^@/?]*@)?(?P<hosts>[^/?]*,[^/?]*)(?P<rest>[/?].*)?$"
)


def parse_url(url: str) -> URL:
    """``url`` as a SQLAlchemy URL; libpq's ``host1:port1,host2:port2`` list becomes ``host=``
    query parameters (the form SQLAlchemy's asyncpg dialect reads), in the same order."""
    m = _MULTI_HOST.match(url)
    if m is None:
        return make_url(url)
    hosts = [h.strip() for h in m["hosts"].split(",")]
    if not all(hosts):
        raise ValueError(f"empty host in the database URL's host list {m['hosts']!r}")
    parsed = make_url(f"{m['scheme']}://{m['userinfo'] or ''}{m['rest'] or '/'}")
    return parsed.update_query_pairs([("host", h) for h in hosts], append=True)


def _alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(files("daemon.store") / "migrations"))
    return cfg


def schema_head() -> str:
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


_T = TypeVar("_T")
_Ts = TypeVarTuple("_Ts")


KEPT_CONNECTIONS = 5
"""Connections to PostgreSQL a store keeps open between requests."""


class Store:
    """The async engine plus the two ways in: ``read()`` and ``write()``."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._write_lock = asyncio.Lock()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @classmethod
    def connect(cls, url: str, *, max_connections: int = 15) -> Store:
        """Create the engine (no I/O yet). ``url`` is an async SQLAlchemy URL (or libpq's
        multi-host form, see ``parse_url``). On PostgreSQL at most ``max_connections`` are open
        at once: up to five are kept, the rest closed once they are returned; a request beyond
        that waits for one (``[database] max_connections``)."""
        parsed = parse_url(url)
        # A failed statement's message would otherwise carry its parameters (resident IDs
        # among them) into whatever logs the exception.
        kwargs: dict[str, Any] = {"hide_parameters": True}
        if parsed.get_backend_name() == "sqlite":
            database = parsed.database
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"timeout": 30}
        else:
            kwargs["pool_size"] = min(KEPT_CONNECTIONS, max_connections)
            kwargs["max_overflow"] = max(0, max_connections - KEPT_CONNECTIONS)
            kwargs["pool_pre_ping"] = True
        engine = create_async_engine(parsed, **kwargs)
        if parsed.get_backend_name() == "sqlite":
            _configure_sqlite(engine)
        return cls(engine)

    async def close(self) -> None:
        await self.engine.dispose()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as conn:
            yield conn

    async def all(self, query: Select[*_Ts]) -> Sequence[Row[*_Ts]]:
        """Every row ``query`` selects, read on a connection of its own."""
        async with self.read() as conn:
            return (await conn.execute(query)).all()

    async def first(self, query: Select[*_Ts]) -> Row[*_Ts] | None:
        """The first row ``query`` selects (None: none), read on a connection of its own."""
        async with self.read() as conn:
            return (await conn.execute(query)).first()

    async def scalar(self, query: Select[_T]) -> _T | None:
        """The first column of the first row ``query`` selects (None: none)."""
        async with self.read() as conn:
            return await conn.scalar(query)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """One transaction that commits when the block ends, or rolls back on error."""
        async with self._write_lock, self.engine.connect() as conn:
            await conn.execution_options(archroom_write=True)
            async with conn.begin():
                yield conn

    # -- schema ------------------------------------------------------------------------------

    async def current_revision(self) -> str | None:
        async with self.engine.connect() as conn:
            return await conn.run_sync(_current_revision)

    async def check_schema(self, how_to_upgrade: str) -> None:
        """Refuse to run on an un-migrated database or one migrated by a newer version."""
        current = await self.current_revision()
        head = schema_head()
        if current == head:
            return
        if current is None:
            raise SchemaError(f"the database has no archroom schema yet; run: {how_to_upgrade}")
        script = ScriptDirectory.from_config(_alembic_config())
        known = {rev.revision for rev in script.walk_revisions()}
        if current not in known:
            raise SchemaError(
                f"the database schema {current!r} is newer than this archroom (it knows up to "
                f"{head!r}); upgrade archroom, or restore a backup"
            )
        raise SchemaError(
            f"the database schema {current!r} is older than {head!r}; run: {how_to_upgrade}"
        )

    async def upgrade(self) -> tuple[str | None, str]:
        """Apply pending migrations; return (revision before, revision after)."""
        before = await self.current_revision()
        async with self._write_lock, self.engine.connect() as conn:
            await conn.execution_options(archroom_write=True)
            async with conn.begin():
                await conn.run_sync(_upgrade)
        return before, schema_head()

    async def integrity_check(self) -> str:
        """SQLite's own consistency check ("ok" when sound); PostgreSQL answers "ok"."""
        if self.dialect != "sqlite":
            return "ok"
        async with self.read() as conn:
            rows = (await conn.execute(text("PRAGMA integrity_check"))).scalars().all()
        return "; ".join(str(r) for r in rows)


async def keyset_pages(
    conn: AsyncConnection, query: Select[*_Ts], key: ColumnElement[Any], *, after: Any, size: int
) -> AsyncIterator[Sequence[Row[*_Ts]]]:
    """The rows of ``query`` in ``key`` order, ``size`` a page. Each page starts after the last
    key of the one before (``after`` is below every key), so each is a short range read of the
    key's index however far the reading has got, where an OFFSET would read all before it."""
    last = after
    while True:
        rows = (await conn.execute(query.where(key > last).order_by(key).limit(size))).all()
        if not rows:
            return
        yield rows
        last = rows[-1]._mapping[key]


def _current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def _upgrade(conn: Connection) -> None:
    cfg = _alembic_config()
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, "head")


def _configure_sqlite(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # We issue BEGIN ourselves (below); the driver's implicit transactions would defeat it.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("archroom_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
