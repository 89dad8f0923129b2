"""One TaskGroup of named services, each restarted after a crash with capped backoff.

A service is an ``async def run()`` that runs until cancelled. If it raises, the crash is
logged with its traceback and counted, and the service starts again after a delay that grows
to a cap; one failing reader or a broken broker connection never takes the daemon down.
Cancellation (shutdown) propagates untouched, and a service that fails while it is being
cancelled is not restarted.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from daemon.metrics import Metrics
from daemon.spool import is_unavailable
from drivers.cancellation import cancelling
from drivers.reconnect import Backoff

log = logging.getLogger(__name__)

ServiceFn = Callable[[], Awaitable[None]]


@dataclass
class ServiceState:
    name: str
    running: bool = False
    restarts: int = 0
    last_error: str = ""
    started_at: float = field(default_factory=time.monotonic)


class Supervisor:
    def __init__(
        self, metrics: Metrics, *, cap_s: float = 30.0, healthy_after_s: float = 60.0
    ) -> None:
        self.metrics = metrics
        self.cap_s = cap_s
        self.healthy_after_s = healthy_after_s
        self.services: dict[str, ServiceState] = {}

    async def supervise(self, name: str, fn: ServiceFn) -> None:
        state = self.services.setdefault(name, ServiceState(name))
        self.metrics.service_restarts.labels(service=name)  # exported at 0 from the start
        backoff = Backoff(0.5, self.cap_s)
        while True:
            state.running = True
            state.started_at = time.monotonic()
            try:
                await fn()
            except asyncio.CancelledError:
                state.running = False
                raise
            except Exception as e:
                state.last_error = f"{type(e).__name__}: {e}"
                if is_unavailable(e):
                    # Expected during a database outage: one line, no traceback.
                    backoff.failed(log, "service %s waits for the database: %s", name, e)
                else:
                    log.exception("service %s crashed", name)
            else:
                state.last_error = "returned"
                log.error("service %s returned unexpectedly", name)
            state.running = False
            if cancelling():
                # Failed (or returned) while being stopped: its clean-up raised, or a library
                # turned the cancellation into an error of its own. A restart would outlive
                # the stop, which then never ends.
                raise asyncio.CancelledError
            state.restarts += 1
            self.metrics.service_restarts.labels(service=name).inc()
            if time.monotonic() - state.started_at > self.healthy_after_s:
                backoff.reset()
            delay = backoff.next_delay()
            log.info("restarting service %s in %.1fs", name, delay)
            await asyncio.sleep(delay)

    def start(self, group: asyncio.TaskGroup, name: str, fn: ServiceFn) -> asyncio.Task[None]:
        return group.create_task(self.supervise(name, fn), name=name)
