import asyncio

from daemon.metrics import Metrics
from daemon.supervisor import Supervisor


async def test_crashing_service_is_restarted_and_does_not_stop_the_others() -> None:
    supervisor = Supervisor(Metrics(), cap_s=0.05)
    runs = 0
    ticks = 0

    async def flaky() -> None:
        nonlocal runs
        runs += 1
        await asyncio.sleep(0)
        raise RuntimeError("reader link exploded")

    async def steady() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.001)

    async with asyncio.TaskGroup() as group:
        tasks = [supervisor.start(group, "flaky", flaky), supervisor.start(group, "steady", steady)]
        while runs < 4:
            await asyncio.sleep(0.01)
        for t in tasks:
            t.cancel()
    assert supervisor.services["flaky"].restarts >= 3
    assert "reader link exploded" in supervisor.services["flaky"].last_error
    assert supervisor.services["steady"].restarts == 0
    assert ticks > 0
    assert supervisor.metrics.service_restarts.labels(service="flaky")._value.get() >= 3
