"""The staff console in a real browser, against a whole room on one machine.

The daemon runs in this process with simulated devices on TCP (a desk reader, an LLRP door
gate, a stacker PLC over Modbus); Debian's Chromium, driven by Playwright's async API in the
same event loop, talks to the daemon over real HTTP. No browser is downloaded: Playwright
starts ``/usr/bin/chromium`` (``.ci/ensure-services`` installs it).

Screenshots go to the test's temporary folder, or to ``$ARCHROOM_SCREENSHOTS`` when set (the
staff guide's pictures: ``ARCHROOM_SCREENSHOTS=docs/screenshots .venv/bin/pytest tests/console``).
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, ViewportSize, async_playwright, expect

from daemon.tokens import Role
from simulators.stacker_plc import PlcSettings
from stacker.cells import RackGeometry
from stacker.registers import epc_short_form
from tests.support.catalogue import tagged
from tests.support.poll import eventually
from tests.support.room import Room, RoomBuilder, start_room

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


ConsoleRoom = Room
"""The console tests' room: a ``Room`` with a desk reader, the door gate and a stacker."""

CONSOLE_RACKS = '[[racks]]\nid = "A"\nbays = "1-6"\nlevels = "1-4"\n'


@pytest.fixture
async def room(tmp_path: Path, sqlite_url: str) -> AsyncIterator[Room]:
    """A desk reader, the LLRP door gate and a 2 x 4 x 3 stacker; the staff token is a
    person's (Li Wei), as the console shows it."""
    plc = PlcSettings(
        geometry=RackGeometry(sides=2, bays=4, levels=3, depths=1), seconds_per_bay=0.05
    )
    builder = (
        RoomBuilder(tmp_path / "room", sqlite_url, racks=CONSOLE_RACKS, token_suffix="desk")
        .person(Role.staff, "Li Wei")
        .desk_reader()
        .gate(seed=7)
        .stacker(plc, id="stacker-1", sides=2, bays=4, levels=3, depths=1)
    )
    async with builder.running() as room:
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


async def stacker_job_reaches(staff: httpx.AsyncClient, job_id: int, *states: str) -> None:
    """Wait until stacker job ``job_id`` is in one of ``states``."""

    async def reached() -> bool:
        job = (await staff.get(f"/api/v1/stacker/jobs/{job_id}")).json()
        return bool(job["state"] in states)

    await eventually(reached, timeout=20, what=f"stacker job {job_id} in {states}")


async def stored_from_the_station(
    room: ConsoleRoom, staff: httpx.AsyncClient, ref: str, epc: str
) -> None:
    """Catalogue box ``ref`` with tag ``epc``, set it at the stacker's station and store it in
    the rack; returns once the stacker has done so."""
    await tagged(staff, ref, epc, kind="box")
    room.plc.put(STATION, epc_short_form(epc))
    stored = await staff.post("/api/v1/stacker/jobs", json={"kind": "store", "ref": ref})
    assert stored.status_code == 202, stored.text
    await stacker_job_reaches(staff, stored.json()["job_id"], "done")


async def signed_in(
    browser: Browser, room: Room, screenshots: Path, *, locale: str, role: Role = Role.staff
) -> Console:
    """A console on ``room`` in ``locale``, signed in with ``role``'s token (the items page
    shown, its live feed on)."""
    console = await open_console(browser, room.url, screenshots, locale=locale)
    await console.log_in(room.tokens[role])
    return console


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
