"""The staff console in a real browser, against a whole room on one machine.

The daemon runs in this process with simulated devices on TCP (a desk reader, an LLRP door
gate, a stacker PLC over Modbus); Debian's Chromium, driven by Playwright's async API in the
same event loop, talks to the daemon over real HTTP. No browser is downloaded: Playwright
starts ``/usr/bin/chromium`` (``.ci/ensure-services`` installs it).

Screenshots go to the test's temporary folder, or to ``$ARCHROOM_SCREENSHOTS`` when set (the
staff guide's pictures: ``ARCHROOM_SCREENSHOTS=docs/screenshots .venv/bin/pytest tests/console``).
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, ViewportSize, async_playwright, expect

from daemon.runtime import Daemon
from daemon.services import Services
from daemon.tokens import Role
from drivers.uhfreader18 import Variant
from simulators.llrp_gate import LlrpGateSimulator
from simulators.stacker_plc import PlcSettings, StackerPlcSimulator
from simulators.uhfreader18 import SimulatedReader, Uhfreader18Simulator
from tests.api.conftest import Room, start_room
from tests.harness import create_token, make_config, running_daemon

CHROMIUM = os.environ.get("ARCHROOM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STATION = (0, 1, 0, 1, 1)
"""The stacker's pick/drop station ``io-1`` (aisle 0), as the PLC addresses it."""
DESK_SIZE = ViewportSize(width=1280, height=800)
TABLET_SIZE = ViewportSize(width=800, height=1180)
WAIT_MS = 20_000
"""How long a page may take to show what the test expects (a bound, not a measurement)."""
expect.set_options(timeout=WAIT_MS)


def room_toml(desk_port: int, gate_port: int, stacker_port: int) -> str:
    return f"""
[[racks]]
id = "A"
bays = "1-6"
levels = "1-4"

[[readers]]
type = "uhfreader18"
id = "desk-1"
url = "socket://127.0.0.1:{desk_port}"
role = "desk"

[[readers]]
type = "llrp"
id = "door-1"
url = "tcp://127.0.0.1:{gate_port}"
role = "gate"
keepalive_s = 1.0

[[gates]]
id = "door-1"
reader = "door-1"
inside_antenna = 1
outside_antenna = 2
smoothing_s = 0.5
confirm_s = 0.5
exit_silence_s = 0.8
cooldown_s = 1.0

[stacker]
id = "stacker-1"
url = "tcp://127.0.0.1:{stacker_port}"
sides = 2
bays = 4
levels = 3
depths = 1
"""


@dataclass
class ConsoleRoom:
    daemon: Daemon
    desk: Uhfreader18Simulator
    gate: LlrpGateSimulator
    plc: StackerPlcSimulator
    tokens: dict[Role, str]

    @property
    def services(self) -> Services:
        assert self.daemon.services is not None
        return self.daemon.services

    @property
    def url(self) -> str:
        assert self.daemon.listening is not None
        return self.daemon.listening.url

    def client(self, role: Role | None = Role.staff) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=30)


@pytest.fixture
async def room(tmp_path: Path, sqlite_url: str) -> AsyncIterator[ConsoleRoom]:
    async with AsyncExitStack() as stack:
        desk = Uhfreader18Simulator(SimulatedReader(Variant.UHFREADER18))
        await desk.start_tcp()
        stack.push_async_callback(desk.close)
        gate = LlrpGateSimulator(cycle_s=0.05, seed=7)
        await gate.start()
        stack.push_async_callback(gate.stop)
        plc = StackerPlcSimulator(
            PlcSettings(sides=2, bays=4, levels=3, depths=1, seconds_per_bay=0.05)
        )
        await plc.start()
        stack.push_async_callback(plc.stop)
        tokens = {role: await create_token(sqlite_url, role, f"{role.value}-desk") for role in Role}
        tokens[Role.staff] = await create_token(sqlite_url, Role.staff, "Li Wei")
        config = make_config(
            tmp_path / "room", db_url=sqlite_url, extra=room_toml(desk.port, gate.port, plc.port)
        )
        daemon = await stack.enter_async_context(running_daemon(config))
        room = ConsoleRoom(daemon, desk, gate, plc, tokens)
        async with asyncio.timeout(20):
            while not (
                all(room.services.readers.up.get(r) for r in ("desk-1", "door-1"))
                and room.services.stacker is not None
                and room.services.stacker.status().refusal is None
            ):
                await asyncio.sleep(0.05)
        yield room


@pytest.fixture
async def api_room(tmp_path: Path, db_url: str) -> AsyncIterator[Room]:
    """A room without devices, on each kind of database: for the console's API routes."""
    async for r in start_room(tmp_path, db_url):
        yield r


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run .ci/ensure-services (apt-get install chromium)")
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("ARCHROOM_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Console:
    """One person's browser tab on the console."""

    def __init__(self, page: Page, base_url: str, screenshots: Path) -> None:
        self.page = page
        self.base_url = base_url
        self.screenshots = screenshots

    async def open(self, path: str) -> None:
        await self.page.goto(self.base_url + path)

    async def log_in(self, token: str) -> None:
        await self.open("/console/login")
        await self.page.fill("#token", token)
        await self.page.click("#login button[type=submit]")
        await self.page.wait_for_url("**/console/items")
        await self.page.locator("#live[data-state=on]").wait_for()

    async def shot(self, name: str) -> Path:
        """Save the page as ``<name>.png`` (small: the pictures go in the staff guide)."""
        path = self.screenshots / f"{name}.png"
        await self.page.screenshot(path=path, full_page=True, animations="disabled")
        return path


async def open_console(
    browser: Browser, base_url: str, screenshots: Path, *, locale: str, tablet: bool = False
) -> Console:
    context = await browser.new_context(
        locale=locale,
        viewport=TABLET_SIZE if tablet else DESK_SIZE,
        device_scale_factor=1,
        has_touch=tablet,
        timezone_id="Asia/Shanghai",
    )
    context.set_default_timeout(WAIT_MS)
    page = await context.new_page()
    return Console(page, base_url, screenshots)


@dataclass(frozen=True)
class Sse:
    event: str
    data: dict[str, object]


async def next_event(lines: AsyncIterator[str]) -> Sse:
    """The next server-sent event on a ``text/event-stream`` (comments and pings skipped)."""
    event, data = "message", ""
    async for line in lines:
        if line.startswith(":"):
            continue
        if not line:
            if data:
                parsed = json.loads(data)
                assert isinstance(parsed, dict)
                return Sse(event, parsed)
            event = "message"
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            event = value
        elif name == "data":
            data += value
    raise EOFError("the stream ended")
