"""Running real daemons from tests: in this process (for API tests) or as a subprocess."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from daemon.config import ArchroomConfig, load_config
from daemon.runtime import Daemon
from daemon.store.db import Store
from daemon.tokens import Role, Scope, Tokens


def write_config(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def base_config_text(
    state_dir: Path,
    *,
    db_url: str | None = None,
    mqtt_url: str | None = None,
    port: int = 0,
    room: str = "r1",
    extra: str = "",
    api: str = "",
) -> str:
    db = f'[database]\nurl = "{db_url}"\n' if db_url else ""
    mqtt = f'[mqtt]\nurl = "{mqtt_url}"\n' if mqtt_url else ""
    return (
        f'room = "{room}"\nstate_dir = "{state_dir}"\n'
        f'[site]\nid = "t"\n[api]\nbind = "127.0.0.1"\nport = {port}\n{api}'
        f"{db}{mqtt}"
        f'[[rooms]]\nid = "{room}"\nclass = "paper"\n'
        f"{extra}"
    )


def make_config(state_dir: Path, **kwargs: Any) -> ArchroomConfig:
    state_dir.mkdir(parents=True, exist_ok=True)
    path = write_config(state_dir / "archroom.toml", base_config_text(state_dir, **kwargs))
    return load_config(path)


async def create_token(
    db_url: str, role: Role, name: str | None = None, *, scope: Scope = Scope.room
) -> str:
    store = Store.connect(db_url)
    try:
        return await Tokens(store).create(name=name or f"{role.value}-test", role=role, scope=scope)
    finally:
        await store.close()


@asynccontextmanager
async def running_daemon(
    config: ArchroomConfig, *, config_file: Path | None = None, patient: bool = False
) -> AsyncIterator[Daemon]:
    """The daemon of ``config`` in this event loop, from ready until the block ends.

    With ``patient``, a stop that has not finished within 2 s cancels the MQTT publisher again
    until the daemon is down. On Python 3.11 ``asyncio.wait_for`` returns normally when a
    cancellation arrives in the same loop turn as the result it waits for, and aiomqtt awaits
    every PUBACK through it: a stop that lands on a publish of a retained topic is then lost and
    the publisher (daemon/mqtt.py) keeps running. The daemon's own stop cancels once.
    """
    daemon = Daemon(config, config_file=config_file)
    stop = asyncio.Event()
    task = asyncio.create_task(daemon.run(stop), name="daemon-under-test")
    ready = asyncio.create_task(daemon.ready.wait())
    await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED, timeout=30)
    if not daemon.ready.is_set():
        ready.cancel()
        stop.set()
        await task  # raises what stopped it
        raise RuntimeError("daemon did not become ready")
    try:
        yield daemon
    finally:
        stop.set()
        if not patient:
            await asyncio.wait_for(task, 15)
        else:
            async with asyncio.timeout(30):
                while not (await asyncio.wait({task}, timeout=2.0))[0]:
                    for leftover in asyncio.all_tasks():
                        if leftover.get_name() == "outbox":
                            leftover.cancel()
            task.result()


@asynccontextmanager
async def api_client(daemon: Daemon, token: str | None = None) -> AsyncIterator[httpx.AsyncClient]:
    assert daemon.listening is not None
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(
        base_url=daemon.listening.url, headers=headers, timeout=30
    ) as client:
        yield client


def start_daemon_process(
    config_path: Path, *, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "daemon", "run", "-c", str(config_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **(env or {})},
    )


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "daemon", *args],
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )
