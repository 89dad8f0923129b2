"""Shared plumbing for benchmarks: a scratch database, a private broker, ports, the daemon, and
the measurements several benchmarks take alike (CPU time, RSS, location lookups)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import httpx

PG_ADMIN = os.environ.get(
    "ARCHROOM_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
"""The local PostgreSQL server's maintenance database, where scratch databases are made."""

T = TypeVar("T")


def percentile(values: list[float], p: float) -> float:
    """The ``p``-th percentile (0 to 100) of ``values``: the nearest-rank sample."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def cpu_seconds(run: Callable[[T], object], data: T, repeat: int) -> float:
    """Median CPU seconds of this process that ``run(data)`` takes, over ``repeat`` runs.

    CPU time rather than wall time: it is the per-core figure asked for, and it does not count
    time the machine spent on other processes.
    """
    times = []
    for _ in range(repeat):
        start = time.process_time()
        run(data)
        times.append(time.process_time() - start)
    return statistics.median(times)


def rss_mb(pid: int) -> float:
    """Resident memory of process ``pid`` (MiB); NaN when it has none (it has exited)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def add_db_option(parser: argparse.ArgumentParser) -> None:
    """``--db sqlite|postgresql|both`` (default both): the databases a benchmark runs on."""
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")


def db_kinds(choice: str) -> tuple[str, ...]:
    """The databases ``--db`` names, in the order they are run."""
    return ("sqlite", "postgresql") if choice == "both" else (choice,)


async def cancel_all(*tasks: asyncio.Task[Any]) -> None:
    """Cancel ``tasks`` and wait until each has finished."""
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def pg_admin(sql: str, *, database: str | None = None) -> None:
    """Run one statement on the local PostgreSQL server (in ``database`` if given)."""
    dsn = PG_ADMIN if database is None else PG_ADMIN.rsplit("/", 1)[0] + f"/{database}"
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@dataclass(frozen=True, slots=True)
class ScratchDatabase:
    url: str
    """Its async SQLAlchemy URL (also accepted by the daemon's configuration)."""
    directory: Path
    """A temporary directory for this run (the SQLite file, configs, logs)."""
    pg_name: str | None
    """The PostgreSQL database's name; None for SQLite."""


@contextlib.contextmanager
def scratch_database(kind: str) -> Iterator[ScratchDatabase]:
    """An empty database for one benchmark run: an SQLite file in a temporary directory, or a
    private database on the local PostgreSQL server, dropped afterwards."""
    with tempfile.TemporaryDirectory(prefix="archroom-bench-") as tmp:
        if kind == "sqlite":
            yield ScratchDatabase(f"sqlite+aiosqlite:///{tmp}/archroom.db", Path(tmp), None)
            return
        name = f"archroom_bench_{uuid.uuid4().hex[:8]}"
        asyncio.run(pg_admin(f'CREATE DATABASE "{name}"'))
        url = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
        try:
            yield ScratchDatabase(f"{url}/{name}", Path(tmp), name)
        finally:
            asyncio.run(pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextlib.contextmanager
def kept_database(name: str) -> Iterator[ScratchDatabase]:
    """The database ``name`` on the local PostgreSQL server, made if it is not there and kept
    afterwards (for a benchmark whose load takes longer than what it measures)."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise ValueError(f"{name!r}: a database name of lower-case letters, digits and _")

    async def create() -> None:
        conn = await asyncpg.connect(PG_ADMIN)
        try:
            if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
                await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(create())
    url = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    with tempfile.TemporaryDirectory(prefix="archroom-bench-") as tmp:
        yield ScratchDatabase(f"{url}/{name}", Path(tmp), name)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port}")


def start_broker(workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    port = free_port()
    conf = workdir / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\nlog_dest none\n")
    proc = subprocess.Popen(
        [binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    wait_port(port)
    return proc, port


def start_daemon(config: Path, api_port: int) -> subprocess.Popen[bytes]:
    subprocess.run(
        [sys.executable, "-m", "daemon", "db", "upgrade", "-c", str(config)],
        check=True,
        capture_output=True,
    )
    with (config.parent / "daemon.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "daemon", "run", "-c", str(config)], stderr=log
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{api_port}/healthz", timeout=1)
            return proc
        except httpx.HTTPError:
            if proc.poll() is not None:
                tail = (config.parent / "daemon.log").read_text()[-2000:]
                raise RuntimeError(f"the daemon exited during start-up:\n{tail}") from None
            time.sleep(0.1)
    raise TimeoutError("the daemon did not answer /healthz")


def metric_sum(api_port: int, name: str) -> float:
    text = httpx.get(f"http://127.0.0.1:{api_port}/metrics", timeout=10).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name))


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def lookup_latencies(
    client: httpx.AsyncClient, any_ref: Callable[[], str], *, singles: int, batches: int
) -> dict[str, float]:
    """p50 and p99 (ms) of ``singles`` single-item location lookups and of ``batches`` batch
    lookups of 1,000 refs, each ref drawn by ``any_ref``, after 50 lookups to warm up the
    connection, the token cache and the page cache."""
    for _ in range(50):
        await client.get(f"/api/v1/items/{any_ref()}/location")
    out: dict[str, float] = {}
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
        if r.status_code != 200 or len(r.json()["locations"]) != len(set(refs)):
            raise RuntimeError(f"a batch lookup missed items ({r.status_code})")
    out["batch1000_p50_ms"] = statistics.median(times) * 1000
    out["batch1000_p99_ms"] = percentile(times, 99) * 1000
    return out
