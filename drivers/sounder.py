"""The door sounder: an unauthorized removal is heard at the door, not only read on a screen.

Gates are usually fitted with a sounder or a beacon switched by a digital output: a channel of
a Modbus TCP I/O module or of the door's PLC. On an unauthorized removal the coil is switched
on for ``seconds`` and off again; another alarm while it sounds extends it. The output is
best effort and never holds up the alarm itself: a sounder that does not answer (or does not
read back switched: ``drivers.modbus_output``) is logged and counted, and the alarm still goes
to MQTT, the API and the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Protocol

from drivers.links import modbus_link
from drivers.modbus_output import ModbusOutputs, OutputAddress, OutputError

log = logging.getLogger(__name__)


class CoilOutput(Protocol):
    """Where the sounder is wired: a coil of a Modbus TCP device, and how long it sounds."""

    @property
    def url(self) -> str: ...
    @property
    def device_id(self) -> int: ...
    @property
    def coil(self) -> int: ...
    @property
    def seconds(self) -> float: ...


class Sounder:
    def __init__(self, gate: str, config: CoilOutput) -> None:
        self.gate = gate
        self.config = config
        link = modbus_link(config.url)
        self.host, self.port = link.host, link.port
        self.until = 0.0
        self.sounded = 0
        self.failures = 0
        self._task: asyncio.Task[None] | None = None

    def sound(self) -> None:
        """Switch the sounder on for ``seconds`` from now (or keep it on that much longer)."""
        self.until = time.monotonic() + self.config.seconds
        self.sounded += 1
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name=f"sounder:{self.gate}"
            )

    async def _run(self) -> None:
        outputs = ModbusOutputs()
        out = OutputAddress(self.config.url, self.config.device_id, "coil", self.config.coil)
        try:
            # Again while an alarm came during the switch-off, which ``sound`` could not extend.
            while self.until > time.monotonic():
                try:
                    await outputs.switch(out, on=True)
                    await self._hold()
                finally:
                    # Also when the switch-on failed or was cancelled: its write may have
                    # reached the coil before the answer was lost.
                    with contextlib.suppress(OutputError, TimeoutError):
                        await asyncio.wait_for(outputs.switch(out, on=False), 3.0)
        except OutputError as e:
            self.failures += 1
            log.warning("sounder of gate %s (%s) did not answer: %s", self.gate, self.config.url, e)
        finally:
            outputs.close()

    async def _hold(self) -> None:
        """Until ``until``, which a new alarm may push further while we wait."""
        left = self.until - time.monotonic()
        while left > 0:
            await asyncio.sleep(left)
            left = self.until - time.monotonic()

    async def close(self) -> None:
        """Stop sounding (the coil is switched off) and wait for that."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            self.until = 0.0
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
