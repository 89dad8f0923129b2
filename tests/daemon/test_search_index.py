"""The search index of migration 0007 on each database: built over the rows already there,
kept in step with them, and removed again by its downgrade."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Connection

from api.console.search import search_items
from daemon.store.db import Store, _alembic_config
from daemon.store.schema import items

EXPECTED = {"sqlite": 2, "postgresql": 3}
"""Two FTS5 tables (items, tags) on SQLite; three GIN indexes (ref, title, epc) on PostgreSQL."""
INDEX_OBJECTS = {
    "sqlite": "SELECT name FROM sqlite_master WHERE name IN ('items_fts', 'tags_fts')",
    "postgresql": "SELECT indexname FROM pg_indexes WHERE indexname LIKE '%\\_trgm'",
}


def _migrate(conn: Connection, how: str, revision: str) -> None:
    cfg = _alembic_config()
    cfg.attributes["connection"] = conn
    getattr(command, how)(cfg, revision)


async def _index_objects(store: Store) -> int:
    async with store.read() as conn:
        return len((await conn.execute(text(INDEX_OBJECTS[store.dialect]))).all())


async def test_the_index_is_built_over_existing_rows_and_removed_by_its_downgrade(
    store: Store,
) -> None:
    assert await _index_objects(store) == EXPECTED[store.dialect]
    async with store.write() as conn:
        await conn.run_sync(_migrate, "downgrade", "0007-1")
    assert await _index_objects(store) == 0
    async with store.write() as conn:
        await conn.execute(
            items.insert().values(
                ref="BOX-7",
                title="Wage arrears complaint",
                retention="D30",
                kind="box",
                created_us=1,
                updated_us=1,
            )
        )
        await conn.run_sync(_migrate, "upgrade", "head")
    assert await _index_objects(store) == EXPECTED[store.dialect]
    assert [h.ref for h in (await search_items(store, "arrears")).hits] == ["BOX-7"]
    async with store.write() as conn:
        await conn.execute(text("UPDATE items SET title = 'Pension transfer' WHERE ref = 'BOX-7'"))
    assert (await search_items(store, "arrears")).total == 0
    assert (await search_items(store, "pension tr")).total == 1
    async with store.write() as conn:
        await conn.execute(text("DELETE FROM items WHERE ref = 'BOX-7'"))
    assert (await search_items(store, "pension tr")).total == 0
