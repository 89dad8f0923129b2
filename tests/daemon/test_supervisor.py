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


async def test_a_service_failing_as_it_is_stopped_is_not_restarted() -> None:
    """Its clean-up raised instead of letting the cancellation through: the stop still ends."""
    supervisor = Supervisor(Metrics(), cap_s=0.05)
    started = asyncio.Event()
    restarted = asyncio.Event()

    async def cleanup_fails() -> None:
        if started.is_set():
            restarted.set()  # a second run: it outlives the stop
            await asyncio.Event().wait()
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            raise RuntimeError("the last write failed")

    task = asyncio.create_task(supervisor.supervise("service", cleanup_fails))
    await started.wait()
    task.cancel()
    again = asyncio.create_task(restarted.wait())
    done, _ = await asyncio.wait({task, again}, return_when=asyncio.FIRST_COMPLETED)
    again.cancel()
    task.cancel()
    assert task in done
    assert task.cancelled()
    assert supervisor.services["service"].restarts == 0
    assert "the last write failed" in supervisor.services["service"].last_error
