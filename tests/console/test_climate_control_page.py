"""The climate page's control card in a real browser: each actuator's state and why, and an
override with its expiry, switched by a person and carried out on the relay module."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from daemon.tokens import Role
from simulators.climate import ClimateSimulator, RoomModel, SimBus, SimSensor
from simulators.climate_room import Channel, RelayModule, RoomSpec
from tests.console.conftest import signed_in
from tests.console.test_climate_page import climate_toml
from tests.support.room import Room, RoomBuilder


@pytest.fixture
async def controlled_room(tmp_path: Path, sqlite_url: str) -> AsyncIterator[Room]:
    sensors = [
        SimSensor("r1-north", "r1", "xy-md02", "tcp", 1),
        SimSensor("r1-south", "r1", "xy-md02", "tcp", 2),
    ]
    relays = RelayModule([Channel(0, "r1", "dehumidifier")])
    sim = ClimateSimulator(
        sensors,
        [SimBus("tcp", "tcp")],
        {"r1": RoomModel()},
        physics={"r1": RoomSpec()},
        relays=relays,
    )
    async with sim:
        control = (
            "[rooms.control]\ninterval_s = 0.2\nmin_on_s = 0\nmin_off_s = 0\n"
            f'[[actuators]]\nid = "dh-1"\nroom = "r1"\nkind = "dehumidifier"\n'
            f'url = "tcp://127.0.0.1:{relays.port}"\naddress = 0\n'
        )
        text = climate_toml(sim.port("tcp")).replace("[climate]", control + "[climate]", 1)
        builder = RoomBuilder(tmp_path / "room", sqlite_url, racks="").climate(sim, lambda _: text)
        builder.person(Role.admin, "Zhang Min").person(Role.staff, "Li Wei")
        async with builder.running() as room:
            yield room


async def test_an_administrator_forces_the_dehumidifier_on_and_hands_it_back(
    controlled_room: Room, browser: Browser, screenshots: Path
) -> None:
    room = controlled_room
    console = await signed_in(browser, room, screenshots, locale="en-GB", role=Role.admin)
    page = console.page
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
    controlled_room: Room, browser: Browser, screenshots: Path
) -> None:
    console = await signed_in(browser, controlled_room, screenshots, locale="en-GB")
    page = console.page
    await page.click("#nav [data-nav=climate]")
    row = page.locator("#control tbody tr[data-actuator=dh-1]")
    await expect(row).to_contain_text("dehumidifier")
    await expect(page.locator("#control-card")).to_contain_text("facilities staff")
    await expect(row.locator("button")).to_have_count(0)
