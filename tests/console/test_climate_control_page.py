"""The climate page's control card in a real browser: each actuator's state and why, and an
override with its expiry, switched by a person and carried out on the relay module."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from daemon.runtime import Daemon
from daemon.tokens import Role
from simulators.climate import ClimateSimulator, RoomModel, SimBus, SimSensor
from simulators.climate_room import Channel, RelayModule, RoomSpec
from tests.console.conftest import open_console
from tests.console.test_climate_page import climate_toml
from tests.harness import create_token, make_config, running_daemon


@dataclass
class ControlledRoom:
    daemon: Daemon
    relays: RelayModule
    tokens: dict[Role, str]

    @property
    def url(self) -> str:
        assert self.daemon.listening is not None
        return self.daemon.listening.url


@pytest.fixture
async def controlled_room(tmp_path: Path, sqlite_url: str) -> AsyncIterator[ControlledRoom]:
    sensors = [
        SimSensor("r1-north", "r1", "xy-md02", "tcp", 1),
        SimSensor("r1-south", "r1", "xy-md02", "tcp", 2),
    ]
    relays = RelayModule([Channel(0, "r1", "dehumidifier")])
    async with AsyncExitStack() as stack:
        sim = await stack.enter_async_context(
            ClimateSimulator(
                sensors,
                [SimBus("tcp", "tcp")],
                {"r1": RoomModel()},
                physics={"r1": RoomSpec()},
                relays=relays,
            )
        )
        tokens = {
            Role.admin: await create_token(sqlite_url, Role.admin, "Zhang Min"),
            Role.staff: await create_token(sqlite_url, Role.staff, "Li Wei"),
        }
        control = (
            "[rooms.control]\ninterval_s = 0.2\nmin_on_s = 0\nmin_off_s = 0\n"
            f'[[actuators]]\nid = "dh-1"\nroom = "r1"\nkind = "dehumidifier"\n'
            f'url = "tcp://127.0.0.1:{relays.port}"\naddress = 0\n'
        )
        text = climate_toml(sim.port("tcp")).replace("[climate]", control + "[climate]", 1)
        config = make_config(tmp_path / "room", db_url=sqlite_url, extra=text)
        daemon = await stack.enter_async_context(running_daemon(config))
        yield ControlledRoom(daemon, relays, tokens)


async def test_an_administrator_forces_the_dehumidifier_on_and_hands_it_back(
    controlled_room: ControlledRoom, browser: Browser, screenshots: Path
) -> None:
    room = controlled_room
    console = await open_console(browser, room.url, screenshots, locale="en-GB")
    page = console.page
    await console.log_in(room.tokens[Role.admin])
    await page.click("#nav [data-nav=climate]")
    row = page.locator("#control tbody tr[data-actuator=dh-1]")
    await expect(row).to_have_attribute("data-on", "false")
    await expect(row).to_contain_text("automatic")
    await expect(row.locator("button[data-mode=auto]")).to_be_disabled()

    await row.locator("button[data-mode=on]").click()
    await expect(row).to_have_attribute("data-on", "true")
    await expect(row).to_contain_text("forced on by Zhang Min")
    assert room.relays.is_on("r1", "dehumidifier")
    await console.shot("climate-control")

    await row.locator("button[data-mode=auto]").click()
    await expect(row).to_have_attribute("data-on", "false")
    await expect(row).to_contain_text("automatic")
    async with asyncio.timeout(10):
        while room.relays.is_on("r1", "dehumidifier"):
            await asyncio.sleep(0.05)


async def test_staff_see_the_actuators_but_no_override_buttons(
    controlled_room: ControlledRoom, browser: Browser, screenshots: Path
) -> None:
    console = await open_console(browser, controlled_room.url, screenshots, locale="en-GB")
    page = console.page
    await console.log_in(controlled_room.tokens[Role.staff])
    await page.click("#nav [data-nav=climate]")
    row = page.locator("#control tbody tr[data-actuator=dh-1]")
    await expect(row).to_contain_text("dehumidifier")
    await expect(page.locator("#control-card")).to_contain_text("facilities staff")
    await expect(row.locator("button")).to_have_count(0)
