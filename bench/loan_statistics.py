"""Usage statistics at archive scale: a year of loans over a million items.

For each database (SQLite file, and a private database on the local PostgreSQL server):
import N catalogue records through the real import path (categories and retention classes
spread over them), add L loans opened over one year by a few thousand borrowers (most
returned, some late, some still out), then time, in this process, what
``GET /api/v1/statistics/loans`` and ``GET /api/v1/statistics/annual`` compute before they
answer: the year grouped by month, category, borrower and retention class, and the annual
return. Median of a few repetitions. HTTP is not included.

    python -m bench loan_statistics -- --items 1000000 --loans 200000 [--db sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from datetime import UTC, date, datetime

from sqlalchemy import insert, select, update

from bench._rig import add_db_option, db_kinds, pg_admin, scratch_database
from bench.ledger_lookup import _prepare
from daemon.ledger.usage import GROUPS, Usage, day_us
from daemon.store.db import Store
from daemon.store.schema import items, loans

DAY_US = 86_400_000_000
YEAR = 2025
BATCH = 50_000
CATEGORIES = ("personnel", "social insurance", "arbitration", "pension", "employment")


async def _add_loans(url: str, n_items: int, n_loans: int) -> None:
    store = Store.connect(url)
    rnd = random.Random(7)
    start = day_us(date(YEAR, 1, 1))
    out: set[int] = set()  # one open loan per item
    try:
        async with store.write() as conn:
            for k, category in enumerate(CATEGORIES):
                await conn.execute(
                    update(items)
                    .where(items.c.id % len(CATEGORIES) == k)
                    .values(category=category, created_us=start - 400 * DAY_US)
                )
        for first in range(0, n_loans, BATCH):
            rows = []
            for _ in range(first, min(first + BATCH, n_loans)):
                opened = start + rnd.randrange(365 * DAY_US)
                days = rnd.choice((3, 7, 14, 30, 45))
                item = rnd.randrange(1, n_items + 1)
                returned: int | None = opened + rnd.randrange(1, 40) * DAY_US
                if rnd.random() < 0.1 and item not in out:
                    out.add(item)
                    returned = None
                due = datetime.fromtimestamp((opened + days * DAY_US) // 1_000_000, tz=UTC)
                rows.append(
                    {
                        "item_id": item,
                        "borrower": f"borrower-{rnd.randrange(5000)}",
                        "purpose": "bench",
                        "due": due.date().isoformat(),
                        "opened_us": opened,
                        "opened_by": "bench",
                        "returned_us": returned,
                    }
                )
            async with store.write() as conn:
                await conn.execute(insert(loans), rows)
        async with store.write() as conn:  # as a check-out writes them
            await conn.execute(
                update(loans).values(
                    category=select(items.c.category)
                    .where(items.c.id == loans.c.item_id)
                    .scalar_subquery(),
                    retention=select(items.c.retention)
                    .where(items.c.id == loans.c.item_id)
                    .scalar_subquery(),
                )
            )
    finally:
        await store.close()


async def _measure(url: str, repeat: int) -> dict[str, float]:
    store = Store.connect(url)
    usage = Usage(store)
    figures: dict[str, float] = {}
    try:
        for name in (*GROUPS, "annual"):
            times = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                if name == "annual":
                    await usage.annual(YEAR)
                else:
                    await usage.loans(date(YEAR, 1, 1), date(YEAR + 1, 1, 1), name)  # type: ignore[arg-type]
                times.append((time.perf_counter() - t0) * 1000)
            figures[name] = statistics.median(times)
    finally:
        await store.close()
    return figures


def run_one(kind: str, n_items: int, n_loans: int, repeat: int) -> None:
    with scratch_database(kind) as db:
        asyncio.run(_prepare(db.url, n_items))
        asyncio.run(_add_loans(db.url, n_items, n_loans))
        if db.pg_name:
            # as autovacuum leaves a table after a bulk load (PostgreSQL 13+ vacuums after
            # inserts too): statistics, and a visibility map that lets an index-only scan skip
            # the table
            asyncio.run(pg_admin("VACUUM (ANALYZE)", database=db.pg_name))
        for name, ms in asyncio.run(_measure(db.url, repeat)).items():
            print(
                f"{kind}_loan_statistics_{name}: {ms:.1f} ms ({n_loans} loans, {n_items} items)",
                flush=True,
            )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench loan_statistics")
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--loans", type=int, default=200_000)
    add_db_option(parser)
    parser.add_argument("--repeat", type=int, default=3)
    args, _ = parser.parse_known_args(argv)
    for kind in db_kinds(args.db):
        run_one(kind, args.items, args.loans, args.repeat)
    return 0
