"""The search indexes of migrations 0007 and 0015 on each database: built over the rows already
there, kept in step with them, and removed again by their downgrades; and the index of where
reference words start (0015, PostgreSQL) holding what the search asks it for."""

from __future__ import annotations

import random

from alembic import command
from sqlalchemy import Text, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection

from api.console.search import search_items, word_query
from daemon.store.db import Store, _alembic_config
from daemon.store.schema import items, tags
from tests.support.ref_words import SEPARATORS, ref_words

EXPECTED = {"sqlite": 2, "postgresql": 4}
"""Two FTS5 tables (items, tags) on SQLite; four GIN indexes on PostgreSQL: three of pg_trgm
(ref, title, epc) and one of where reference words start."""
INDEX_OBJECTS = {
    "sqlite": "SELECT name FROM sqlite_master WHERE name IN ('items_fts', 'tags_fts')",
    "postgresql": "SELECT indexname FROM pg_indexes "
    "WHERE indexname LIKE '%\\_trgm' OR indexname = 'ix_items_ref_words'",
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
        await conn.execute(text("UPDATE items SET ref = 'BOX-0012' WHERE ref = 'BOX-7'"))
    assert word_query("X-0012") is not None  # asked of the index of words on PostgreSQL
    assert [h.ref for h in (await search_items(store, "X-0012")).hits] == ["BOX-0012"]
    async with store.write() as conn:
        await conn.execute(text("DELETE FROM items WHERE ref = 'BOX-0012'"))
    assert (await search_items(store, "pension tr")).total == 0


async def _catalogue(store: Store, refs_epcs: list[tuple[str, str, str | None]]) -> None:
    async with store.write() as conn:
        for ref, title, epc in refs_epcs:
            item_id = (
                await conn.execute(
                    items.insert()
                    .values(
                        ref=ref,
                        title=title,
                        retention="D30",
                        kind="box",
                        created_us=1,
                        updated_us=1,
                    )
                    .returning(items.c.id)
                )
            ).scalar_one()
            if epc is not None:
                await conn.execute(
                    tags.insert().values(
                        epc=epc, item_id=item_id, scheme="foreign", bound_us=1, bound_by="test"
                    )
                )


async def test_a_broad_text_is_ranked_paged_and_counted_from_the_items_that_contain_it_whole(
    store: Store,
) -> None:
    """The index is asked for one word of ``RS-0012`` only; items holding that word elsewhere
    (``0012`` in a fonds, after other letters) are no hits, and the page and the total say so."""
    rows: list[tuple[str, str, str | None]] = [
        (f"0012-WS·2023-D30-RS-{n:04d}", f"Box {n}", f"E280117000000000000{n:05X}")
        for n in range(1, 6)
    ]
    rows += [(f"0001-WS·2023-D30-XS-0012{n}", "Other series", None) for n in range(3)]
    rows += [(f"0001-WS·2023-D30-RS-0012{n}", "Wanted", None) for n in (7, 5, 6)]
    rows += [("RS-0012", "The series' own box", None), ("rs-00123", "Typed in lower case", None)]
    await _catalogue(store, rows)
    first = await search_items(store, "RS-0012", limit=2)
    assert first.total == 5
    assert [h.ref for h in first.hits] == ["RS-0012", "rs-00123"]  # exact, then starts with
    rest = await search_items(store, "rs-0012", limit=2, offset=2)
    assert rest.total == 5
    assert [h.ref for h in rest.hits] == [
        "0001-WS·2023-D30-RS-00125",
        "0001-WS·2023-D30-RS-00126",
    ]
    past = await search_items(store, "RS-0012", limit=2, offset=10)
    assert (past.total, past.hits) == (5, [])


async def test_an_exact_epc_comes_first_and_every_hit_names_its_active_tag(
    store: Store,
) -> None:
    rows: list[tuple[str, str, str | None]] = [
        ("BOX-2", "Second", "E2801170000000000000ABC1"),
        ("BOX-1", "First", "E2801170000000000000ABC10"),
        ("BOX-3", "No tag", None),
    ]
    await _catalogue(store, rows)
    found = await search_items(store, "e280 1170 0000 0000 0000 ABC1")
    assert found.total == 2
    assert [(h.ref, h.epc, h.matched) for h in found.hits] == [
        ("BOX-2", "E2801170000000000000ABC1", "epc"),
        ("BOX-1", "E2801170000000000000ABC10", "epc"),
    ]
    by_title = await search_items(store, "NO TAG")
    assert [(h.ref, h.epc, h.matched) for h in by_title.hits] == [("BOX-3", None, "title")]


def _reference(rng: random.Random) -> str:
    return "".join(
        "".join(rng.choices("0a9Zx", k=rng.randint(1, 5))) + rng.choice(SEPARATORS)
        for _ in range(rng.randint(0, 6))
    )


async def test_the_index_of_words_holds_what_the_search_asks_of_it(pg_url: str) -> None:
    """``ref_words`` in the database indexes what its Python model says, and for text cut from
    a reference (in either case) the query the search builds finds that reference."""
    rng = random.Random(15)
    refs = [_reference(rng) for _ in range(400)] + ["0001-WS·2023-D30-RS-0012345", "-0012", ""]
    cases = []
    for ref in refs:
        for _ in range(5):
            start = rng.randrange(len(ref) + 1)
            cut = ref[start : start + rng.randint(2, 20)]
            query = word_query(cut.upper() if rng.random() < 0.5 else cut)
            if query is not None:
                cases.append((ref, query))
    assert len(cases) > 200  # the search asks the index for many of them
    store = Store.connect(pg_url)
    try:
        async with store.read() as conn:
            indexed = (
                await conn.execute(
                    text(
                        "SELECT r, tsvector_to_array(ref_words(r)) FROM unnest(:refs) AS r"
                    ).bindparams(bindparam("refs", refs, type_=ARRAY(Text)))
                )
            ).all()
            missed = (
                await conn.execute(
                    text(
                        "SELECT r, q FROM unnest(:refs, :queries) AS c (r, q) "
                        "WHERE NOT ref_words(r) @@ CAST(q AS tsquery)"
                    ).bindparams(
                        bindparam("refs", [r for r, _ in cases], type_=ARRAY(Text)),
                        bindparam("queries", [q for _, q in cases], type_=ARRAY(Text)),
                    )
                )
            ).all()
    finally:
        await store.close()
    assert {ref: set(lexemes) for ref, lexemes in indexed} == {ref: ref_words(ref) for ref in refs}
    assert missed == []
