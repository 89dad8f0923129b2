"""Mould risk and the Preservation Index of a room through the climate service, on an injected
clock: two hours at 70 % RH are two hours at mould risk, a critical alarm, and a PI of 26 years."""

from __future__ import annotations

import pytest

from daemon.clock import seconds_to_us
from tests.sensors.service.conftest import T0, ClockedRoom
from tests.sensors.service.test_readings import sample
from tests.support.poll import eventually

QUARTER = 900.0


async def test_two_hours_at_70_percent_are_two_hours_at_mould_risk(clocked: ClockedRoom) -> None:
    alarms = clocked.services.alarms
    async with clocked.service(clocked.config()) as service:
        for k in range(9):  # 20 °C / 70 % RH for two hours, a reading every 15 minutes
            await clocked.step(service, T0 + k * QUARTER, 20.0, 70.0)
        (room,) = service.view().rooms
        p = room.snapshot.preservation
        assert p.mould_risk is True
        assert p.mould_hours_24h == pytest.approx(2.0)
        assert p.mould_hours_total == pytest.approx(2.0)
        assert p.pi_years == pytest.approx(26.0, abs=0.05)  # docs/design.md §5.3: 20 °C / 70 %
        (mould,) = await alarms.list(active_only=False, kind="climate.mould-risk")
        assert (mould.severity, mould.subject) == ("critical", "stack-9")
        assert mould.raised_us == seconds_to_us(T0 + QUARTER)  # held for min_duration_s

        async def exported() -> float | None:
            """The gauge once the service's once-a-second update has caught up."""
            seconds = sample(
                clocked.services.metrics.exposition().decode(),
                "archroom_climate_mould_risk_seconds",
                room="stack-9",
                window="24h",
            )
            return seconds if seconds is not None and seconds >= 7200.0 else None

        assert await eventually(exported) == pytest.approx(7200.0)
