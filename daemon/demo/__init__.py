"""``archroom demo``: the whole room on one machine, with no hardware and no setup.

Every device is a simulator speaking its real protocol, started in this process: shelf readers
and a desk reader of the UHFReader18 family on pseudo-terminals, an LLRP door gate on TCP,
the stacker PLC on Modbus TCP and an RS485 climate bus (Modbus RTU over TCP). The demo writes
its configuration into a state directory (a temporary one unless ``--state-dir`` keeps it),
creates the SQLite schema, an admin and a staff token, two people's accounts to sign in to the
console with (``demo-staff``, and ``demo-admin`` whose sign-in also asks for a one-time code:
the demo prints its TOTP secret and the command that shows the current code; demo only) and a
catalogue of ``--items`` tagged
boxes on their shelves, runs the daemon, and plays a scenario on a loop (see
``daemon.demo.scenario``), unless ``--no-scenario`` leaves the room to the person driving it.

The first minute matters: the API port defaults to 8080 and, when that is taken, the demo says
so in one line and takes a free port; a port asked for with ``--port`` that is taken ends the
demo with exit status 1 and a hint, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import secrets
import signal
import socket
import sys
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from daemon.accounts.store import standalone
from daemon.config import load_config
from daemon.demo.devices import DemoDevices, demo_config_text
from daemon.demo.scenario import Scenario, seed_catalogue
from daemon.runtime import Daemon
from daemon.store.db import Store
from daemon.tokens import Role, Tokens


def _broker_reachable(host: str = "127.0.0.1", port: int = 1883) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


DEFAULT_PORT = 8080


class PortTaken(Exception):
    """The API port asked for is in use; the message is the one line to print."""


def _port_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def choose_port(asked: int | None, default: int = DEFAULT_PORT) -> int:
    """The API port to use: ``asked`` if free (0: any); without one, ``default`` if free, else
    0 (any free port) with a line saying so. A taken port that was asked for: :class:`PortTaken`."""
    if asked == 0:
        return 0
    port = default if asked is None else asked
    if _port_free(port):
        return port
    if asked is not None:
        raise PortTaken(
            f"archroom demo: port {port} is already in use; "
            "choose another with --port N (or --port 0 for any free port)"
        )
    print(f"port {port} is already in use; the demo takes a free port instead", flush=True)
    return 0


def run_demo(args: argparse.Namespace) -> int:
    try:
        port = choose_port(args.port)
    except PortTaken as e:
        print(e, file=sys.stderr, flush=True)
        return 1
    scenario = getattr(args, "scenario", True)
    with tempfile.TemporaryDirectory(prefix="archroom-demo-") as tmp:
        state_dir = Path(args.state_dir or tmp).resolve()
        state_dir.mkdir(parents=True, exist_ok=True)
        mqtt_url = args.mqtt or ("mqtt://127.0.0.1:1883" if _broker_reachable() else None)
        try:
            return asyncio.run(
                _run(state_dir, port, mqtt_url, args.duration, args.items, scenario=scenario)
            )
        except PortTaken as e:
            print(e, file=sys.stderr, flush=True)
            return 1


async def _run(
    state_dir: Path,
    port: int,
    mqtt_url: str | None,
    duration: float | None,
    items: int,
    *,
    scenario: bool = True,
) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with DemoDevices(state_dir) as devices:
            config_path = state_dir / "archroom.toml"
            config_path.write_text(
                demo_config_text(state_dir, devices, port=port, mqtt_url=mqtt_url)
            )
            config = load_config(config_path)
            store = Store.connect(config.database_url())
            try:
                await store.upgrade()
                suffix = uuid.uuid4().hex[:8]
                token = await Tokens(store).create(name=f"demo-admin-{suffix}", role=Role.admin)
                staff = await Tokens(store).create(name=f"demo-staff-{suffix}", role=Role.staff)
                people = await _demo_accounts(store, config.site.id, config.room)
                placed, stored = await seed_catalogue(config, store, devices, items)
            finally:
                await store.close()
            daemon = Daemon(config, config_hint=f"--state-dir {state_dir}")
            runner = asyncio.create_task(daemon.run(stop), name="daemon")
            ready = asyncio.create_task(daemon.ready.wait())
            await asyncio.wait({runner, ready}, return_when=asyncio.FIRST_COMPLETED)
            if runner.done():
                ready.cancel()
                try:
                    await runner  # raises what stopped it
                except OSError as e:
                    if e.errno != errno.EADDRINUSE:
                        raise
                    raise PortTaken(  # taken between the check and the daemon's bind
                        f"archroom demo: port {port} is already in use; "
                        "choose another with --port N (or --port 0 for any free port)"
                    ) from None
                return 1
            assert daemon.listening is not None
            assert daemon.services is not None
            _announce(
                daemon.listening.url,
                Announced(admin=token, staff=staff),
                state_dir,
                f"{config.site.id}/{config.room}",
                mqtt_url,
            )
            _announce_accounts(daemon.listening.url, people)
            script = Scenario(
                daemon.services,
                devices=devices,
                placed=placed,
                stored=stored,
                url=daemon.listening.url,
                token=token,
            )
            if scenario:
                play = asyncio.create_task(script.run(), name="scenario")
            else:
                print("scenario: off (--no-scenario); the room is yours to drive", flush=True)
                play = asyncio.create_task(_until(stop), name="no-scenario")
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), duration)
            finally:
                stop.set()
                play.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await play
                await runner
            summary = script.summary() if scenario else "no scenario (--no-scenario)"
            print(f"demo stopped: {summary}", flush=True)
            return 0
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


@dataclass(frozen=True)
class DemoPeople:
    staff_password: str
    admin_password: str
    admin_totp: str


async def _demo_accounts(store: Store, site: str, room: str) -> DemoPeople:
    accounts = standalone(store, site=site, room=room)
    people = DemoPeople(secrets.token_urlsafe(12), secrets.token_urlsafe(12), "")
    await accounts.add("demo-staff", Role.staff, people.staff_password, actor="demo")
    secret = await accounts.add("demo-admin", Role.admin, people.admin_password, actor="demo")
    assert secret is not None
    return DemoPeople(people.staff_password, people.admin_password, secret)


def _announce_accounts(url: str, people: DemoPeople) -> None:
    print(f"sign in: {url}/console/login", flush=True)
    print(f"staff: demo-staff password {people.staff_password}", flush=True)
    print(
        f"admin: demo-admin password {people.admin_password} totp {people.admin_totp} "
        f"(demo only; code now: .venv/bin/python -m daemon.accounts.totp {people.admin_totp})",
        flush=True,
    )


async def _until(stop: asyncio.Event) -> None:
    await stop.wait()


@dataclass(frozen=True, slots=True)
class Announced:
    admin: str
    staff: str


def _announce(
    url: str, tokens: Announced, state_dir: Path, topic_room: str, mqtt_url: str | None
) -> None:
    print(f"api: {url}", flush=True)
    print(f"docs: {url}/docs", flush=True)
    print(f"console: {url}/console", flush=True)
    print(f"metrics: {url}/metrics", flush=True)
    print(f"health: {url}/healthz", flush=True)
    print(f"token: {tokens.admin}", flush=True)
    print(f"staff token: {tokens.staff}", flush=True)
    print(f"state: {state_dir}", flush=True)
    if mqtt_url:
        print(f"mqtt: {mqtt_url} topics archroom/{topic_room}/#", flush=True)
    else:
        print("mqtt: no broker on 127.0.0.1:1883; running without MQTT", flush=True)
    print(
        f"start here: open {url}/console in a browser and paste the staff token above to sign"
        " in (the admin token also opens the audit trail)",
        flush=True,
    )
    print("press Ctrl-C to stop", file=sys.stderr, flush=True)
