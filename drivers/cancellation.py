"""The one "was I cancelled?" check, for cancellations that a library swallowed.

On Python 3.11 ``asyncio.wait_for`` returns the result instead of raising ``CancelledError``
when the cancellation arrives in the same loop turn as the result. pymodbus awaits every Modbus
answer through it, aiomqtt every PUBACK, and database drivers their replies, so a loop that asks
several times a second meets that race often enough for a shutdown to hang: the task goes on
running with its cancellation pending. The task's pending-cancellation count
(``Task.cancelling()``) is the reliable signal; a loop calls :func:`raise_if_cancelled` once per
turn, and after any such library call whose caller must stop at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def cancelling() -> bool:
    """Whether the current task was asked to stop (even if the request was swallowed)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def raise_if_cancelled() -> None:
    """Raise ``CancelledError`` if the current task was asked to stop; otherwise do nothing."""
    if cancelling():
        raise asyncio.CancelledError


async def run_to_completion(coro: Coroutine[Any, Any, T]) -> T:
    """Await ``coro`` in a task of its own until it is done, even if the caller is cancelled
    meanwhile (then the cancellation is raised once it is done).

    For the last writes of a stopping service: ``asyncio.shield`` alone returns at the second
    cancellation and leaves the write running on its own, holding the store's write lock and a
    database connection while the daemon closes the store around it.
    """
    task = asyncio.ensure_future(coro)
    cancelled: asyncio.CancelledError | None = None
    while True:
        try:
            result = await asyncio.shield(task)
        except asyncio.CancelledError as error:
            if task.done():
                raise
            cancelled = error
        else:
            break
    if cancelled is not None:
        raise cancelled
    return result
