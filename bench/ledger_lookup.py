"""Catalogue import and location lookups at catalogue scale (docs/design.md §10).

For each database (SQLite file, and a private database on the local PostgreSQL server):
import N catalogue records through the real import path, place every item on a shelf, start
the daemon as its own process, then time location lookups over HTTP from this process:
single ``GET /items/{ref}/location`` requests and ``POST /locations/lookup`` batches of 1,000.
Also reports the daemon's start-up time and resident memory with the catalogue loaded.

    python -m bench ledger_lookup -- --items 1000000 [--db sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import signal
import subprocess
import sys
import time
import uuid

import httpx
from sqlalchemy import insert, select

from bench._rig import (
    add_db_option,
    db_kinds,
    free_port,
    lookup_latencies,
    rss_mb,
    scratch_database,
)
from daemon.audit import AuditChain
from daemon.bus import Bus
from daemon.config import load_config
from daemon.ledger.items import Catalogue, parse_rows
from daemon.ledger.uow import Ledger
from daemon.outbox import Outbox
from daemon.store.db import Store
from daemon.store.schema import item_locations, items, locations, tags
from daemon.tokens import Role, Tokens


def _ref(i: int) -> str:
    return f"0001-WS·{2000 + i % 25}-D30-RS-{i:07d}"


def _csv(n: int) -> str:
    lines = ["ref,title,category,year,retention,kind"]
    categories = ("personnel", "social insurance", "labour arbitration", "pensions")
    lines += [f"{_ref(i)},File {i},{categories[i % 4]},{2000 + i % 25},D30,box" for i in range(n)]
    return "\n".join(lines) + "\n"


async def _prepare(url: str, n: int) -> tuple[float, str]:
    store = Store.connect(url)
    try:
        await store.upgrade()
        ledger = Ledger(store, AuditChain("bench"), Outbox(store, site="b", room="bench"), Bus())
        started = time.perf_counter()
        report = await Catalogue(ledger).import_rows(parse_rows(_csv(n)), actor="bench")
        import_s = time.perf_counter() - started
        assert report.loaded == n, report.errors[:3]
        async with store.write() as conn:
            await conn.execute(
                insert(locations),
                [
                    {
                        "code": f"bench-A-{b:02d}-{lv:02d}",
                        "kind": "level",
                        "room": "bench",
                        "name": "",
                        "coords": "{}",
                    }
                    for b in range(1, 51)
                    for lv in range(1, 7)
                ],
            )
            loc_ids = (await conn.execute(select(locations.c.id))).scalars().all()
        for first in range(0, n, 50_000):
            async with store.write() as conn:
                ids = (
                    (
                        await conn.execute(
                            select(items.c.id)
                            .where(items.c.id > first)
                            .order_by(items.c.id)
                            .limit(50_000)
                        )
                    )
                    .scalars()
                    .all()
                )
                await conn.execute(
                    insert(tags),
                    [
                        {
                            "epc": f"E2801170{i:016X}",
                            "item_id": i,
                            "scheme": "foreign",
                            "bound_us": 1,
                            "bound_by": "bench",
                        }
                        for i in ids
                    ],
                )
                await conn.execute(
                    insert(item_locations),
                    [
                        {
                            "item_id": i,
                            "location_id": loc_ids[i % len(loc_ids)],
                            "since_us": 1,
                            "source": "manual",
                            "movement_id": 0,
                        }
                        for i in ids
                    ],
                )
        token = await Tokens(store).create(
            name=f"bench-{uuid.uuid4().hex[:6]}", role=Role.catalogue
        )
    finally:
        await store.close()
    return import_s, token


async def _measure(base: str, token: str, n: int, singles: int, batches: int) -> dict[str, float]:
    rng = random.Random(7)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
        return await lookup_latencies(
            client, lambda: _ref(rng.randrange(n)), singles=singles, batches=batches
        )


def run_one(kind: str, n: int, singles: int, batches: int) -> None:
    with scratch_database(kind) as db:
        import_s, token = asyncio.run(_prepare(db.url, n))
        print(
            f"{kind}_catalogue_import: {import_s:.1f} s for {n} rows ({n / import_s:,.0f} rows/s)",
            flush=True,
        )
        port = free_port()
        config = db.directory / "archroom.toml"
        # A shelf reader (never reachable here) makes the daemon load the shelf engine's
        # expectations for every tagged item, as in a real room.
        antennas = ", ".join(f'{a} = "bench-A-01-0{a}"' for a in range(1, 5))
        config.write_text(
            f'room = "bench"\nstate_dir = "{db.directory}"\n'
            f'[database]\nurl = "{db.url}"\n[api]\nport = {port}\n'
            f'[[readers]]\ntype = "uhfreader18"\nid = "shelf-1"\nurl = "socket://127.0.0.1:9"\n'
            f"antennas = {{ {antennas} }}\n"
        )
        load_config(config)
        started = time.perf_counter()
        log_path = db.directory / "daemon.log"
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "daemon", "run", "-c", str(config)], stderr=log
            )
        try:
            while True:
                try:
                    httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                    break
                except httpx.HTTPError:
                    if proc.poll() is not None:
                        raise RuntimeError("daemon exited") from None
                    time.sleep(0.05)
            startup = time.perf_counter() - started
            while "shelf engine expects" not in log_path.read_text(errors="replace"):
                if proc.poll() is not None:
                    raise RuntimeError("daemon exited")
                time.sleep(0.1)
            expectations = time.perf_counter() - started
            figures = asyncio.run(_measure(f"http://127.0.0.1:{port}", token, n, singles, batches))
            rss = rss_mb(proc.pid)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=15)
        print(f"{kind}_daemon_startup: {startup:.2f} s with {n} items", flush=True)
        print(
            f"{kind}_shelf_engine_loaded: {expectations:.2f} s after start ({n} tagged items)",
            flush=True,
        )
        print(f"{kind}_daemon_rss: {rss:.0f} MB with {n} items", flush=True)
        for name, value in figures.items():
            print(f"{kind}_location_{name}: {value:.2f} ms", flush=True)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench ledger_lookup")
    parser.add_argument("--items", type=int, default=1_000_000)
    add_db_option(parser)
    parser.add_argument("--singles", type=int, default=2000)
    parser.add_argument("--batches", type=int, default=100)
    args, _ = parser.parse_known_args(argv)
    for kind in db_kinds(args.db):
        run_one(kind, args.items, args.singles, args.batches)
    return 0
