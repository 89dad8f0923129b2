"""The Modbus TCP session with the stacker PLC: one input-register read, the host's writes.

Every request goes out once (pymodbus ``retries=0``): a retry is a resend, and whether a job
may be sent again is for the journal and the PLC's duplicate-id record to decide, not for a
transport timeout. Any failure of the session is a :class:`LinkError`; the controller then
drops the session and reconnects.
"""

from __future__ import annotations

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from stacker.config import StackerConfig
from stacker.handshake import Write
from stacker.registers import IR_COUNT
from stacker.service.status import StackerMetrics


class LinkError(Exception):
    """The Modbus session is unusable; the message says why."""


class PlcLink:
    """One connection to the PLC; use :meth:`connect` once, then read and write, then close."""

    def __init__(self, config: StackerConfig, metrics: StackerMetrics) -> None:
        self._config = config
        self._metrics = metrics
        self._client = AsyncModbusTcpClient(
            config.host,
            port=config.port,
            timeout=config.request_timeout_s,
            retries=0,
            reconnect_delay=0,
            name=f"stacker-{config.id}",
        )

    async def connect(self) -> None:
        if not await self._client.connect():
            raise LinkError(f"cannot connect to the stacker PLC at {self._config.url}")

    def close(self) -> None:
        self._client.close()

    async def read_inputs(self) -> list[int]:
        """IR0-28 in one FC04 read."""
        try:
            rr = await self._client.read_input_registers(
                0, count=IR_COUNT, device_id=self._config.device_id
            )
        except (ModbusException, OSError, TimeoutError) as e:
            self._metrics.read_errors_total += 1
            raise LinkError(f"reading the stacker PLC failed: {e}") from e
        if rr.isError() or len(rr.registers) != IR_COUNT:
            self._metrics.read_errors_total += 1
            raise LinkError(f"stacker PLC answered the input-register read with {rr}")
        return list(rr.registers)

    async def write(self, action: Write) -> None:
        """One holding-register write (FC06 for a single register such as the strobe, else FC16)."""
        client, device_id = self._client, self._config.device_id
        try:
            if action.single:
                rr = await client.write_register(
                    action.address, action.values[0], device_id=device_id
                )
            else:
                rr = await client.write_registers(
                    action.address, list(action.values), device_id=device_id
                )
        except (ModbusException, OSError, TimeoutError) as e:
            raise LinkError(f"writing HR{action.address} of the stacker PLC failed: {e}") from e
        if rr.isError():
            raise LinkError(f"stacker PLC refused the write of HR{action.address}: {rr}")
