"""Waiting for something the test cannot be told about: one ``eventually``."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import TypeVar, overload

T = TypeVar("T")

DEFAULT_TIMEOUT_S = 30.0
"""A guard against a hang, not a performance bound: what tests wait for happens well within it."""


def _describe(check: Callable[[], object]) -> str:
    name = getattr(check, "__qualname__", None) or repr(check)
    if "<lambda>" not in name:
        return name
    try:
        return inspect.getsource(check).strip()
    except (OSError, TypeError):
        return name


@overload
async def eventually(
    check: Callable[[], Awaitable[T | None]],
    *,
    timeout: float = ...,
    what: str | None = ...,
    interval: float = ...,
) -> T: ...


@overload
async def eventually(
    check: Callable[[], T | None],
    *,
    timeout: float = ...,
    what: str | None = ...,
    interval: float = ...,
) -> T: ...


async def eventually(
    check: Callable[[], object],
    *,
    timeout: float = DEFAULT_TIMEOUT_S,
    what: str | None = None,
    interval: float = 0.02,
) -> object:
    """The first truthy answer of ``check`` (a plain function or a coroutine function).

    Fails with an ``AssertionError`` naming ``what`` (by default the check's name or source)
    when no answer is truthy within ``timeout`` seconds. An exception raised by ``check`` ends
    the wait at once. The deadline is checked between attempts and also enforced by
    ``asyncio.timeout``: a cancellation lost inside a client library cannot turn a failure
    into a hang.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    guard = asyncio.timeout(timeout + 5)
    try:
        async with guard:
            while True:
                answer = check()
                if inspect.isawaitable(answer):
                    answer = await answer
                if answer:
                    return answer
                if loop.time() > deadline:
                    break
                await asyncio.sleep(interval)
    except TimeoutError:
        if not guard.expired():
            raise
    raise AssertionError(f"not reached within {timeout:g} s: {what or _describe(check)}")
