"""On/off outputs on Modbus TCP: a relay module's coils, a controller's run registers.

A climate actuator (or a door sounder) is switched by writing one coil (FC05) or one holding
register (FC06) and is only taken as switched once the device reads back what was written
(FC01 / FC03): a relay module that acknowledges and does nothing, or an air handler that
refuses the run command locally, must not look switched. Writes use ``retries=0`` because
pymodbus' retries resend a request blindly; the caller decides when to try again, and logs,
counts and alarms a failure (the output is unchanged or unknown then).

Outputs on one device share one connection (``ModbusOutputs``), opened on first use and again
after it breaks; requests to one device are serialized.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Literal

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from drivers.links import modbus_link


class OutputError(Exception):
    """The output could not be switched, or does not read back what was written."""


@dataclass(frozen=True, slots=True)
class OutputAddress:
    url: str
    """``tcp://host:port``."""
    device_id: int
    output: Literal["coil", "register"]
    address: int
    on_value: int = 1
    off_value: int = 0
    timeout_s: float = 1.0


class _Device:
    def __init__(self, host: str, port: int, timeout_s: float) -> None:
        self.client = AsyncModbusTcpClient(host, port=port, timeout=timeout_s, retries=0)
        self.lock = asyncio.Lock()
        self.where = f"{host}:{port}"

    async def connected(self) -> AsyncModbusTcpClient:
        if not self.client.connected and not await self.client.connect():
            raise OutputError(f"no answer from {self.where}")
        return self.client


class ModbusOutputs:
    """Every output device of one owner, each with its connection."""

    def __init__(self) -> None:
        self._devices: dict[tuple[str, int], _Device] = {}

    def _device(self, out: OutputAddress) -> _Device:
        link = modbus_link(out.url)
        key = (link.host, link.port)
        device = self._devices.get(key)
        if device is None:
            device = self._devices[key] = _Device(link.host, link.port, out.timeout_s)
        return device

    async def switch(self, out: OutputAddress, *, on: bool) -> None:
        """Write ``on`` to the output and read it back; raise OutputError if either fails."""
        device = self._device(out)
        async with device.lock:
            try:
                async with asyncio.timeout(3 * out.timeout_s):
                    client = await device.connected()
                    await self._write(client, out, on)
                    if await self._read(client, out) != on:
                        raise OutputError(
                            f"{out.output} {out.address} of {device.where} reads back "
                            f"{'off' if on else 'on'} after it was switched {'on' if on else 'off'}"
                        )
            except (ModbusException, ConnectionError, OSError, TimeoutError) as e:
                device.client.close()
                raise OutputError(f"{device.where}: {e or type(e).__name__}") from e

    async def read(self, out: OutputAddress) -> bool:
        """Whether the output is on now, as the device says."""
        device = self._device(out)
        async with device.lock:
            try:
                async with asyncio.timeout(3 * out.timeout_s):
                    return await self._read(await device.connected(), out)
            except (ModbusException, ConnectionError, OSError, TimeoutError) as e:
                device.client.close()
                raise OutputError(f"{device.where}: {e or type(e).__name__}") from e

    @staticmethod
    async def _write(client: AsyncModbusTcpClient, out: OutputAddress, on: bool) -> None:
        if out.output == "coil":
            response = await client.write_coil(out.address, on, device_id=out.device_id)
        else:
            value = out.on_value if on else out.off_value
            response = await client.write_register(out.address, value, device_id=out.device_id)
        if response.isError():
            raise OutputError(f"{out.output} {out.address} write refused: {response}")

    @staticmethod
    async def _read(client: AsyncModbusTcpClient, out: OutputAddress) -> bool:
        if out.output == "coil":
            response = await client.read_coils(out.address, count=1, device_id=out.device_id)
            if response.isError():
                raise OutputError(f"coil {out.address} read refused: {response}")
            return bool(response.bits[0])
        response = await client.read_holding_registers(
            out.address, count=1, device_id=out.device_id
        )
        if response.isError():
            raise OutputError(f"register {out.address} read refused: {response}")
        value = response.registers[0]
        if value == out.on_value:
            return True
        if value == out.off_value:
            return False
        raise OutputError(
            f"register {out.address} holds {value}, neither on ({out.on_value}) nor off "
            f"({out.off_value})"
        )

    def close(self) -> None:
        for device in self._devices.values():
            device.client.close()
        self._devices.clear()
