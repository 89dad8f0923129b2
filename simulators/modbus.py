"""What the Modbus simulators share: a device's answer to one request, and a listening server.

pymodbus's simulator calls a device's action before it answers each request, with six
positional arguments; ``device`` hands them to the simulator's handler as one ``Request``
instead, so the signature is written once. ``serve`` starts a ``ModbusTcpServer`` in the
background and returns it with the port it listens on (port 0 picks a free one).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import cast

from pymodbus.constants import ExcCodes
from pymodbus.framer import FramerType
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import SimData, SimDevice


@dataclass(frozen=True, slots=True)
class Request:
    """One request as pymodbus hands it to a device before answering it.

    ``registers`` is the device block the request touches (``registers[a - start_address]`` is
    address ``a``): a handler fills it to answer a read. ``values`` are the values written, or
    None for a read (and for the read-back pymodbus makes to answer a write it has applied).
    """

    function_code: int
    start_address: int
    address: int
    count: int
    registers: list[int]
    values: list[int] | list[bool] | None

    @property
    def wanted(self) -> range:
        """The addresses the request reads or writes."""
        return range(self.address, self.address + self.count)


Blocks = list[SimData] | tuple[list[SimData], list[SimData], list[SimData], list[SimData]]
"""A device's memory: one block, or coils, discrete inputs, holding and input registers."""

Handler = Callable[[Request], Awaitable[ExcCodes | None]]
"""A device's answer to a request: None to let pymodbus answer from the registers, or the
exception code to answer with (raising ``NoSuchIdException`` leaves the request unanswered)."""


def device(device_id: int, simdata: Blocks, handler: Handler) -> SimDevice:
    """A ``SimDevice`` of ``simdata`` (pymodbus's blocks) whose requests go to ``handler``."""

    async def action(  # noqa: PLR0917 (pymodbus calls it positionally)
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        registers: list[int],
        values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        request = Request(function_code, start_address, address, count, registers, values)
        return await handler(request)

    return SimDevice(device_id, simdata=simdata, action=action)


async def serve(
    devices: Sequence[SimDevice],
    host: str,
    port: int,
    *,
    framer: FramerType = FramerType.SOCKET,
    ignore_missing_devices: bool = False,
) -> tuple[ModbusTcpServer, int]:
    """A server of ``devices`` listening in the background, and its port."""
    server = ModbusTcpServer(
        list(devices),
        framer=framer,
        address=(host, port),
        ignore_missing_devices=ignore_missing_devices,
    )
    await server.serve_forever(background=True)
    return server, listening_port(server)


def listening_port(server: ModbusTcpServer) -> int:
    """The port a started server listens on."""
    if server.transport is None:
        raise RuntimeError("server not started")
    return int(cast(asyncio.Server, server.transport).sockets[0].getsockname()[1])
