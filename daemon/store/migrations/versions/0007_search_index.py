"""search index: SQLite FTS5 trigram tables over items and tags, PostgreSQL pg_trgm indexes

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 04:45:00.000000

The console's search matches any part of a reference, a title or an EPC. A B-tree cannot serve "contains"; trigram indexes can. On SQLite the index is an
external-content FTS5 table per source table kept in step by triggers; on PostgreSQL it is a
GIN index with pg_trgm's operator class (the extension ships with Debian's PostgreSQL).
"""

# ruff: noqa
from collections.abc import Sequence

from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_UP = [
    "CREATE VIRTUAL TABLE items_fts USING fts5("
    "ref, title, content='items', content_rowid='id', tokenize='trigram')",
    "INSERT INTO items_fts(rowid, ref, title) SELECT id, ref, title FROM items",
    "CREATE TRIGGER items_fts_ai AFTER INSERT ON items BEGIN "
    "INSERT INTO items_fts(rowid, ref, title) VALUES (new.id, new.ref, new.title); END",
    "CREATE TRIGGER items_fts_ad AFTER DELETE ON items BEGIN "
    "INSERT INTO items_fts(items_fts, rowid, ref, title) "
    "VALUES ('delete', old.id, old.ref, old.title); END",
    "CREATE TRIGGER items_fts_au AFTER UPDATE OF ref, title ON items BEGIN "
    "INSERT INTO items_fts(items_fts, rowid, ref, title) "
    "VALUES ('delete', old.id, old.ref, old.title); "
    "INSERT INTO items_fts(rowid, ref, title) VALUES (new.id, new.ref, new.title); END",
    "CREATE VIRTUAL TABLE tags_fts USING fts5("
    "epc, content='tags', content_rowid='id', tokenize='trigram')",
    "INSERT INTO tags_fts(rowid, epc) SELECT id, epc FROM tags",
    "CREATE TRIGGER tags_fts_ai AFTER INSERT ON tags BEGIN "
    "INSERT INTO tags_fts(rowid, epc) VALUES (new.id, new.epc); END",
    "CREATE TRIGGER tags_fts_ad AFTER DELETE ON tags BEGIN "
    "INSERT INTO tags_fts(tags_fts, rowid, epc) VALUES ('delete', old.id, old.epc); END",
    "CREATE TRIGGER tags_fts_au AFTER UPDATE OF epc ON tags BEGIN "
    "INSERT INTO tags_fts(tags_fts, rowid, epc) VALUES ('delete', old.id, old.epc); "
    "INSERT INTO tags_fts(rowid, epc) VALUES (new.id, new.epc); END",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS tags_fts_au",
    "DROP TRIGGER IF EXISTS tags_fts_ad",
    "DROP TRIGGER IF EXISTS tags_fts_ai",
    "DROP TABLE IF EXISTS tags_fts",
    "DROP TRIGGER IF EXISTS items_fts_au",
    "DROP TRIGGER IF EXISTS items_fts_ad",
    "DROP TRIGGER IF EXISTS items_fts_ai",
    "DROP TABLE IF EXISTS items_fts",
]
POSTGRESQL_UP = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS ix_items_ref_trgm ON items USING gin (ref gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS ix_items_title_trgm ON items USING gin (title gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS ix_tags_epc_trgm ON tags USING gin (epc gin_trgm_ops)",
]
POSTGRESQL_DOWN = [
    "DROP INDEX IF EXISTS ix_tags_epc_trgm",
    "DROP INDEX IF EXISTS ix_items_title_trgm",
    "DROP INDEX IF EXISTS ix_items_ref_trgm",
]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_UP if dialect == "sqlite" else POSTGRESQL_UP:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_DOWN if dialect == "sqlite" else POSTGRESQL_DOWN:
        op.execute(statement)
