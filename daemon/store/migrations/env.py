"""Alembic environment: migrations run on a connection the store hands over (sync or async)."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from daemon.store.schema import is_declared_here, metadata


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,
        include_name=is_declared_here,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is None:
    from sqlalchemy import create_engine

    engine = create_engine(context.config.get_main_option("sqlalchemy.url") or "sqlite://")
    with engine.connect() as conn:
        run_migrations(conn)
else:
    run_migrations(connection)
