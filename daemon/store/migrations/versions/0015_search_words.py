"""search: an index of where the words of each item's reference start, on PostgreSQL

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 12:00:00.000000

pg_trgm (migration 0007) knows which trigrams a reference holds, not where: ``RS-0012`` asks
for ``001`` and ``012``, and every reference of 2012 in fonds ``0001`` holds both. This index
knows where words start. A word is a run of ASCII letters and digits of the lower-cased
reference; each word that follows a separator is indexed as ``<last character of the word
before>-<the word>`` (``-<the word>`` when the reference starts with the separator; at most 64
characters kept), so ``RS-0012`` asks for the references with a word that starts with ``0012``
right after a word that ends in ``s``. A tsvector built from these strings
(``array_to_tsvector``: no parser, no dictionary) and GIN serve an exact or a prefix match of
one of them (``api/console/search.py``). Titles keep pg_trgm. SQLite's FTS5 trigram index
checks positions itself and gets nothing here.
"""

# ruff: noqa
from collections.abc import Sequence

from alembic import op


revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POSTGRESQL_UP = [
    """
    CREATE OR REPLACE FUNCTION ref_words(ref text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
      WITH words AS (
        SELECT i, word, lag(word) OVER (ORDER BY i) AS before
        FROM regexp_split_to_table(lower(ref), '[^0-9a-z]+') WITH ORDINALITY AS s (word, i)
      )
      SELECT array_to_tsvector(coalesce(array_agg(DISTINCT lexeme), '{}'))
      FROM (
        SELECT right(before, 1) || '-' || left(word, 62) AS lexeme FROM words
        WHERE i > 1 AND word <> ''
      ) AS lexemes
    $$
    """,
    "CREATE INDEX IF NOT EXISTS ix_items_ref_words ON items USING gin (ref_words(ref))",
]
POSTGRESQL_DOWN = [
    "DROP INDEX IF EXISTS ix_items_ref_words",
    "DROP FUNCTION IF EXISTS ref_words(text)",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRESQL_UP:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRESQL_DOWN:
            op.execute(statement)
