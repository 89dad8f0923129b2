"""Many room daemons on one PostgreSQL: write rate, lookups across rooms, database size.

A bureau runs one daemon per room against one shared database. This benchmark seeds a
catalogue spread over N rooms straight into a scratch database on the local PostgreSQL server
(items, their tags and their current places: what a room's records hold per item), measures
the bytes that takes, then starts the N daemons as their own processes (API only, no devices)
and:

- drives manual moves (each one a movement, the item's place, an audit entry and an outbox row
  in one transaction) through one room's API alone, then through all N rooms' APIs at once,
  one client per room writing back to back: the write rate per room and in total;
- times location lookups (single ``GET /items/{ref}/location`` and ``POST
  /locations/lookup`` batches of 1,000 refs from every room) through one daemon while the
  others run;
- measures the bytes per movement (movements and audit entries with their indexes).

The load generator runs on the same machine as the daemons and the database, so the figures
are those of one machine doing everything.

The catalogue is seeded with ``INSERT ... SELECT`` from ``generate_series`` in the server (no
rows travel; the import path, at a few thousand records a second, would take hours for ten
million), with the secondary indexes of the seeded tables dropped first and built again after
(one sort each instead of ten million insertions into a B-tree or a trigram index).
``--skip-writes`` leaves out the write phases and the movement measurement: the catalogue's
size and the lookups alone, for the largest catalogues.

    python -m bench ha_scale -- --rooms 20 --items 1000000 --seconds 20
    python -m bench ha_scale -- --rooms 20 --items 10000000 --skip-writes
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx

from bench._rig import PG_ADMIN, free_port, percentile, scratch_database, stop
from daemon.store.db import Store
from daemon.tokens import Role, Scope, Tokens

BAYS, LEVELS = 50, 6


def room_id(r: int) -> str:
    return f"r{r:02d}"


def item_ref(room: str, i: int) -> str:
    return f"0001-WS-D30-{room}-{i:09d}"


def location_code(room: str, bay: int, level: int) -> str:
    return f"{room}-A-{bay:02d}-{level:02d}"


async def _relation_bytes(conn: asyncpg.Connection, tables: list[str]) -> int:
    return int(
        await conn.fetchval(
            "SELECT sum(pg_total_relation_size(t::regclass)) FROM unnest($1::text[]) AS t",
            tables,
        )
    )


ITEM_TABLES = ["items", "tags", "item_locations"]


async def _database_bytes(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval("SELECT pg_database_size(current_database())"))
    finally:
        await conn.close()


MOVEMENT_TABLES = ["movements", "audit"]


async def seed(dsn: str, url: str, rooms: int, per_room: int) -> tuple[str, float, int]:
    """Migrate, seed the catalogue; return a staff token, the seeding time, the item bytes."""
    store = Store.connect(url)
    try:
        await store.upgrade()
        # bureau scope: the lookups ask one daemon for items of every room
        token = await Tokens(store).create(
            name=f"bench-{uuid.uuid4().hex[:6]}", role=Role.admin, scope=Scope.bureau
        )
    finally:
        await store.close()
    conn = await asyncpg.connect(dsn)
    try:
        started = time.perf_counter()
        rebuild = await _drop_secondary_indexes(conn, ITEM_TABLES)
        for r in range(rooms):
            room = room_id(r)
            await conn.executemany(
                "INSERT INTO locations (code, kind, room, name, coords)"
                " VALUES ($1, 'level', $2, '', '{}')",
                [
                    (location_code(room, b, lv), room)
                    for b in range(1, BAYS + 1)
                    for lv in range(1, LEVELS + 1)
                ],
            )
            first_loc = await conn.fetchval("SELECT min(id) FROM locations WHERE room = $1", room)
            before = int(await conn.fetchval("SELECT coalesce(max(id), 0) FROM items"))
            await conn.execute(
                "INSERT INTO items (ref, title, category, year, retention, kind,"
                " created_us, updated_us)"
                " SELECT format('0001-WS-D30-%s-%s', $1::text, lpad(g::text, 9, '0')),"
                " 'File ' || g, 'personnel', 2000 + g % 25, 'D30', 'box', 1, 1"
                " FROM generate_series(0, $2::int - 1) AS g",
                room,
                per_room,
            )
            after = int(await conn.fetchval("SELECT max(id) FROM items"))
            await conn.execute(
                "INSERT INTO tags (epc, item_id, scheme, bound_us, bound_by)"
                " SELECT lpad(to_hex(i.id), 24, '0'), i.id, 'foreign', 1, 'bench'"
                " FROM items i WHERE i.id > $1 AND i.id <= $2",
                before,
                after,
            )
            await conn.execute(
                "INSERT INTO item_locations (item_id, location_id, since_us, source,"
                " movement_id)"
                " SELECT i.id, $3::bigint + i.id % $4::int, 1, 'manual', 0"
                " FROM items i WHERE i.id > $1 AND i.id <= $2",
                before,
                after,
                first_loc,
                BAYS * LEVELS,
            )
        await conn.execute("SET maintenance_work_mem = '512MB'")
        for statement in rebuild:
            await conn.execute(statement)
        await conn.execute("VACUUM ANALYZE")
        seconds = time.perf_counter() - started
        return token, seconds, await _relation_bytes(conn, ITEM_TABLES)
    finally:
        await conn.close()


async def _drop_secondary_indexes(conn: asyncpg.Connection, tables: list[str]) -> list[str]:
    """Drop the indexes of ``tables`` that back no constraint; return the statements that
    build them again."""
    rows = await conn.fetch(
        "SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def"
        " FROM pg_index i"
        " WHERE i.indrelid = ANY(SELECT unnest($1::text[])::regclass)"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
        tables,
    )
    for row in rows:
        await conn.execute(f"DROP INDEX {row['name']}")
    return [str(row["def"]) for row in rows]


@dataclass
class Daemon:
    room: str
    port: int
    proc: subprocess.Popen[bytes]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def start_daemons(directory: Path, url: str, rooms: range) -> list[Daemon]:
    started = []
    for r in rooms:
        room = room_id(r)
        state = directory / room
        state.mkdir(parents=True, exist_ok=True)
        port = free_port()
        config = state / "archroom.toml"
        config.write_text(
            f'room = "{room}"\nstate_dir = "{state}"\n[site]\nid = "bench"\n'
            f'[database]\nurl = "{url}"\n[api]\nport = {port}\n'
            f'[[rooms]]\nid = "{room}"\nclass = "paper"\n'
        )
        with (state / "daemon.log").open("wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "daemon", "run", "-c", str(config)], stderr=log
            )
        started.append(Daemon(room, port, proc))
    # Twenty daemons starting at once on a small, busy machine take minutes.
    deadline = time.monotonic() + 900
    try:
        for d in started:
            while True:
                try:
                    httpx.get(f"{d.base}/healthz", timeout=2)
                    break
                except httpx.HTTPError:
                    if d.proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"daemon {d.room} did not start") from None
                    time.sleep(0.2)
    except BaseException:
        for d in started:
            stop(d.proc)
        raise
    return started


async def _mover(
    daemon: Daemon, token: str, per_room: int, until: float, latencies: list[float]
) -> int:
    # A new sequence each phase: a repeat of the last phase's moves would all answer 409.
    rng = random.Random(f"{daemon.room}-{until}")
    done = 0
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=daemon.base, headers=headers, timeout=60) as client:
        while time.monotonic() < until:
            ref = item_ref(daemon.room, rng.randrange(per_room))
            to = location_code(daemon.room, rng.randint(1, BAYS), rng.randint(1, LEVELS))
            t0 = time.perf_counter()
            r = await client.post(f"/api/v1/items/{ref}/move", json={"to": to})
            if r.status_code == 200:
                latencies.append(time.perf_counter() - t0)
                done += 1
            elif r.status_code != 409:  # 409: already there
                raise RuntimeError(f"move answered {r.status_code}: {r.text}")
    return done


async def write_phase(
    daemons: list[Daemon], token: str, per_room: int, seconds: float
) -> tuple[list[int], list[float]]:
    latencies: list[float] = []
    until = time.monotonic() + seconds
    counts = await asyncio.gather(*(_mover(d, token, per_room, until, latencies) for d in daemons))
    return list(counts), latencies


async def lookup_phase(
    daemon: Daemon, token: str, rooms: int, per_room: int, *, singles: int, batches: int
) -> dict[str, float]:
    rng = random.Random(11)
    headers = {"Authorization": f"Bearer {token}"}

    def any_ref() -> str:
        return item_ref(room_id(rng.randrange(rooms)), rng.randrange(per_room))

    out: dict[str, float] = {}
    async with httpx.AsyncClient(base_url=daemon.base, headers=headers, timeout=60) as client:
        for _ in range(50):
            await client.get(f"/api/v1/items/{any_ref()}/location")
        times = []
        for _ in range(singles):
            t0 = time.perf_counter()
            r = await client.get(f"/api/v1/items/{any_ref()}/location")
            times.append(time.perf_counter() - t0)
            if r.status_code != 200:
                raise RuntimeError(f"lookup answered {r.status_code}: {r.text}")
        out["single_p50_ms"] = statistics.median(times) * 1000
        out["single_p99_ms"] = percentile(times, 99) * 1000
        times = []
        for _ in range(batches):
            refs = [any_ref() for _ in range(1000)]
            t0 = time.perf_counter()
            r = await client.post("/api/v1/locations/lookup", json={"refs": refs})
            times.append(time.perf_counter() - t0)
            if len(r.json()["locations"]) != len(set(refs)):
                raise RuntimeError("a batch lookup missed items")
        out["batch1000_p50_ms"] = statistics.median(times) * 1000
        out["batch1000_p99_ms"] = percentile(times, 99) * 1000
    return out


MOVEMENT_COLUMNS = "item_id, from_location_id, to_location_id, at_us, source, room, actor"
AUDIT_COLUMNS = "at_us, room, actor, action, subject, outcome, details, prev_hash, hash"


async def movement_bytes(dsn: str, *, target: int = 1_000_000) -> tuple[int, int, float]:
    """The moves written through the API, copied until there are ``target`` of them: returns
    (moves written, movement rows measured, MiB per million movements with their audit entries).

    A few hundred rows fill a handful of pages, too few to measure; copies of the real rows
    (same widths, same indexes) make the measurement one of a million."""
    conn = await asyncpg.connect(dsn)
    try:
        written = int(await conn.fetchval("SELECT count(*) FROM movements"))
        moved_audit = int(
            await conn.fetchval("SELECT count(*) FROM audit WHERE action = 'item.moved'")
        )
        if written == 0 or moved_audit == 0:
            return 0, 0, float("nan")
        before = await _relation_bytes(conn, MOVEMENT_TABLES)
        rows = written
        while rows < target:
            await conn.execute(
                f"INSERT INTO movements ({MOVEMENT_COLUMNS})"
                f" SELECT {MOVEMENT_COLUMNS} FROM movements LIMIT $1",
                target - rows,
            )
            offset = int(await conn.fetchval("SELECT max(seq) FROM audit"))
            await conn.execute(
                f"INSERT INTO audit (seq, {AUDIT_COLUMNS})"
                f" SELECT seq + $1, {AUDIT_COLUMNS} FROM audit WHERE action = 'item.moved'"
                " LIMIT $2",
                offset,
                target - rows,
            )
            rows = int(await conn.fetchval("SELECT count(*) FROM movements"))
        await conn.execute("VACUUM ANALYZE movements")
        await conn.execute("VACUUM ANALYZE audit")
        after = await _relation_bytes(conn, MOVEMENT_TABLES)
        return written, rows - written, (after - before) / (rows - written) * 1e6 / 2**20
    finally:
        await conn.close()


def run(
    rooms: int, items: int, seconds: float, singles: int, batches: int, *, writes: bool = True
) -> None:
    per_room = items // rooms
    with scratch_database("postgresql") as db:
        assert db.pg_name is not None
        dsn = PG_ADMIN.rsplit("/", 1)[0] + f"/{db.pg_name}"
        token, seed_s, item_bytes = asyncio.run(seed(dsn, db.url, rooms, per_room))
        total = per_room * rooms
        print(f"ha_scale_seeded: {total} items in {rooms} rooms in {seed_s:.1f} s", flush=True)
        print(
            f"ha_scale_bytes_per_million_items: {item_bytes / total * 1e6 / 2**20:.0f} MiB"
            " (items, tags, current places, with indexes)",
            flush=True,
        )
        print(
            f"ha_scale_database_bytes: {asyncio.run(_database_bytes(dsn)) / 2**30:.2f} GiB"
            " (the whole database after seeding)",
            flush=True,
        )
        daemons: list[Daemon] = []
        try:
            started = time.monotonic()
            daemons = start_daemons(db.directory, db.url, range(1))
            if writes:
                counts, lat = asyncio.run(write_phase(daemons, token, per_room, seconds))
                print(
                    f"ha_scale_write_rate_1_room: {counts[0] / seconds:.1f} moves/s"
                    f" (p99 {percentile(lat, 99) * 1000:.1f} ms)",
                    flush=True,
                )
            started = time.monotonic()
            daemons += start_daemons(db.directory, db.url, range(1, rooms))
            print(
                f"ha_scale_daemons_started: {rooms - 1} more in {time.monotonic() - started:.1f} s",
                flush=True,
            )
            if writes and rooms > 1:
                counts, lat = asyncio.run(write_phase(daemons, token, per_room, seconds))
                rates = [c / seconds for c in counts]
                print(
                    f"ha_scale_write_rate_{rooms}_rooms: {sum(rates):.1f} moves/s in total;"
                    f" per room min {min(rates):.1f}, median {statistics.median(rates):.1f},"
                    f" max {max(rates):.1f} moves/s (p99 {percentile(lat, 99) * 1000:.1f} ms)",
                    flush=True,
                )
            figures = asyncio.run(
                lookup_phase(daemons[0], token, rooms, per_room, singles=singles, batches=batches)
            )
            for name, value in figures.items():
                print(
                    f"ha_scale_lookup_{name}: {value:.2f} ms ({total} items, {rooms} daemons)",
                    flush=True,
                )
        finally:
            for d in daemons:
                stop(d.proc)
        if not writes:
            return
        written, measured, per_million = asyncio.run(movement_bytes(dsn))
        if measured:
            print(
                f"ha_scale_bytes_per_million_movements: {per_million:.0f} MiB (movements and"
                f" their audit entries, with indexes; {written} written through the API, copied"
                f" to {measured + written})",
                flush=True,
            )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench ha_scale")
    parser.add_argument("--rooms", type=int, default=20)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--singles", type=int, default=2000)
    parser.add_argument("--batches", type=int, default=50)
    parser.add_argument(
        "--skip-writes",
        action="store_true",
        help="seed and time lookups only (no write phases, no movement measurement)",
    )
    args, _ = parser.parse_known_args(argv)
    run(
        args.rooms,
        args.items,
        args.seconds,
        args.singles,
        args.batches,
        writes=not args.skip_writes,
    )
    return 0
