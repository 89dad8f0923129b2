"""Real services for tests: a private Mosquitto per test, private PostgreSQL databases.

Nothing here is a fake: the broker is the real ``mosquitto`` binary on a free port with its own
persistence directory, and the databases live on a real PostgreSQL server (the local one, or
the one ``ARCHROOM_TEST_DATABASE_URL`` names), each test run under its own names so parallel
runs never collide.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path
from typing import Self

import asyncpg


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, *, timeout: float = 10.0, host: str = "127.0.0.1") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s")


def mosquitto_binary() -> str:
    found = shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
    )
    if found is None:
        raise RuntimeError(
            "mosquitto is not installed: `make test` installs it, or: apt-get install mosquitto"
        )
    return found


class ServerProcess:
    """A server the tests run as a process: ``stop()`` ends it with SIGTERM (an outage, or a
    clean end), ``close()`` kills it."""

    proc: subprocess.Popen[bytes] | None = None
    port: int
    stop_timeout_s = 10.0
    errors: Path | None = None
    """Where the server's error output is appended (None: discarded)."""

    def command(self) -> list[str]:
        """The command line that runs the server in the foreground."""
        raise NotImplementedError

    def start(self) -> None:
        """Start the server; returns once it listens on ``port``."""
        with contextlib.ExitStack() as files:
            stderr = files.enter_context(self.errors.open("ab")) if self.errors else None
            self.proc = subprocess.Popen(
                self.command(),
                stdout=subprocess.DEVNULL,
                stderr=stderr or subprocess.DEVNULL,
            )
        wait_for_port(self.port)

    def __enter__(self) -> Self:
        """Start the server; it is killed when the ``with`` block ends."""
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=self.stop_timeout_s)
        self.proc = None

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None


class Mosquitto(ServerProcess):
    """A private broker; ``stop()``/``start()`` simulate an outage, state persists across them."""

    def __init__(self, workdir: Path, *, port: int | None = None) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        workdir.mkdir(parents=True, exist_ok=True)
        self.conf = workdir / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence true\n"
            f"persistence_location {workdir}/\n"
            "autosave_interval 1\n"
            "max_queued_messages 100000\n"
            "log_dest none\n"
        )

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [mosquitto_binary(), "-c", str(self.conf)]


# -- PostgreSQL ---------------------------------------------------------------------------

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def admin_url() -> str:
    return os.environ.get("ARCHROOM_TEST_DATABASE_URL", DEFAULT_ADMIN_URL)


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(admin_url(), timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def pg_execute(sql: str) -> None:
    asyncio.run(_admin(sql))


def pg_available() -> str | None:
    """None when the server answers, else why not."""
    try:
        pg_execute("SELECT 1")
    except (OSError, asyncpg.PostgresError, TimeoutError) as e:
        return f"{admin_url()}: {e}"
    return None


def async_url(database: str) -> str:
    base = admin_url().rsplit("/", 1)[0]
    return f"{base}/{database}".replace("postgresql://", "postgresql+asyncpg://", 1)


def new_database_name(prefix: str = "archroom_test") -> str:
    return f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"


def create_database(name: str, *, template: str | None = None) -> None:
    suffix = f" TEMPLATE {template}" if template else ""
    pg_execute(f'CREATE DATABASE "{name}"{suffix}')


def drop_database(name: str) -> None:
    pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
