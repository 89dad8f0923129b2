"""The EPCIS export's time-window queries at catalogue scale.

For each database (SQLite file, and a private database on the local PostgreSQL server):
import N catalogue records with a tag each through the real import path, then add one
shelf movement per item and a loan (opened and returned) for every fifth item, spread over a
year. Then time, in this process, what ``GET /api/v1/epcis/events`` does before it answers:
gather the room's events in a window from the records (limit 1,000) and build the EPCIS 2.0
document. Median of a few repetitions per window: one hour, one day, and one item over the
whole year. HTTP is not included (the location lookup benchmark covers the API's own cost).

    python -m bench epcis_window -- --items 1000000 [--db sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time

from sqlalchemy import insert, select

from bench._rig import add_db_option, db_kinds, pg_admin, scratch_database
from bench.ledger_lookup import _prepare, _ref
from daemon.reconcile.epcis import EventSource, Window, document
from daemon.store.db import Store
from daemon.store.schema import loans, locations, movements

DAY_US = 86_400_000_000
T0_US = 1_750_000_000_000_000
ROOM = "bench"
BATCH = 50_000


async def _add_history(url: str, n: int) -> None:
    store = Store.connect(url)
    try:
        async with store.read() as conn:
            locs = (await conn.execute(select(locations.c.id))).scalars().all()
        rnd = random.Random(1)
        for first in range(1, n + 1, BATCH):
            ids = range(first, min(first + BATCH, n + 1))
            async with store.write() as conn:
                await conn.execute(
                    insert(movements),
                    [
                        {
                            "item_id": i,
                            "to_location_id": locs[i % len(locs)],
                            "at_us": T0_US + rnd.randrange(365 * DAY_US),
                            "source": "shelf-read",
                            "room": ROOM,
                            "actor": "bench",
                        }
                        for i in ids
                    ],
                )
                await conn.execute(
                    insert(loans),
                    [
                        {
                            "item_id": i,
                            "borrower": "bench",
                            "purpose": "bench",
                            "due": "2026-12-31",
                            "opened_us": T0_US + rnd.randrange(365 * DAY_US),
                            "opened_by": "bench",
                            "returned_us": T0_US + rnd.randrange(365 * DAY_US),
                        }
                        for i in ids
                        if i % 5 == 0
                    ],
                )
    finally:
        await store.close()


async def _measure(url: str, n: int, repeat: int) -> dict[str, tuple[float, int]]:
    store = Store.connect(url)
    source = EventSource(store, ROOM)
    windows = {
        "1h": Window(T0_US + 100 * DAY_US, T0_US + 100 * DAY_US + DAY_US // 24),
        "1d": Window(T0_US + 100 * DAY_US, T0_US + 101 * DAY_US),
        "one_item_1y": Window(T0_US, T0_US + 365 * DAY_US, ref=_ref(n // 2)),
    }
    figures: dict[str, tuple[float, int]] = {}
    try:
        for name, window in windows.items():
            times: list[float] = []
            count = 0
            for _ in range(repeat):
                started = time.perf_counter()
                events, _more = await source.events(window, limit=1000)
                document(events, site="b", room=ROOM, created_us=T0_US).json_ld()
                times.append((time.perf_counter() - started) * 1000)
                count = len(events)
            figures[name] = (statistics.median(times), count)
    finally:
        await store.close()
    return figures


def run_one(kind: str, n: int, repeat: int) -> None:
    with scratch_database(kind) as db:
        asyncio.run(_prepare(db.url, n))
        asyncio.run(_add_history(db.url, n))
        if db.pg_name:
            asyncio.run(pg_admin("ANALYZE", database=db.pg_name))
        for name, (ms, count) in asyncio.run(_measure(db.url, n, repeat)).items():
            print(f"{kind}_epcis_{name}: {ms:.1f} ms ({count} events, {n} items)", flush=True)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench epcis_window")
    parser.add_argument("--items", type=int, default=1_000_000)
    add_db_option(parser)
    parser.add_argument("--repeat", type=int, default=5)
    args, _ = parser.parse_known_args(argv)
    for kind in db_kinds(args.db):
        run_one(kind, args.items, args.repeat)
    return 0
