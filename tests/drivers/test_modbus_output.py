"""On/off outputs switched over real Modbus TCP and read back: a relay module's coils and a
controller's run register, and what counts as not switched."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from pymodbus.constants import ExcCodes
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData

from drivers.modbus_output import ModbusOutputs, OutputAddress, OutputError
from simulators.climate_room import Channel, RelayModule
from simulators.modbus import Request, device, serve


@pytest.fixture
async def relays() -> AsyncIterator[RelayModule]:
    async with RelayModule([Channel(0, "r1", "dehumidifier"), Channel(3, "r1", "heating")]) as r:
        yield r


@pytest.fixture
async def outputs() -> AsyncIterator[ModbusOutputs]:
    out = ModbusOutputs()
    yield out
    out.close()


class Controller:
    """An air handler's controller: holding register 40 is its run command (1 run, 0 stop);
    ``stubborn`` makes it keep its own value whatever is written (local mode)."""

    def __init__(self) -> None:
        self.stubborn = False
        self.server: ModbusTcpServer | None = None
        self.port = 0

    async def _answer(self, request: Request) -> ExcCodes | None:
        if request.values is not None and self.stubborn:
            for i in range(len(request.values)):
                request.values[i] = False  # 0: the register keeps saying "stopped"
        return None

    async def __aenter__(self) -> Controller:
        regs = [SimData(0, count=64, values=0, datatype=DataType.REGISTERS)]
        bits = [SimData(0, count=1, values=False, datatype=DataType.BITS)]
        controller = device(2, (bits, bits, regs, regs), self._answer)
        self.server, self.port = await serve([controller], "127.0.0.1", 0)
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self.server is not None
        await self.server.shutdown()  # type: ignore[no-untyped-call]


def coil(relays: RelayModule, address: int) -> OutputAddress:
    return OutputAddress(f"tcp://127.0.0.1:{relays.port}", 1, "coil", address, timeout_s=0.3)


async def test_a_coil_is_switched_and_read_back(
    relays: RelayModule, outputs: ModbusOutputs
) -> None:
    await outputs.switch(coil(relays, 3), on=True)
    assert relays.running("r1") == {"heating"}
    assert await outputs.read(coil(relays, 3)) is True
    assert await outputs.read(coil(relays, 0)) is False
    await outputs.switch(coil(relays, 3), on=False)
    assert relays.running("r1") == frozenset()


async def test_a_register_is_written_with_its_run_and_stop_values() -> None:
    outputs = ModbusOutputs()
    try:
        async with Controller() as controller:
            run = OutputAddress(
                f"tcp://127.0.0.1:{controller.port}", 2, "register", 40, on_value=1, off_value=0
            )
            await outputs.switch(run, on=True)
            assert await outputs.read(run) is True
            await outputs.switch(run, on=False)
            assert await outputs.read(run) is False

            controller.stubborn = True  # switched to local control: writes do not stick
            with pytest.raises(OutputError, match="reads back off after it was switched on"):
                await outputs.switch(run, on=True)

            odd = OutputAddress(
                f"tcp://127.0.0.1:{controller.port}", 2, "register", 40, on_value=5, off_value=6
            )
            with pytest.raises(OutputError, match="neither on"):
                await outputs.read(odd)
    finally:
        outputs.close()


async def test_a_dead_module_is_an_output_error_and_it_is_switched_once_it_answers(
    relays: RelayModule, outputs: ModbusOutputs
) -> None:
    relays.dead = True
    with pytest.raises(OutputError):
        await outputs.switch(coil(relays, 0), on=True)
    assert not relays.coils[0]
    relays.dead = False
    await outputs.switch(coil(relays, 0), on=True)
    assert relays.is_on("r1", "dehumidifier")


async def test_a_coil_beyond_the_module_is_refused(
    relays: RelayModule, outputs: ModbusOutputs
) -> None:
    with pytest.raises(OutputError, match="refused"):
        await outputs.switch(coil(relays, 12), on=True)


async def test_nobody_listening_is_an_output_error(outputs: ModbusOutputs) -> None:
    async with RelayModule([]) as gone:
        port = gone.port
    with pytest.raises(OutputError, match="no answer"):
        await outputs.switch(
            OutputAddress(f"tcp://127.0.0.1:{port}", 1, "coil", 0, timeout_s=0.3), on=True
        )
