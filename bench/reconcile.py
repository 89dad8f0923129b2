"""Reconciliation of a million-item catalogue (docs/design.md §10: <= 60 s), with its peak memory.

For each database (a SQLite file, and a private database on the local PostgreSQL server) the
benchmark writes a room straight into the tables: ``--items`` catalogue records on 600
shelves, every one tagged except a few, one in ten a file inside a box, and a sprinkling of
each discrepancy class (misplaced, missing alarms, open loans of items still on a shelf,
files away from their box, catalogue copies whose key fields differ, unknown tags). Then a
fresh process (so its peak RSS is the run's alone) executes one reconciliation run through
``Reconciler``, exactly as the daemon does, and reports:

- ``{db}_reconcile``: seconds for the run, with items and tags checked;
- ``{db}_reconcile_peak_rss``: the peak resident memory of that process (MB), and
  ``{db}_reconcile_rss_before_run``: the same just before the run (libraries loaded);
- ``{db}_reconcile_rows``: discrepancy rows written, and the counts per class;
- ``{db}_prepare``: seconds to write the room (not part of the budget).

    python -m bench reconcile -- --items 1000000 [--db sqlite|postgresql|both] [--chunk N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from bench._rig import add_db_option, db_kinds, pg_admin, scratch_database
from daemon.audit import AuditChain
from daemon.bus import Bus
from daemon.ledger.uow import Ledger
from daemon.outbox import Outbox
from daemon.reconcile.runs import Reconciler
from daemon.store.db import Store
from daemon.store.schema import (
    alarms,
    catalogue_copies,
    item_locations,
    items,
    loans,
    locations,
    tag_sightings,
    tags,
)

ROOM = "bench"
SHELVES = 600
BATCH = 50_000
CATEGORIES = ("personnel", "social insurance", "labour arbitration", "pensions")


def _epc(i: int) -> str:
    return f"E2801170000002{i:010X}"


def _shape(i: int) -> str:
    """What item ``i`` is like: mostly ``ok``; every so often one of the discrepancies."""
    for every, what in (
        (211, "untagged"),
        (223, "misplaced"),
        (227, "missing"),
        (229, "on_loan_on_shelf"),
        (233, "file_outside_box"),
        (239, "key_field_mismatch"),
    ):
        if i % every == 0:
            return what
    return "ok"


async def prepare(url: str, n: int) -> None:
    store = Store.connect(url)
    try:
        await store.upgrade()
        async with store.write() as conn:
            await conn.execute(
                insert(locations),
                [
                    {
                        "code": f"{ROOM}-A-{s // 6 + 1:03d}-{s % 6 + 1:02d}",
                        "kind": "level",
                        "room": ROOM,
                        "name": "",
                        "coords": "{}",
                    }
                    for s in range(SHELVES)
                ],
            )
        for first in range(1, n + 1, BATCH):
            await _chunk(store, first, min(first + BATCH, n + 1))
        async with store.write() as conn:
            await conn.execute(
                insert(tag_sightings),
                [
                    {
                        "room": ROOM,
                        "epc": f"3000FFFF{k:016X}",
                        "location_id": k % SHELVES + 1,
                        "first_us": time.time_ns() // 1000,
                        "last_us": time.time_ns() // 1000,
                    }
                    for k in range(1000)
                ],
            )
    finally:
        await store.close()


async def _chunk(store: Store, lo: int, hi: int) -> None:
    """Items lo..hi-1 (ids equal their numbers: inserted in order into an empty table)."""
    now = time.time_ns() // 1000
    rows_items: list[dict[str, Any]] = []
    rows_tags: list[dict[str, Any]] = []
    rows_at: list[dict[str, Any]] = []
    rows_loans: list[dict[str, Any]] = []
    rows_alarms: list[dict[str, Any]] = []
    rows_copies: list[dict[str, Any]] = []
    for i in range(lo, hi):
        shape = _shape(i)
        home = i % SHELVES + 1
        is_file = i % 10 == 0
        box = i - 1 if is_file else None
        ref = f"0001-WS·{2000 + i % 25}-D30-RS-{i:07d}"
        rows_items.append(
            {
                "id": i,
                "ref": ref,
                "title": f"File {i}",
                "category": CATEGORIES[i % 4],
                "year": 2000 + i % 25,
                "retention": "D30",
                "kind": "file" if is_file else "box",
                "parent_ref": f"0001-WS·{2000 + box % 25}-D30-RS-{box:07d}" if box else None,
                "resident_id": f"11010519491231{i % 10000:04d}",
                "home_location_id": None if is_file else home,
                "created_us": now,
                "updated_us": now,
            }
        )
        if shape != "untagged":
            rows_tags.append(
                {
                    "epc": _epc(i),
                    "item_id": i,
                    "scheme": "foreign",
                    "bound_us": now,
                    "bound_by": "bench",
                }
            )
        at = (i - 1) % SHELVES + 1 if box else home
        if shape == "misplaced" and not is_file:
            at = (home + 7) % SHELVES + 1
        if shape == "file_outside_box" and is_file:
            at = (at + 3) % SHELVES + 1
        rows_at.append(
            {
                "item_id": i,
                "location_id": at,
                "since_us": now,
                "source": "shelf-read",
                "movement_id": 0,
            }
        )
        if shape == "on_loan_on_shelf":
            rows_loans.append(
                {
                    "item_id": i,
                    "borrower": "bench",
                    "purpose": "bench",
                    "due": "2099-01-01",
                    "opened_us": now,
                    "opened_by": "bench",
                }
            )
        if shape == "missing":
            rows_alarms.append(
                {
                    "key": f"item.missing:{_epc(i)}",
                    "kind": "item.missing",
                    "source": "shelf readers",
                    "severity": "warning",
                    "message": "bench",
                    "room": ROOM,
                    "subject": ref,
                    "raised_us": now,
                }
            )
        if i % 10 == 3 or shape == "key_field_mismatch":
            differs = shape == "key_field_mismatch"
            rows_copies.append(
                {
                    "ref": ref,
                    "resident_id": f"11010519491231{(i + differs) % 10000:04d}",
                    "approval_no": None,
                    "social_security_no": None,
                    "updated_us": now,
                    "updated_by": "bench",
                }
            )
    async with store.write() as conn:
        for table, rows in (
            (items, rows_items),
            (tags, rows_tags),
            (item_locations, rows_at),
            (loans, rows_loans),
            (alarms, rows_alarms),
            (catalogue_copies, rows_copies),
        ):
            if rows:
                await conn.execute(insert(table), rows)


def _memory_mb(field: str) -> float:
    """VmHWM (peak) or VmRSS of this process's own memory. Not ``ru_maxrss``: Linux carries
    that over from the parent across fork and exec, so it would report the data preparation."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def reconcile(url: str, chunk: int) -> dict[str, Any]:
    store = Store.connect(url)
    try:
        ledger = Ledger(store, AuditChain(ROOM), Outbox(store, site="b", room=ROOM), Bus())
        reconciler = Reconciler(ledger, chunk=chunk)
        before_mb = _memory_mb("VmHWM")
        started = time.perf_counter()
        run = await reconciler.reconcile(actor="bench")
        seconds = time.perf_counter() - started
    finally:
        await store.close()
    return {
        "seconds": seconds,
        "items": run.items_checked,
        "tags": run.tags_checked,
        "rows": run.discrepancies,
        "counts": run.counts,
        "peak_rss_mb": _memory_mb("VmHWM"),
        "rss_before_mb": before_mb,
    }


def run_one(kind: str, n: int, chunk: int) -> None:
    with scratch_database(kind) as db:
        started = time.perf_counter()
        asyncio.run(prepare(db.url, n))
        if db.pg_name:
            asyncio.run(pg_admin("ANALYZE", database=db.pg_name))
        print(f"{kind}_prepare: {time.perf_counter() - started:.1f} s for {n} items", flush=True)
        out = subprocess.run(
            [sys.executable, "-m", "bench.reconcile", "--child", db.url, str(chunk)],
            capture_output=True,
            text=True,
            check=True,
        )
        figures = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"{kind}_reconcile: {figures['seconds']:.1f} s for {figures['items']} items"
            f" and {figures['tags']} tags",
            flush=True,
        )
        print(f"{kind}_reconcile_peak_rss: {figures['peak_rss_mb']:.0f} MB", flush=True)
        print(
            f"{kind}_reconcile_rss_before_run: {figures['rss_before_mb']:.0f} MB"
            " (the process with its libraries loaded)",
            flush=True,
        )
        counts = " ".join(f"{k}={v}" for k, v in figures["counts"].items())
        print(f"{kind}_reconcile_rows: {figures['rows']} rows ({counts})", flush=True)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench reconcile")
    parser.add_argument("--items", type=int, default=1_000_000)
    add_db_option(parser)
    parser.add_argument("--chunk", type=int, default=10_000)
    args, _ = parser.parse_known_args(argv)
    for kind in db_kinds(args.db):
        run_one(kind, args.items, args.chunk)
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        result = asyncio.run(reconcile(sys.argv[2], int(sys.argv[3])))
        print(json.dumps(result))
        sys.exit(0)
    sys.exit(main(sys.argv[1:]))
