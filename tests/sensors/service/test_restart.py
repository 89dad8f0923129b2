"""A restart of the climate service neither forgets an alarm nor repeats one, and the stored
history carries the 24 h fluctuation window across it."""

from __future__ import annotations

from daemon.clock import seconds_to_us
from tests.sensors.service.conftest import T0, ClockedRoom

MIN = 60.0
HUMID = "climate.humidity-high"


async def _raise_humidity_alarm(clocked: ClockedRoom, climate: str) -> int:
    """One service run in which RH goes to 63 % and the alarm is raised; returns its id."""
    async with clocked.service(clocked.config(climate=climate)) as service:
        for k in range(4):
            await clocked.step(service, T0 + k * 5 * MIN, 20.0, 50.0)
        for k in range(4, 7):
            await clocked.step(service, T0 + k * 5 * MIN, 20.0, 63.0)
    (alarm,) = await clocked.services.alarms.list(active_only=True, kind=HUMID)
    assert alarm.raised_us == seconds_to_us(T0 + 30 * MIN)
    return alarm.id


async def test_an_alarm_whose_condition_ended_during_the_restart_is_cleared_once(
    clocked: ClockedRoom,
) -> None:
    fresh = "replay_history_s = 0"  # the new run knows nothing of the old one's readings
    alarm_id = await _raise_humidity_alarm(clocked, fresh)
    alarms = clocked.services.alarms
    async with clocked.service(clocked.config(climate=fresh)) as service:
        start = T0 + 60 * MIN
        # The room is judged again after min_duration_s (600 s) + smoothing_s (300 s).
        for k in range(3):
            await clocked.step(service, start + k * 5 * MIN, 20.0, 50.0)
        assert alarms.is_active(HUMID + ":stack-9")
        for k in range(3, 6):
            await clocked.step(service, start + k * 5 * MIN, 20.0, 50.0)
    (alarm,) = await alarms.list(active_only=False, kind=HUMID)
    assert alarm.id == alarm_id
    assert alarm.cleared_us == seconds_to_us(start + 15 * MIN)


async def test_an_alarm_whose_condition_persists_across_the_restart_is_not_raised_again(
    clocked: ClockedRoom,
) -> None:
    fresh = "replay_history_s = 0"
    alarm_id = await _raise_humidity_alarm(clocked, fresh)
    async with clocked.service(clocked.config(climate=fresh)) as service:
        start = T0 + 60 * MIN
        for k in range(8):  # long enough to be raised anew and to be judged again
            await clocked.step(service, start + k * 5 * MIN, 20.0, 63.0)
    (alarm,) = await clocked.services.alarms.list(active_only=False, kind=HUMID)
    assert (alarm.id, alarm.active) == (alarm_id, True)


async def test_replayed_history_keeps_the_24h_fluctuation_window_across_a_restart(
    clocked: ClockedRoom,
) -> None:
    kind = "climate.temperature-fluctuation"
    alarms = clocked.services.alarms
    async with clocked.service(clocked.config()) as service:
        for k in range(5):
            await clocked.step(service, T0 + k * 5 * MIN, 19.0, 50.0)
    # Stopped; back 30 minutes later to a room 2.5 °C warmer. Only the stored minutes of the
    # first run know it was 19.0 °C an hour ago.
    async with clocked.service(clocked.config()) as service:
        start = T0 + 50 * MIN
        for k in range(3):
            await clocked.step(service, start + k * 5 * MIN, 21.5, 50.0)
        (room,) = service.view().rooms
        assert room.snapshot.temperature_spread_24h_c == 2.5
    (alarm,) = await alarms.list(active_only=False, kind=kind)
    assert alarm.raised_us == seconds_to_us(start + 10 * MIN)


async def test_without_replay_the_restarted_service_judges_the_day_afresh(
    clocked: ClockedRoom,
) -> None:
    fresh = "replay_history_s = 0"
    async with clocked.service(clocked.config(climate=fresh)) as service:
        for k in range(5):
            await clocked.step(service, T0 + k * 5 * MIN, 19.0, 50.0)
    async with clocked.service(clocked.config(climate=fresh)) as service:
        start = T0 + 50 * MIN
        for k in range(3):
            await clocked.step(service, start + k * 5 * MIN, 21.5, 50.0)
        (room,) = service.view().rooms
        assert room.snapshot.temperature_spread_24h_c == 0.0
