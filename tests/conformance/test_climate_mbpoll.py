"""The climate simulator's RS485 line against mbpoll, a Modbus RTU master written by others.

mbpoll (Debian package ``mbpoll``, on libmodbus) opens a pty that the sensor tests' relay wires
to the simulator's RTU line, exactly as it would open /dev/ttyUSB0. ``.ci/ensure-services``
installs it with the other server binaries. Register addresses are PDU addresses (``-0``);
mbpoll writes one value with FC06 and several with FC16.

The default layout puts an XY-MD02 at address 1, a Renke RS-WS-N01 at 2 and another XY-MD02
at 3 on one line running at 9600 8N1. Sources for the register maps: the vendors' manuals as
summarised in docs/device-fidelity.md.
"""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import Sequence

from simulators.climate import ClimateSimulator

MBPOLL = shutil.which("mbpoll") or "mbpoll"
_VALUE = re.compile(r"^\[(\d+)\]:\s+(\d+)", re.MULTILINE)


async def mbpoll(line: str, options: Sequence[str], values: Sequence[int] = ()) -> tuple[int, str]:
    """Run mbpoll once (``-1``) on ``line``: its exit code and everything it printed."""
    proc = await asyncio.create_subprocess_exec(
        MBPOLL, "-m", "rtu", "-b", "9600", "-P", "none", "-0", "-1", "-o", "1",
        *options, line, *map(str, values),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), 20)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    return proc.returncode, out.decode(errors="replace")


async def read(line: str, device: int, table: str, start: int, count: int) -> list[int]:
    """Registers ``start``.. of ``device``: table 3 = input registers (FC04), 4 = holding (FC03)."""
    code, out = await mbpoll(
        line, ["-a", str(device), "-t", table, "-r", str(start), "-c", str(count)]
    )
    assert code == 0, out
    values = {int(ref): int(value) for ref, value in _VALUE.findall(out)}
    return [values[start + i] for i in range(count)]


async def write(line: str, device: int, start: int, *values: int) -> tuple[int, str]:
    return await mbpoll(line, ["-a", str(device), "-t", "4", "-r", str(start)], values)


async def test_xy_md02_measurements_are_input_registers_1_and_2(
    climate_sim: ClimateSimulator, serial_line: str
) -> None:
    """XY-MD02 manual: FC04, 0x0001 temperature int16 x0.1 °C, 0x0002 humidity x0.1 %RH."""
    climate_sim.set_values("stack-1-a", -3.5, 48.2)
    assert await read(serial_line, 1, "3", 1, 2) == [0xFFDD, 482]


async def test_xy_md02_settings_read_address_and_the_vendor_code_for_9600(
    climate_sim: ClimateSimulator, serial_line: str
) -> None:
    """XY-MD02 manual: FC03 0x0101 address, 0x0102 baud (0 = 9600, 1 = 14400, 2 = 19200),
    0x0103/0x0104 temperature and humidity corrections."""
    assert await read(serial_line, 1, "4", 0x0101, 4) == [1, 0, 0, 0]


async def test_rs_ws_n01_reads_humidity_then_temperature_and_its_renke_baud_code(
    climate_sim: ClimateSimulator, serial_line: str
) -> None:
    """Renke RS-WS-N01 manual: FC03 0x0000 humidity, 0x0001 temperature (x0.1); 0x07D0
    address, 0x07D1 baud (0 = 2400, 1 = 4800, 2 = 9600): this line runs at 9600."""
    climate_sim.set_values("stack-1-b", 21.5, 55.0)
    assert await read(serial_line, 2, "4", 0, 2) == [550, 215]
    assert await read(serial_line, 2, "4", 0x07D0, 2) == [2, 2]


async def test_xy_md02_address_written_with_fc06_takes_effect_after_the_answer(
    climate_sim: ClimateSimulator, serial_line: str
) -> None:
    """XY-MD02 manual: FC06 to 0x0101 sets the address (1-247)."""
    code, out = await write(serial_line, 1, 0x0101, 9)
    assert code == 0, out
    assert await read(serial_line, 9, "4", 0x0101, 1) == [9]
    assert climate_sim.address_of("stack-1-a") == 9
    code, out = await mbpoll(serial_line, ["-a", "1", "-t", "4", "-r", str(0x0101)])
    assert code != 0, out  # nobody answers at the old address any more


async def test_xy_md02_corrections_written_together_with_fc16(
    climate_sim: ClimateSimulator, serial_line: str
) -> None:
    """XY-MD02 manual: FC16 over 0x0103-0x0104 writes both corrections (int16 x0.1)."""
    code, out = await write(serial_line, 3, 0x0103, 0xFFFB, 12)
    assert code == 0, out
    assert await read(serial_line, 3, "4", 0x0101, 4) == [3, 0, 0xFFFB, 12]


async def test_rs_ws_n01_baud_written_is_answered_at_the_old_speed_then_silent(
    climate_sim: ClimateSimulator, serial_line: str
) -> None:
    """Renke manual: FC06 to 0x07D1 with code 1 sets 4800 baud; the line stays at 9600."""
    code, out = await write(serial_line, 2, 0x07D1, 1)
    assert code == 0, out
    assert climate_sim.baud_of("stack-1-b") == 4800
    code, out = await mbpoll(serial_line, ["-a", "2", "-t", "4", "-r", str(0x07D0)])
    assert code != 0, out


async def test_out_of_range_settings_and_measurement_writes_are_refused(
    climate_sim: ClimateSimulator, serial_line: str
) -> None:
    """Modbus application protocol v1.1b3 §7: exception 03 (illegal data value) for a baud
    code the vendor does not define, 02 (illegal data address) for a read-only register."""
    code, out = await write(serial_line, 1, 0x0102, 7)
    assert code != 0
    assert "Illegal data value" in out
    code, out = await write(serial_line, 2, 0x0000, 5)
    assert code != 0
    assert "Illegal data address" in out
    assert climate_sim.writes("stack-1-a") == climate_sim.writes("stack-1-b") == 0


async def test_rs_ws_n01_address_and_baud_written_together_with_fc16(
    climate_sim: ClimateSimulator, serial_line: str
) -> None:
    """Renke manual: 0x07D0 and 0x07D1 written in one FC16 request (address 5, keep 9600)."""
    code, out = await write(serial_line, 2, 0x07D0, 5, 2)
    assert code == 0, out
    assert await read(serial_line, 5, "4", 0x07D0, 2) == [5, 2]
    assert climate_sim.address_of("stack-1-b") == 5
