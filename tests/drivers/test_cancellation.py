"""The one "was I cancelled?" check: it stops a task whose cancellation a library swallowed."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from drivers.cancellation import raise_if_cancelled, run_to_completion


async def test_a_pending_cancellation_is_raised_at_the_check() -> None:
    reached: list[str] = []

    async def swallowed() -> None:
        task = asyncio.current_task()
        assert task is not None
        # What asyncio.wait_for leaves behind on Python 3.11 when the answer and the
        # cancellation arrive in the same loop turn: a request pending, nothing raised.
        task.cancel()
        raise_if_cancelled()
        reached.append("past the check")
        await asyncio.sleep(0)

    task = asyncio.create_task(swallowed())
    with pytest.raises(asyncio.CancelledError):
        await task
    assert reached == []


async def test_without_a_cancellation_the_check_does_nothing() -> None:
    async def steady() -> str:
        raise_if_cancelled()
        await asyncio.sleep(0)
        raise_if_cancelled()
        return "done"

    assert await asyncio.create_task(steady()) == "done"


async def test_a_loop_that_checks_each_turn_stops_after_a_swallowed_cancellation() -> None:
    turns = 0

    async def poller() -> str:
        nonlocal turns
        for _ in range(1000):
            raise_if_cancelled()
            turns += 1
            # Swallowed, the way a library on Python 3.11 may do it.
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(0)
        return "ran on after the cancellation"

    task = asyncio.create_task(poller())
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert task.cancelled()
    assert turns >= 1


async def test_a_last_write_runs_to_completion_through_repeated_cancellations() -> None:
    started, release = asyncio.Event(), asyncio.Event()
    steps: list[str] = []

    async def last_write() -> str:
        started.set()
        await release.wait()
        steps.append("written")
        return "done"

    async def stopping_service() -> None:
        try:
            await run_to_completion(last_write())
        finally:
            steps.append("service returned")

    service = asyncio.create_task(stopping_service())
    await started.wait()
    for _ in range(3):  # the supervisor, the task group, the caller's timeout
        service.cancel()
        await asyncio.sleep(0)
    assert not service.done()
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await service
    assert steps == ["written", "service returned"]


async def test_a_last_write_returns_its_result_when_not_cancelled() -> None:
    async def last_write() -> int:
        await asyncio.sleep(0)
        return 7

    assert await run_to_completion(last_write()) == 7
