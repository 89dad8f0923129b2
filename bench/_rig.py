"""Shared plumbing for benchmarks: a scratch database, a private broker, ports, the daemon."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx

PG_ADMIN = os.environ.get(
    "ARCHROOM_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
"""The local PostgreSQL server's maintenance database, where scratch databases are made."""


def percentile(values: list[float], p: float) -> float:
    """The ``p``-th percentile (0 to 100) of ``values``: the nearest-rank sample."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


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
