from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg

from daemon.store.db import SchemaError, Store, parse_url, schema_head


async def test_unmigrated_database_is_refused_with_the_command_to_run(tmp_path: Path) -> None:
    store = Store.connect(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    try:
        with pytest.raises(SchemaError, match=r"run: archroom db upgrade -c x\.toml"):
            await store.check_schema("archroom db upgrade -c x.toml")
    finally:
        await store.close()


async def test_newer_schema_is_refused(store: Store) -> None:
    await store.check_schema("unused")
    async with store.write() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(SchemaError, match="newer than this archroom"):
        await store.check_schema("unused")


async def test_upgrade_is_idempotent(store: Store) -> None:
    before, after = await store.upgrade()
    assert before == after == schema_head()


async def test_sqlite_runs_with_wal_foreign_keys_and_full_sync(sqlite_url: str) -> None:
    store = Store.connect(sqlite_url)
    try:
        async with store.read() as conn:
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
            assert (await conn.execute(text("PRAGMA synchronous"))).scalar() == 2
        assert await store.integrity_check() == "ok"
    finally:
        await store.close()


async def test_the_migrations_build_exactly_the_schema_the_code_declares(store: Store) -> None:
    """A column, index or constraint added to ``schema.py`` without its migration (or the
    other way round) is reported here, on each database."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy.engine import Connection

    from daemon.store.schema import is_declared_here, metadata

    def differences(conn: Connection) -> list[object]:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_name": is_declared_here}
        )
        return list(compare_metadata(context, metadata))

    async with store.read() as conn:
        assert await conn.run_sync(differences) == []


def test_libpq_host_list_becomes_the_host_parameters_asyncpg_tries_in_order() -> None:
    url = parse_url(
        "postgresql+asyncpg://archroom:pw@db1:5432,db2:5433/archive?target_session_attrs=read-write"
    )
    assert url.host is None
    assert url.database == "archive"
    assert url.username == "archroom"
    assert url.password == "pw"
    assert url.query == {
        "host": ("db1:5432", "db2:5433"),
        "target_session_attrs": "read-write",
    }
    dialect = PGDialect_asyncpg()  # type: ignore[no-untyped-call]
    _, kwargs = dialect.create_connect_args(url)  # type: ignore[no-untyped-call]
    assert kwargs["host"] == ["db1", "db2"]
    assert kwargs["port"] == [5432, 5433]
    assert kwargs["target_session_attrs"] == "read-write"


def test_single_host_urls_are_left_as_they_are() -> None:
    for plain in ("postgresql+asyncpg://u@db1:5432/archive", "sqlite+aiosqlite:///x/archroom.db"):
        assert parse_url(plain).render_as_string(hide_password=False) == plain


def test_an_empty_host_in_the_list_is_refused() -> None:
    with pytest.raises(ValueError, match="empty host"):
        parse_url("postgresql+asyncpg://u@db1:5432,,db2:5432/archive")
