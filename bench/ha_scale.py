"""Many room daemons on one PostgreSQL: write rate, lookups across rooms, database size.

A bureau runs one daemon per room against one shared database. This benchmark seeds a
catalogue spread over N rooms straight into a scratch database on the local PostgreSQL server
(items, their tags and their current places: what a room's records hold per item), measures
the bytes that takes, then starts the N daemons as their own processes (API only, no devices)
and:

- drives manual moves (each one a movement, the item's place, an audit entry and an outbox row
  in one transaction) through one room's API alone, then through all N rooms' APIs at once,
  one client per room writing back to back: the write rate per room and in total (closed loop:
  a saturation test, where N rooms share whatever the machine can do);
- or, with ``--rate R[,R...]`` (open loop), offers each room R moves a second on a fixed
  timetable that does not wait for the answers, as a room's gates, shelves and desk do, one
  room alone and then all N at once at each rate: per room the rate offered, the rate
  achieved and the latency from each move's scheduled time (so a slow answer cannot hide the
  moves queued behind it), and whether every room held the rate (achieved at least 99 % of
  offered, every move answered, p99 under ``--p99-bound``);
- samples, during each write phase, PostgreSQL's ``pg_stat_activity`` every 0.2 s (server
  processes waiting for a lock, the audit head's being the one writers share; running a
  statement; waiting, inside a transaction, for their daemon's next statement) and the CPU time
  the daemons, PostgreSQL, the load generator and everything else on the machine used, so the
  figures say whether the audit head's lock or the CPU set the rate;
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
    python -m bench ha_scale -- --rooms 20 --items 200000 --seconds 30 --rate 1,2,4
    python -m bench ha_scale -- --rooms 20 --items 10000000 --skip-writes
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

from bench._rig import (
    PG_ADMIN,
    free_port,
    lookup_latencies,
    percentile,
    scratch_database,
    stop,
)
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
    log: Path

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
        started.append(Daemon(room, port, proc, state / "daemon.log"))
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


@dataclass(frozen=True, slots=True)
class Offered:
    """One room's figures at one offered rate: what was scheduled, what was answered, and how
    long after its scheduled time each answer came."""

    room: str
    offered: float
    """Moves per second scheduled."""
    achieved: float
    """Moves answered per second: over the window, or until the last answer if that came later."""
    unanswered: int
    """Moves with no answer by the end of the drain."""
    failed: int
    """Moves answered with a server error, or whose connection broke before the answer."""
    conflicts: int
    """Moves answered 409 (the item was already there): answered, nothing written."""
    latencies: list[float]
    """Seconds from each answered move's scheduled time to its answer."""

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies) if self.latencies else float("inf")

    @property
    def p99(self) -> float:
        return percentile(self.latencies, 99) if self.latencies else float("inf")

    def held(self, p99_bound: float) -> bool:
        return (
            self.unanswered == self.failed == 0
            and self.achieved >= 0.99 * self.offered
            and self.p99 < p99_bound
        )


async def _scheduled_mover(
    daemon: Daemon, token: str, per_room: int, rate: float, *, seconds: float, drain: float
) -> Offered:
    """Moves offered on a fixed timetable, ``rate`` a second, whatever the answers: a room's
    gates, shelves and desk do not wait for the database before their next event. Each move
    is sent when it is due (a late answer does not delay the next one) and its latency counts
    from that time, so a loaded load generator or daemon cannot hide a wait (coordinated
    omission)."""
    rng = random.Random(f"{daemon.room}-{rate}-{time.time()}")
    headers = {"Authorization": f"Bearer {token}"}
    latencies: list[float] = []
    conflicts = failed = 0
    last = 0.0
    count = max(1, round(rate * seconds))
    window = count / rate
    # a connection idle for uvicorn's keep-alive timeout (5 s) is closed by the daemon: the
    # client drops idle ones sooner, or a move sent on one as it closes would break
    limits = httpx.Limits(max_connections=None, keepalive_expiry=1.0)
    async with httpx.AsyncClient(
        base_url=daemon.base, headers=headers, timeout=seconds + drain, limits=limits
    ) as client:

        async def move(due: float) -> None:
            nonlocal conflicts, failed, last
            ref = item_ref(daemon.room, rng.randrange(per_room))
            to = location_code(daemon.room, rng.randint(1, BAYS), rng.randint(1, LEVELS))
            try:
                r = await client.post(f"/api/v1/items/{ref}/move", json={"to": to})
            except httpx.TransportError:
                failed += 1
                return
            answered = time.monotonic()
            if r.status_code >= 500:
                failed += 1
                return
            if r.status_code not in (200, 409):
                raise RuntimeError(f"move answered {r.status_code}: {r.text}")
            conflicts += r.status_code == 409
            latencies.append(answered - due)
            last = max(last, answered)

        # independent rooms: each timetable starts at its own phase
        start = time.monotonic() + rng.random() / rate
        tasks = []
        for k in range(count):
            due = start + k / rate
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            tasks.append(asyncio.create_task(move(due)))
        done, pending = await asyncio.wait(
            tasks, timeout=max(0.1, start + window + drain - time.monotonic())
        )
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for task in done:
            if (problem := task.exception()) is not None:
                raise problem
    span = max(window, last - start)
    return Offered(
        daemon.room, rate, len(latencies) / span, len(pending), failed, conflicts, latencies
    )


async def offered_phase(
    daemons: list[Daemon], token: str, per_room: int, rate: float, seconds: float
) -> list[Offered]:
    drain = max(10.0, seconds)
    return list(
        await asyncio.gather(
            *(
                _scheduled_mover(d, token, per_room, rate, seconds=seconds, drain=drain)
                for d in daemons
            )
        )
    )


@dataclass
class ServerSample:
    """What PostgreSQL's server processes for the database were doing, averaged over the
    samples, and where the machine's CPU time went."""

    samples: int = 0
    lock_waits: float = 0.0
    """Waiting for a lock: the writers queued on the audit head's row."""
    lock_holders_idle: float = 0.0
    """Holding a lock others wait for while waiting for their own daemon's next statement."""
    active: float = 0.0
    """Running a statement (on a core, or waiting for one, or for I/O)."""
    idle_in_transaction: float = 0.0
    """Inside a transaction, waiting for their daemon's next statement."""
    cpu: dict[str, float] = field(default_factory=dict)
    """Cores' worth of CPU time used over the phase: by the whole machine, the daemons, this
    database's PostgreSQL server processes, the load generator, and everything else."""
    load: tuple[float, float] = (0.0, 0.0)
    """One-minute load average at the start and at the end."""

    def line(self) -> str:
        cpu = ", ".join(f"{k} {v:.2f}" for k, v in self.cpu.items())
        return (
            f"{self.samples} samples: waiting for a lock {self.lock_waits:.2f},"
            f" holding one while waiting for their daemon {self.lock_holders_idle:.2f},"
            f" running a statement {self.active:.2f}, idle in transaction"
            f" {self.idle_in_transaction:.2f}; cores used: {cpu} of {os.cpu_count()};"
            f" load average {self.load[0]:.1f} -> {self.load[1]:.1f}"
        )


_ACTIVITY = """
SELECT count(*) FILTER (WHERE wait_event_type = 'Lock') AS lock_waits,
       count(*) FILTER (WHERE state = 'active' AND wait_event_type IS DISTINCT FROM 'Lock')
           AS active,
       count(*) FILTER (WHERE state = 'idle in transaction') AS idle_in_transaction,
       (SELECT count(DISTINCT b) FROM pg_stat_activity w, unnest(pg_blocking_pids(w.pid)) AS b
        JOIN pg_stat_activity h ON h.pid = b
        WHERE w.datname = current_database() AND h.state = 'idle in transaction')
           AS lock_holders_idle
FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
"""


def _ticks(pid: int) -> int:
    """CPU ticks (user + system) a process has used so far; 0 if it is gone."""
    with contextlib.suppress(OSError, IndexError, ValueError):
        rest = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(rest[11]) + int(rest[12])
    return 0


def _busy_ticks() -> int:
    """The machine's busy CPU ticks so far (all but idle and iowait; Linux ``/proc/stat``)."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    return sum(fields) - fields[3] - fields[4]


_BACKENDS = (
    "SELECT pid FROM pg_stat_activity"
    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
)


@contextlib.asynccontextmanager
async def sampled(dsn: str, daemons: list[Daemon]) -> AsyncIterator[ServerSample]:
    """Sample ``pg_stat_activity`` every 0.2 s while the block runs; the averages are in the
    yielded object once it ends."""
    out = ServerSample()
    conn = await asyncpg.connect(dsn)
    stop_sampling = asyncio.Event()
    totals = [0, 0, 0, 0]

    async def sample() -> None:
        while not stop_sampling.is_set():
            row = await conn.fetchrow(_ACTIVITY)
            for i, key in enumerate(
                ("lock_waits", "lock_holders_idle", "active", "idle_in_transaction")
            ):
                totals[i] += int(row[key])
            out.samples += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop_sampling.wait(), 0.2)

    daemon_pids = [d.proc.pid for d in daemons]
    backends = {int(r["pid"]) for r in await conn.fetch(_BACKENDS)}
    load0 = os.getloadavg()[0]
    t0, busy0 = time.monotonic(), _busy_ticks()
    start_ticks = {pid: _ticks(pid) for pid in [*daemon_pids, *backends, os.getpid()]}
    task = asyncio.create_task(sample())
    try:
        yield out
    finally:
        stop_sampling.set()
        await task
        backends |= {int(r["pid"]) for r in await conn.fetch(_BACKENDS)}
        await conn.close()
        used = {pid: _ticks(pid) - start_ticks.get(pid, 0) for pid in start_ticks.keys() | backends}
        per_second = os.sysconf("SC_CLK_TCK") * (time.monotonic() - t0)
        cpu = {
            "machine": (_busy_ticks() - busy0) / per_second,
            "daemons": sum(used[p] for p in daemon_pids) / per_second,
            "postgres": sum(used[p] for p in backends) / per_second,
            "load generator": used[os.getpid()] / per_second,
        }
        cpu["other"] = cpu["machine"] - cpu["daemons"] - cpu["postgres"] - cpu["load generator"]
        out.cpu = cpu
        out.load = (load0, os.getloadavg()[0])
        n = max(1, out.samples)
        out.lock_waits, out.lock_holders_idle, out.active, out.idle_in_transaction = (
            t / n for t in totals
        )


async def closed_loop(
    dsn: str, daemons: list[Daemon], token: str, per_room: int, seconds: float
) -> tuple[list[int], list[float], ServerSample]:
    async with sampled(dsn, daemons) as sample:
        counts, latencies = await write_phase(daemons, token, per_room, seconds)
    return counts, latencies, sample


async def open_loop(
    dsn: str, daemons: list[Daemon], token: str, per_room: int, *, rate: float, seconds: float
) -> tuple[list[Offered], ServerSample]:
    async with sampled(dsn, daemons) as sample:
        figures = await offered_phase(daemons, token, per_room, rate, seconds)
    return figures, sample


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def report_offered(figures: list[Offered], sample: ServerSample, rate: float, bound: float) -> None:
    name = f"ha_scale_offered_{len(figures)}_rooms_{rate:g}"
    for f in figures:
        extra = f", {f.unanswered} unanswered" if f.unanswered else ""
        extra += f", {f.failed} failed (5xx or connection broken)" if f.failed else ""
        extra += f", {f.conflicts} answered 409 (already there)" if f.conflicts else ""
        print(
            f"{name}_{f.room}: offered {f.offered:.2f}, achieved {f.achieved:.2f} moves/s,"
            f" p50 {_ms(f.p50)}, p99 {_ms(f.p99)}{extra}",
            flush=True,
        )
    achieved = [f.achieved for f in figures]
    every = [x for f in figures for x in f.latencies]
    held = sum(f.held(bound) for f in figures)
    print(
        f"{name}: offered {sum(f.offered for f in figures):.2f}, achieved {sum(achieved):.2f}"
        f" moves/s in total; per room achieved min {min(achieved):.2f}, median"
        f" {statistics.median(achieved):.2f}, max {max(achieved):.2f}; all moves p50"
        f" {_ms(statistics.median(every) if every else float('inf'))}, p99"
        f" {_ms(percentile(every, 99) if every else float('inf'))}, worst room p99"
        f" {_ms(max(f.p99 for f in figures))}; held by {held} of {len(figures)} rooms"
        f" (achieved >= 99 % of offered, all answered, p99 < {_ms(bound)}):"
        f" {'HELD' if held == len(figures) else 'NOT HELD'}",
        flush=True,
    )
    print(f"{name}_server: {sample.line()}", flush=True)


def report_errors(daemons: list[Daemon]) -> None:
    """The last error each daemon logged, if any: why moves failed."""
    for d in daemons:
        errors = [
            line
            for line in d.log.read_text(errors="replace").splitlines()
            if "Error" in line or "ERROR" in line
        ]
        if errors:
            print(f"ha_scale_daemon_error_{d.room}: {len(errors)} lines, last: {errors[-1]}")


def write_phases(
    dsn: str,
    daemons: list[Daemon],
    token: str,
    per_room: int,
    *,
    seconds: float,
    rates: list[float],
    bound: float,
) -> None:
    """The closed-loop phase, or one open-loop phase per offered rate, over ``daemons``."""
    n = len(daemons)
    for rate in rates:
        time.sleep(2)  # what a phase left unanswered settles before the next
        figures, sample = asyncio.run(
            open_loop(dsn, daemons, token, per_room, rate=rate, seconds=seconds)
        )
        report_offered(figures, sample, rate, bound)
        if any(f.failed for f in figures):
            report_errors(daemons)
    if rates:
        return
    counts, lat, sample = asyncio.run(closed_loop(dsn, daemons, token, per_room, seconds))
    rates_seen = [c / seconds for c in counts]
    if n == 1:
        print(
            f"ha_scale_write_rate_1_room: {rates_seen[0]:.1f} moves/s"
            f" (p99 {percentile(lat, 99) * 1000:.1f} ms)",
            flush=True,
        )
    else:
        print(
            f"ha_scale_write_rate_{n}_rooms: {sum(rates_seen):.1f} moves/s in total;"
            f" per room min {min(rates_seen):.1f}, median {statistics.median(rates_seen):.1f},"
            f" max {max(rates_seen):.1f} moves/s (p99 {percentile(lat, 99) * 1000:.1f} ms)",
            flush=True,
        )
    print(f"ha_scale_server_{n}_rooms: {sample.line()}", flush=True)


async def lookup_phase(
    daemon: Daemon, token: str, rooms: int, per_room: int, *, singles: int, batches: int
) -> dict[str, float]:
    rng = random.Random(11)
    headers = {"Authorization": f"Bearer {token}"}

    def any_ref() -> str:
        return item_ref(room_id(rng.randrange(rooms)), rng.randrange(per_room))

    async with httpx.AsyncClient(base_url=daemon.base, headers=headers, timeout=60) as client:
        return await lookup_latencies(client, any_ref, singles=singles, batches=batches)


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
    rooms: int,
    items: int,
    seconds: float,
    singles: int,
    batches: int,
    *,
    writes: bool = True,
    rates: list[float] | None = None,
    p99_bound: float = 1.0,
) -> None:
    rates = rates or []
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
                write_phases(
                    dsn, daemons, token, per_room, seconds=seconds, rates=rates, bound=p99_bound
                )
            started = time.monotonic()
            daemons += start_daemons(db.directory, db.url, range(1, rooms))
            print(
                f"ha_scale_daemons_started: {rooms - 1} more in {time.monotonic() - started:.1f} s",
                flush=True,
            )
            if writes and rooms > 1:
                if rates:
                    time.sleep(30)  # the daemons' start-up work done before the timetables
                write_phases(
                    dsn, daemons, token, per_room, seconds=seconds, rates=rates, bound=p99_bound
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
    parser.add_argument(
        "--rate",
        default="",
        help="open loop: moves a second offered to each room, comma-separated rates"
        " (each rate one room alone, then every room at once); default: closed loop",
    )
    parser.add_argument(
        "--p99-bound",
        type=float,
        default=1.0,
        help="seconds: a room holds an offered rate only if its p99 stays under this",
    )
    args, _ = parser.parse_known_args(argv)
    run(
        args.rooms,
        args.items,
        args.seconds,
        args.singles,
        args.batches,
        writes=not args.skip_writes,
        rates=[float(r) for r in args.rate.split(",") if r],
        p99_bound=args.p99_bound,
    )
    return 0
