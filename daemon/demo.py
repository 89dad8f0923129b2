"""``archroom demo``: the whole room on one machine, with no hardware and no setup.

The demo writes its own configuration into a state directory (a temporary one unless
``--state-dir`` keeps it), creates the SQLite schema and an admin token, and runs the daemon.
It uses a local MQTT broker when one answers on 127.0.0.1:1883, and runs without MQTT when
none does.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

from daemon.config import ArchroomConfig, load_config
from daemon.store.db import Store
from daemon.tokens import Role, Tokens


def _broker_reachable(host: str = "127.0.0.1", port: int = 1883) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def demo_config_text(state_dir: Path, *, port: int, mqtt_url: str | None) -> str:
    lines = [
        "# Written by `archroom demo`; every device is a simulator on this machine.",
        'room = "demo-room"',
        f'state_dir = "{state_dir}"',
        "",
        "[site]",
        'id = "demo"',
        'name = "Demo archive"',
        "",
        "[api]",
        'bind = "127.0.0.1"',
        f"port = {port}",
        "",
        "[[rooms]]",
        'id = "demo-room"',
        'name = "Paper stack"',
        'class = "paper"',
    ]
    if mqtt_url:
        lines += ["", "[mqtt]", f'url = "{mqtt_url}"']
    return "\n".join(lines) + "\n"


def run_demo(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="archroom-demo-") as tmp:
        state_dir = Path(args.state_dir or tmp).resolve()
        state_dir.mkdir(parents=True, exist_ok=True)
        mqtt_url = args.mqtt or ("mqtt://127.0.0.1:1883" if _broker_reachable() else None)
        config_path = state_dir / "archroom.toml"
        config_path.write_text(demo_config_text(state_dir, port=args.port, mqtt_url=mqtt_url))
        config = load_config(config_path)
        return asyncio.run(_run(config, state_dir, mqtt_url, args.duration))


async def _run(
    config: ArchroomConfig, state_dir: Path, mqtt_url: str | None, duration: float | None
) -> int:
    from daemon.cli import serve

    store = Store.connect(config.database_url())
    try:
        await store.upgrade()
        token = await Tokens(store).create(
            name=f"demo-admin-{uuid.uuid4().hex[:8]}", role=Role.admin
        )
    finally:
        await store.close()

    def ready(daemon: Any) -> None:
        url = daemon.listening.url
        print(f"api: {url}", flush=True)
        print(f"docs: {url}/docs", flush=True)
        print(f"metrics: {url}/metrics", flush=True)
        print(f"health: {url}/healthz", flush=True)
        print(f"token: {token}", flush=True)
        print(f"state: {state_dir}", flush=True)
        if mqtt_url:
            print(f"mqtt: {mqtt_url} topics archroom/{config.site.id}/{config.room}/#", flush=True)
        else:
            print("mqtt: no broker on 127.0.0.1:1883; running without MQTT", flush=True)
        print("press Ctrl-C to stop", file=sys.stderr, flush=True)

    return await serve(
        config, config_hint=f"--state-dir {state_dir}", duration=duration, on_ready=ready
    )
