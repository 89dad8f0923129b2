"""PostgreSQL out of connections: the API answers 503 (try again), never 500, and the room
carries on when connections are free again; a store opens no more connections than
``[database] max_connections``.

Rooms sharing one server can together ask for more connections than its ``max_connections``;
the server then refuses the next one with SQLSTATE 53300 ("sorry, too many clients already"),
the same refusal as a role's or a database's connection limit, which is how the test makes it
happen on the shared test server.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from daemon.store.db import Store
from daemon.tokens import Role
from tests.services import admin_url
from tests.support.catalogue import item_body
from tests.support.poll import eventually
from tests.support.room import RoomBuilder

pytestmark = pytest.mark.slow


async def _admin_in(database: str, *statements: str) -> None:
    dsn = make_url(admin_url()).set(database=database).render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn, timeout=5)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture
async def limited_url(pg_url: str) -> AsyncIterator[tuple[str, str]]:
    """A login role with every right on the room's database, and the daemon's URL as that
    role: (url, role)."""
    url = make_url(pg_url)
    database = str(url.database)
    role = f"archroom_limited_{uuid.uuid4().hex[:8]}"
    await _admin_in("postgres", f'CREATE ROLE "{role}" LOGIN')
    try:
        await _admin_in(
            database,
            f'GRANT USAGE ON SCHEMA public TO "{role}"',
            f'GRANT ALL ON ALL TABLES IN SCHEMA public TO "{role}"',
            f'GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO "{role}"',
            f'GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO "{role}"',
        )
        yield url.set(username=role).render_as_string(hide_password=False), role
    finally:
        await _admin_in(database, f'DROP OWNED BY "{role}"')
        await _admin_in("postgres", f'DROP ROLE IF EXISTS "{role}"')


async def _refuse_new_connections(role: str, limit: int) -> None:
    """Set ``role``'s connection limit (-1: none) and, when limiting, end its open sessions,
    so the daemon's next request must connect anew and is refused."""
    statements = [f'ALTER ROLE "{role}" CONNECTION LIMIT {limit}']
    if limit >= 0:
        statements.append(
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'"
        )
    await _admin_in("postgres", *statements)


async def test_a_server_out_of_connections_answers_503_and_the_room_recovers(
    tmp_path: Path, pg_url: str, limited_url: tuple[str, str]
) -> None:
    url, role = limited_url
    builder = RoomBuilder(tmp_path / "room", pg_url, daemon_db_url=url)
    async with builder.running() as room, room.client(Role.staff) as staff:
        assert (await staff.put("/api/v1/items/BOX-1", json=item_body())).status_code == 201

        await _refuse_new_connections(role, 0)
        read = await staff.get("/api/v1/items/BOX-1/location")
        write = await staff.put("/api/v1/items/BOX-2", json=item_body())
        for answer in (read, write):
            assert answer.status_code == 503, answer.text
            assert answer.headers["Retry-After"] == "5"
            assert "try again" in answer.json()["detail"]

        await _refuse_new_connections(role, -1)

        async def answers() -> bool:
            try:
                reply = await staff.get("/api/v1/items/BOX-1/location")
            except httpx.HTTPError:
                return False
            return reply.status_code == 200

        await eventually(answers, timeout=30, what="lookups answered again")
        assert (await staff.put("/api/v1/items/BOX-2", json=item_body())).status_code == 201
        assert (await staff.get("/api/v1/items/BOX-2")).status_code == 200


async def _connections(database: str) -> int:
    conn = await asyncpg.connect(admin_url(), timeout=5)
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 "
                "AND backend_type = 'client backend'",
                database,
            )
        )
    finally:
        await conn.close()


async def test_a_store_opens_no_more_connections_than_its_maximum(pg_url: str) -> None:
    database = str(make_url(pg_url).database)
    store = Store.connect(pg_url, max_connections=3)
    held: list[asyncio.Task[None]] = []
    release = asyncio.Event()
    entered = asyncio.Semaphore(0)

    async def hold() -> None:
        async with store.read() as conn:
            await conn.execute(text("SELECT 1"))
            entered.release()
            await release.wait()

    try:
        held = [asyncio.create_task(hold()) for _ in range(5)]
        for _ in range(3):
            await entered.acquire()
        assert await _connections(database) == 3
        await asyncio.sleep(0.3)  # room for a fourth connection to open, were it allowed
        assert await _connections(database) == 3
        assert sum(task.done() for task in held) == 0

        release.set()
        await asyncio.gather(*held)
        assert await _connections(database) <= 3
    finally:
        release.set()
        await asyncio.gather(*held, return_exceptions=True)
        await store.close()
