"""A private PostgreSQL primary and a synchronous streaming standby, for failover tests.

The real server binaries (``/usr/lib/postgresql/*/bin``, as ``.ci/ensure-services`` installs
them), two data directories under a temporary directory, two free ports. The standby is cloned
with ``pg_basebackup -R`` and named in the primary's ``synchronous_standby_names``, so a commit
is acknowledged only once the standby has it: what a failover manager (Patroni, repmgr) runs
in production when no acknowledged write may be lost. Each server runs in its own process
group, so ``crash()`` kills the postmaster and every backend at once, as a machine failing
would.

PostgreSQL refuses to run as root; when the tests run as root, the servers run as the
``postgres`` user.
"""

from __future__ import annotations

import asyncio
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import asyncpg

from tests.services import free_port, wait_for_port


def server_bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=_major)
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("postgres")
    if on_path is None:
        raise RuntimeError(
            "the PostgreSQL server binaries are not installed: `make test` installs them, "
            "or: apt-get install postgresql"
        )
    return Path(on_path).parent


def _major(path: str) -> int:
    part = path.split("/")[4]
    return int(part) if part.isdigit() else 0


def _run_as() -> str | None:
    """The user to run the servers as: ``postgres`` when we are root, else ourselves."""
    return "postgres" if os.geteuid() == 0 else None


class Server:
    """One PostgreSQL server on a private port, started in its own process group."""

    def __init__(self, name: str, datadir: Path, port: int) -> None:
        self.name = name
        self.datadir = datadir
        self.port = port
        self.proc: subprocess.Popen[bytes] | None = None

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        log = (self.datadir.parent / f"{self.name}.log").open("ab")
        self.proc = subprocess.Popen(
            [str(server_bin_dir() / "postgres"), "-D", str(self.datadir)],
            stdout=log,
            stderr=subprocess.STDOUT,
            user=_run_as(),
            start_new_session=True,
            cwd=self.datadir.parent,
        )
        log.close()
        wait_for_port(self.port, timeout=30)
        self.wait_ready()

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Until the server accepts connections (a port that answers may still be starting)."""
        deadline = time.monotonic() + timeout
        isready = [str(server_bin_dir() / "pg_isready"), "-q", "-h", "127.0.0.1"]
        while subprocess.run([*isready, "-p", str(self.port)], check=False).returncode != 0:
            if time.monotonic() > deadline:
                raise TimeoutError(f"PostgreSQL {self.name} not ready after {timeout}s")
            time.sleep(0.1)

    def crash(self) -> None:
        """SIGKILL the postmaster and all its backends at once."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # fast shutdown
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.crash()
        self.proc = None


class ReplicatedCluster:
    """A primary and one streaming standby (synchronous unless asked otherwise)."""

    STANDBY_NAME = "standby1"

    def __init__(self, *, synchronous: bool = True) -> None:
        self.synchronous = synchronous
        # Not under pytest's tmp_path: its parents are private to the test user, and the
        # servers may run as another one.
        self.root = Path(tempfile.mkdtemp(prefix="archroom-ha-"))
        user = _run_as()
        if user is not None:
            entry = pwd.getpwnam(user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self.primary = Server("primary", self.root / "primary", free_port())
        self.standby = Server("standby", self.root / "standby", free_port())

    def _tool(self, tool: str, *args: str) -> None:
        result = subprocess.run(
            [str(server_bin_dir() / tool), *args],
            capture_output=True,
            text=True,
            user=_run_as(),
            cwd=self.root,
            timeout=120,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{tool} failed ({result.returncode}): {result.stderr.strip()}")

    def start(self) -> None:
        self._tool(
            "initdb", "-D", str(self.primary.datadir), "-U", "postgres", "--auth=trust", "-N"
        )
        # fsync off: the servers are killed, never the machine, so the page cache survives;
        # every commit still waits for the standby (synchronous_standby_names).
        with (self.primary.datadir / "postgresql.conf").open("a") as conf:
            conf.write(
                f"port = {self.primary.port}\n"
                "listen_addresses = '127.0.0.1'\n"
                "unix_socket_directories = ''\n"
                "wal_level = replica\n"
                "max_wal_senders = 5\n"
                "hot_standby = on\n"
                "fsync = off\n"
                "shared_buffers = 32MB\n"
                "max_connections = 60\n"
                f"synchronous_standby_names = '{self.STANDBY_NAME if self.synchronous else ''}'\n"
                "synchronous_commit = on\n"
            )
        self.primary.start()
        conninfo = (
            f"host=127.0.0.1 port={self.primary.port} user=postgres "
            f"application_name={self.STANDBY_NAME}"
        )
        self._tool(
            "pg_basebackup", "-d", conninfo, "-D", str(self.standby.datadir), "-R", "-X", "stream"
        )
        with (self.standby.datadir / "postgresql.auto.conf").open("a") as conf:
            # Once promoted, the standby has no standby of its own to wait for.
            conf.write(
                f"port = {self.standby.port}\n"
                "synchronous_standby_names = ''\n"
                f"primary_conninfo = '{conninfo}'\n"
            )
        self.standby.start()
        asyncio.run(self._wait_sync())

    async def _wait_sync(self) -> None:
        deadline = time.monotonic() + 30
        while True:
            conn = await asyncpg.connect(self.primary.dsn(), timeout=5)
            try:
                state = await conn.fetchval(
                    "SELECT sync_state FROM pg_stat_replication WHERE application_name = $1",
                    self.STANDBY_NAME,
                )
            finally:
                await conn.close()
            if state == ("sync" if self.synchronous else "async"):
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"the standby is not a synchronous standby ({state!r})")
            await asyncio.sleep(0.1)

    def url(self, database: str) -> str:
        """The multi-host URL the daemons use: whichever server takes writes."""
        return (
            f"postgresql+asyncpg://postgres@127.0.0.1:{self.primary.port},"
            f"127.0.0.1:{self.standby.port}/{database}?target_session_attrs=read-write"
        )

    def promote_standby(self) -> None:
        self._tool("pg_ctl", "promote", "-w", "-t", "60", "-D", str(self.standby.datadir))

    def close(self) -> None:
        self.standby.stop()
        self.primary.stop()
        shutil.rmtree(self.root, ignore_errors=True)
