"""The climate page in a real browser: the room against its archival limits, its sensors, and a
humidity alarm that shows up by itself when the dehumidifier gives up."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from daemon.tokens import Role
from simulators.climate import ClimateSimulator, RoomModel, SimBus, SimSensor
from tests.console.conftest import signed_in
from tests.support.poll import eventually
from tests.support.room import Room, RoomBuilder


def climate_toml(port: int) -> str:
    sensor = 'bus = "tcp"\nroom = "r1"\ninterval_s = 0.2\nlazy_error_count = 2\n'
    return (
        "[rooms.limits]\nmin_duration_s = 1.0\n"
        "[climate]\nsmoothing_s = 0.5\n"
        f'[[buses]]\nid = "tcp"\nurl = "tcp://127.0.0.1:{port}"\ntimeout_s = 0.2\n'
        "down_retry_s = 0.5\n"
        f'[[sensors]]\ntype = "xy-md02"\nid = "r1-north"\ndevice_id = 1\n{sensor}'
        f'[[sensors]]\ntype = "xy-md02"\nid = "r1-south"\ndevice_id = 2\n{sensor}'
    )


@pytest.fixture
async def climate_room(tmp_path: Path, sqlite_url: str) -> AsyncIterator[Room]:
    sensors = [
        SimSensor("r1-north", "r1", "xy-md02", "tcp", 1),
        SimSensor("r1-south", "r1", "xy-md02", "tcp", 2),
    ]
    rooms = {"r1": RoomModel(temperature_c=19.0, humidity_pct=52.0)}
    async with ClimateSimulator(sensors, [SimBus("tcp", "tcp")], rooms, seed=5) as sim:
        builder = RoomBuilder(tmp_path / "room", sqlite_url, racks="").person(Role.staff, "Li Wei")
        builder.climate(sim, lambda s: climate_toml(s.port("tcp")))
        async with builder.running() as room, room.client() as staff:

            async def sensors_up() -> bool:
                found = (await staff.get("/api/v1/climate")).json()["sensors"]
                return all(s["state"] == "up" for s in found)

            await eventually(sensors_up, timeout=20)
            yield room


async def test_the_climate_page_shows_the_room_its_sensors_and_a_humidity_alarm_live(
    climate_room: Room, browser: Browser, screenshots: Path
) -> None:
    sim = climate_room.climate_sim
    console = await signed_in(browser, climate_room, screenshots, locale="zh-CN")
    page = console.page
    await page.click("#nav [data-nav=climate]")
    room = page.locator("#rooms [data-room=r1]")
    await expect(room).to_contain_text("14–24 °C，45–60 % RH")  # noqa: RUF001
    await expect(room).to_contain_text("纸质档案")
    await expect(page.locator("#sensors tbody tr[data-state=up]")).to_have_count(2)

    sim.set_values("r1-north", 19.0, 63.0)
    sim.set_values("r1-south", 19.0, 63.0)
    await expect(room).to_contain_text("湿度过高")
    await expect(page.locator("#alarm-count")).to_be_visible()
    await console.shot("climate-zh")

    await page.click("#nav [data-nav=alarms]")
    await page.click("#filters [data-group=climate]")
    humid = page.locator("#alarms tbody tr[data-kind='climate.humidity-high']")
    await expect(humid).to_contain_text("湿度过高")
    await expect(page.locator("#alarms tbody tr[data-kind^='gate']")).to_have_count(0)
    async with climate_room.client() as staff:
        active = (await staff.get("/api/v1/alarms")).json()
    assert "climate.humidity-high" in {a["kind"] for a in active}
