"""The daily fluctuation rule (JGJ 25-2010 §5.2.3: at most 2 °C within 24 h) through the climate
service, on an injected clock: the sensor speaks Modbus TCP for real, only time is the test's."""

from __future__ import annotations

import pytest

from daemon.clock import seconds_to_us
from tests.sensors.service.conftest import T0, ClockedRoom

MIN = 60.0
HOUR = 3600.0
KIND = "climate.temperature-fluctuation"


async def test_a_jump_of_2_5_degrees_raises_once_and_clears_once_when_it_leaves_the_24h_window(
    clocked: ClockedRoom,
) -> None:
    alarms = clocked.services.alarms
    async with clocked.service(clocked.config()) as service:
        for k in range(5):  # 19.0 °C for 20 minutes
            await clocked.step(service, T0 + k * 5 * MIN, 19.0, 50.0)
        # 21.5 °C: inside the paper limits (14-24 °C), but 2.5 °C within a day. Judged on the
        # 5-minute mean, it must hold for the 10 minutes of min_duration_s before it counts.
        await clocked.step(service, T0 + 25 * MIN, 21.5, 50.0)
        await clocked.step(service, T0 + 30 * MIN, 21.5, 50.0)
        assert await alarms.list(active_only=False, kind=KIND) == []
        await clocked.step(service, T0 + 35 * MIN, 21.5, 50.0)
        (raised,) = await alarms.list(active_only=False, kind=KIND)
        assert raised.raised_us == seconds_to_us(T0 + 35 * MIN)
        assert raised.key == "climate.temperature-fluctuation:stack-9"
        assert raised.subject == "stack-9"
        assert "moved 2.5 °C within 24 h (limit 2 °C)" in raised.message

        # A day goes by at 21.5 °C. The 19.0 °C of the first 20 minutes stays in the window
        # until 24 h after it was read (T0 + 20 min + 24 h).
        for hour in range(1, 25):
            await clocked.step(service, T0 + hour * HOUR, 21.5, 50.0)
        await clocked.step(service, T0 + 24 * HOUR + 10 * MIN, 21.5, 50.0)
        assert alarms.is_active(raised.key)
        await clocked.step(service, T0 + 24 * HOUR + 20 * MIN, 21.5, 50.0)  # the 19.0 has left
        assert alarms.is_active(raised.key)  # steady for min_duration_s before it clears
        await clocked.step(service, T0 + 24 * HOUR + 30 * MIN, 21.5, 50.0)
        (alarm,) = await alarms.list(active_only=False, kind=KIND)
        assert alarm.id == raised.id
        assert alarm.cleared_us == seconds_to_us(T0 + 24 * HOUR + 30 * MIN)
        for hour in range(25, 28):  # and stays cleared
            await clocked.step(service, T0 + hour * HOUR, 21.5, 50.0)
    assert len(await alarms.list(active_only=False, kind=KIND)) == 1


async def test_a_slow_drift_of_2_4_degrees_over_36_hours_is_no_fluctuation(
    clocked: ClockedRoom,
) -> None:
    async with clocked.service(clocked.config()) as service:
        for k in range(25):  # +0.1 °C every 1.5 h: 19.0 -> 21.4 °C
            await clocked.step(service, T0 + k * 1.5 * HOUR, 19.0 + k / 10, 50.0)
        (room,) = service.view().rooms
        # The last 24 h hold the readings from T0 + 13.5 h (19.9 °C) to T0 + 36 h (21.4 °C).
        assert room.snapshot.temperature_spread_24h_c == pytest.approx(1.5, abs=1e-6)
    assert await clocked.services.alarms.list(active_only=False, kind=KIND) == []
