"""The console's search at catalogue scale, served by its trigram index (migration 0007) and,
on PostgreSQL, the index of where reference words start (migration 0015).

For each database (SQLite file, and a private database on the local PostgreSQL server): load N
catalogue records, each with an active tag, build the search index exactly as the migration
does (dropped during the bulk load, created over the loaded rows: the way an existing
catalogue meets the migration), start the daemon as its own process, then time
``GET /api/v1/search`` over HTTP from this process for what a desk types or scans:

- ``ref``: a whole reference, as a barcode scanner types it;
- ``number``: the running number of a reference (7 digits);
- ``epc``: a whole EPC, as an RFID wedge reader types it;
- ``epc_tail``: the last 8 hex digits of an EPC, read off a tag;
- ``title``: a word and number of a title;
- ``broad``: a reference fragment shared by 1,000 items (one page of 50, and the total).

    python -m bench search -- --items 1000000 [--db sqlite|postgresql|both] [--queries 200]
                              [--keep NAME]

``--keep NAME`` (PostgreSQL) loads into the database ``NAME`` and leaves it there; a later run
with the same name and ``--items`` finds it loaded and only brings its schema up to date, so
the daemon's search can be timed again in seconds instead of loading a million items anew.

Prints p50, p95 and p99 per kind of query and over all of them (budget: p99 at most 50 ms), and
the same for ``GET /api/v1/session`` (``baseline``: token check and HTTP, no search) asked in
between, so that what the machine's load adds to every request can be told from the search.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import random
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable

import httpx
from sqlalchemy import func, insert, select, text

from bench._rig import (
    add_db_option,
    db_kinds,
    free_port,
    kept_database,
    percentile,
    scratch_database,
)
from bench.ledger_lookup import _ref
from daemon.config import load_config
from daemon.store.db import Store
from daemon.store.schema import items, tags
from daemon.tokens import Role, Tokens

CHUNK = 50_000
trigrams = importlib.import_module("daemon.store.migrations.versions.0007_search_index")
words = importlib.import_module("daemon.store.migrations.versions.0015_search_words")


def _epc(i: int) -> str:
    return f"E2801170{i:016X}"


async def _loaded(store: Store, n: int) -> bool:
    """The database holds the bench's ``n`` items and tags already (a kept one)."""
    async with store.read() as conn:
        last = await conn.scalar(select(func.max(items.c.id)))
        epc = await conn.scalar(select(tags.c.epc).where(tags.c.item_id == n))
    return last == n and epc == _epc(n)


async def _prepare(url: str, n: int) -> tuple[float | None, str]:
    """Load ``n`` items (unless they are there) and a staff token: the index build's time
    (None when the items were there already) and the token."""
    store = Store.connect(url)
    try:
        await store.upgrade()
        if await _loaded(store, n):
            token = await Tokens(store).create(
                name=f"bench-{uuid.uuid4().hex[:6]}", role=Role.staff
            )
            return None, token
        up, down = (
            (trigrams.SQLITE_UP, trigrams.SQLITE_DOWN)
            if store.dialect == "sqlite"
            else (
                trigrams.POSTGRESQL_UP + words.POSTGRESQL_UP,
                words.POSTGRESQL_DOWN + trigrams.POSTGRESQL_DOWN,
            )
        )
        async with store.write() as conn:
            for statement in down:
                await conn.execute(text(statement))
        categories = ("personnel", "social insurance", "labour arbitration", "pensions")
        for first in range(0, n, CHUNK):
            ids = range(first + 1, min(n, first + CHUNK) + 1)
            async with store.write() as conn:
                await conn.execute(
                    insert(items),
                    [
                        {
                            "id": i,
                            "ref": _ref(i),
                            "title": f"File {i} {categories[i % 4]} 档案 {i % 997}",
                            "category": categories[i % 4],
                            "year": 2000 + i % 25,
                            "retention": "D30",
                            "kind": "box",
                            "created_us": 1,
                            "updated_us": 1,
                        }
                        for i in ids
                    ],
                )
                await conn.execute(
                    insert(tags),
                    [
                        {
                            "epc": _epc(i),
                            "item_id": i,
                            "scheme": "foreign",
                            "bound_us": 1,
                            "bound_by": "bench",
                        }
                        for i in ids
                    ],
                )
        started = time.perf_counter()
        async with store.write() as conn:
            for statement in up:
                await conn.execute(text(statement))
            if store.dialect == "postgresql":
                await conn.execute(text("ANALYZE items"))
                await conn.execute(text("ANALYZE tags"))
        index_s = time.perf_counter() - started
        token = await Tokens(store).create(name=f"bench-{uuid.uuid4().hex[:6]}", role=Role.staff)
    finally:
        await store.close()
    return index_s, token


def _queries(n: int) -> dict[str, Callable[[random.Random], tuple[str, int]]]:
    """Kind of query -> (text, how many items it must find at least)."""

    def broad(rng: random.Random) -> tuple[str, int]:
        i = rng.randrange(1000, n // 1000 * 1000)  # a whole thousand: 1,000 references share it
        return f"RS-{i // 1000:04d}", 1000

    return {
        "ref": lambda rng: (_ref(rng.randrange(1, n + 1)), 1),
        "number": lambda rng: (f"{rng.randrange(1, n + 1):07d}", 1),
        "epc": lambda rng: (_epc(rng.randrange(1, n + 1)), 1),
        "epc_tail": lambda rng: (_epc(rng.randrange(1, n + 1))[-8:], 1),
        "title": lambda rng: (f"File {rng.randrange(n // 10, n + 1)}", 1),
        "broad": broad,
    }


async def _measure(base: str, token: str, n: int, per_kind: int) -> dict[str, list[float]]:
    rng = random.Random(7)
    kinds = _queries(n)
    times: dict[str, list[float]] = {kind: [] for kind in kinds}
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
        for _ in range(30):  # warm-up: connection, token cache, page cache
            q, _ = kinds["ref"](rng)
            await client.get("/api/v1/search", params={"q": q})
        order = [kind for kind in (*kinds, "baseline") for _ in range(per_kind)]
        rng.shuffle(order)
        times["baseline"] = []
        for kind in order:
            if kind == "baseline":
                t0 = time.perf_counter()
                r = await client.get("/api/v1/session")
                times[kind].append(time.perf_counter() - t0)
                assert r.status_code == 200, r.text
                continue
            q, least = kinds[kind](rng)
            t0 = time.perf_counter()
            r = await client.get("/api/v1/search", params={"q": q})
            times[kind].append(time.perf_counter() - t0)
            assert r.status_code == 200, r.text
            total = int(r.headers["x-total-count"])
            assert total >= least, (kind, q, total)
            if kind in ("ref", "epc"):
                assert r.json()[0]["ref"] == _ref(int(q[-7:]) if kind == "ref" else int(q[8:], 16))
    return times


def run_one(kind: str, n: int, per_kind: int, keep: str | None = None) -> None:
    with kept_database(keep) if keep and kind == "postgresql" else scratch_database(kind) as db:
        started = time.perf_counter()
        index_s, token = asyncio.run(_prepare(db.url, n))
        load_s = time.perf_counter() - started
        if index_s is None:
            print(f"{kind}_search_load: kept database {keep} holds {n} items already", flush=True)
        else:
            print(f"{kind}_search_load: {load_s:.1f} s for {n} items and tags", flush=True)
            print(f"{kind}_search_index_build: {index_s:.1f} s over {n} items", flush=True)
        port = free_port()
        config = db.directory / "archroom.toml"
        config.write_text(
            f'room = "bench"\nstate_dir = "{db.directory}"\n'
            f'[database]\nurl = "{db.url}"\n[api]\nport = {port}\n'
        )
        load_config(config)
        log_path = db.directory / "daemon.log"
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "daemon", "run", "-c", str(config)], stderr=log
            )
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                    break
                except httpx.HTTPError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(log_path.read_text()[-2000:]) from None
                    time.sleep(0.05)
            times = asyncio.run(_measure(f"http://127.0.0.1:{port}", token, n, per_kind))
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=15)
        every = [t for kind, values in times.items() if kind != "baseline" for t in values]
        for name, values in (*times.items(), ("all", every)):
            p50 = statistics.median(values) * 1000
            p95 = percentile(values, 95) * 1000
            p99 = percentile(values, 99) * 1000
            print(f"{kind}_search_{name}_p50: {p50:.2f} ms", flush=True)
            print(f"{kind}_search_{name}_p95: {p95:.2f} ms", flush=True)
            print(f"{kind}_search_{name}_p99: {p99:.2f} ms", flush=True)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench search")
    parser.add_argument("--items", type=int, default=1_000_000)
    add_db_option(parser)
    parser.add_argument("--queries", type=int, default=200, help="per kind of query")
    parser.add_argument(
        "--keep", metavar="NAME", help="PostgreSQL: load into database NAME once and keep it"
    )
    args, _ = parser.parse_known_args(argv)
    if args.items < 2000:
        parser.error("--items must be at least 2000: a broad query asks for 1,000 of them")
    for kind in db_kinds(args.db):
        run_one(kind, args.items, args.queries, args.keep)
    return 0
