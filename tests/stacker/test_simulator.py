"""The PLC simulator, driven by a plain pymodbus client at the raw addresses of docs/design.md §4.3.

These tests deliberately spell out register numbers and bit positions from docs/design.md §4.3
(and docs/stacker.md) instead of importing ``stacker.registers``, so the simulator is checked
against the document and not only against our own controller.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from pymodbus.client import AsyncModbusTcpClient

from simulators.stacker_plc import PlcSettings, StackerPlcSimulator
from tests.stacker.conftest import STATION
from tests.support.fixtures import PLC_SETTINGS
from tests.support.poll import eventually

# Input registers (FC04)
IR_HEARTBEAT, IR_VERSION, IR_MODE, IR_STATUS = 0, 1, 2, 3
IR_ACTIVE, IR_LAST_DONE, IR_COMPLETION, IR_REJECT = 4, 6, 8, 9
IR_FAULT, IR_EXC_REQ, IR_POSITION, IR_READ_BOX, IR_STATION, IR_DOORS = 10, 12, 13, 19, 27, 28
# STATUS bits
READY, ACCEPTED, BUSY, DONE, FAULT, E_STOP, DOOR_OPEN = 1, 2, 4, 8, 16, 32, 64
SAFETY_OK, HOMED, LOAD_ON_FORK, WATCHDOG, EXC_REQUEST = 128, 256, 512, 1024, 2048


def box_regs(box: str) -> list[int]:
    raw = box.encode().ljust(16, b"\0")
    return [raw[i] << 8 | raw[i + 1] for i in range(0, 16, 2)]


def box_text(regs: list[int]) -> str:
    raw = b"".join(bytes((r >> 8, r & 0xFF)) for r in regs)
    return raw.rstrip(b"\0").decode()


class Host:
    """A minimal host speaking the table by hand."""

    def __init__(self, client: AsyncModbusTcpClient) -> None:
        self.client = client
        self.beat = 0

    async def ir(self) -> list[int]:
        rr = await self.client.read_input_registers(0, count=29, device_id=1)
        assert not rr.isError()
        return list(rr.registers)

    async def hr(self) -> list[int]:
        rr = await self.client.read_holding_registers(0, count=29, device_id=1)
        assert not rr.isError()
        return list(rr.registers)

    async def write(self, address: int, values: list[int]) -> None:
        rr = await self.client.write_registers(address, values, device_id=1)
        assert not rr.isError()

    async def write1(self, address: int, value: int) -> None:
        rr = await self.client.write_register(address, value, device_id=1)
        assert not rr.isError()

    async def heartbeat(self) -> None:
        self.beat += 1
        await self.write(0, [self.beat, 1])

    async def command(
        self,
        job_id: int,
        code: int,
        src: tuple[int, ...],
        dst: tuple[int, ...],
        box: str = "",
        verify: bool = False,
    ) -> None:
        block = [job_id >> 16, job_id & 0xFFFF, code, *src, *dst, int(verify), *box_regs(box)]
        assert len(block) == 22
        await self.write(2, block)
        await self.write1(24, job_id & 0xFFFF)

    async def wait_status(self, bit: int, on: bool = True) -> list[int]:
        regs: list[int] = []

        async def check() -> bool:
            nonlocal regs
            regs = await self.ir()
            return bool(regs[IR_STATUS] & bit) == on

        await eventually(check)
        return regs

    async def wait_done(self, job_id: int) -> list[int]:
        regs: list[int] = []

        async def check() -> bool:
            nonlocal regs
            regs = await self.ir()
            return bool(regs[IR_STATUS] & DONE) and u32(regs, IR_LAST_DONE) == job_id

        await eventually(check)
        return regs

    async def ack(self, job_id: int) -> None:
        await self.write(25, [job_id >> 16, job_id & 0xFFFF])


def u32(regs: list[int], at: int) -> int:
    return regs[at] << 16 | regs[at + 1]


FAR = (1, 1, 9, 1, 1)
"""The cell furthest from the station: a retrieval from it keeps the crane busy for a while."""


async def retrieve_from_far(sim: StackerPlcSimulator, host: Host, job_id: int) -> None:
    """Put ``BOX-FAR`` in the ``FAR`` cell and command its retrieval (code 2) as ``job_id``."""
    sim.put(FAR, "BOX-FAR")
    await host.command(job_id, 2, FAR, STATION)


@pytest.fixture
def host(raw: AsyncModbusTcpClient) -> Host:
    return Host(raw)


async def test_plc_heartbeat_counts_and_reports_interface_version_1_in_auto(host: Host) -> None:
    first = await host.ir()
    assert first[IR_VERSION] == 1
    assert first[IR_MODE] == 3

    async def moved() -> bool:
        return (await host.ir())[IR_HEARTBEAT] != first[IR_HEARTBEAT]

    await eventually(moved)
    assert first[IR_STATUS] & (READY | SAFETY_OK | HOMED) == READY | SAFETY_OK | HOMED


@pytest.fixture
def plc_settings() -> PlcSettings:
    return replace(PLC_SETTINGS, seconds_per_bay=0.05, seconds_per_fork=0.05)


async def test_store_job_runs_the_full_handshake(sim: StackerPlcSimulator, host: Host) -> None:
    sim.put(STATION, "BOX-0001")
    job_id = 0x0001_0002  # high word first on the wire
    await host.command(job_id, 1, STATION, (1, 2, 5, 3, 1), box="BOX-0001", verify=True)
    regs = await host.wait_status(ACCEPTED)
    assert u32(regs, IR_ACTIVE) == job_id
    assert regs[IR_ACTIVE] == 1  # high word first
    assert regs[IR_ACTIVE + 1] == 2
    assert regs[IR_STATUS] & READY == 0

    await host.write1(24, 0)  # clear the strobe: the PLC drops "accepted"
    regs = await host.wait_status(ACCEPTED, on=False)
    assert regs[IR_STATUS] & BUSY or regs[IR_STATUS] & DONE

    regs = await host.wait_done(job_id)
    assert regs[IR_COMPLETION] == 0
    assert box_text(regs[IR_READ_BOX : IR_READ_BOX + 8]) == "BOX-0001"
    assert u32(regs, IR_ACTIVE) == 0
    assert regs[IR_POSITION : IR_POSITION + 4] == [1, 2, 5, 3]

    await host.ack(job_id)
    regs = await host.wait_status(DONE, on=False)
    assert regs[IR_STATUS] & READY
    assert sim.model.contents[(1, 2, 5, 3, 1)] == "BOX-0001"
    assert STATION not in sim.model.contents
    assert (await host.hr())[2:4] == [1, 2]


async def test_busy_bit_is_set_while_the_crane_moves(sim: StackerPlcSimulator, host: Host) -> None:
    await retrieve_from_far(sim, host, 7)
    regs = await host.wait_status(BUSY)
    assert u32(regs, IR_ACTIVE) == 7
    assert (await host.wait_done(7))[IR_STATUS] & BUSY == 0


async def test_duplicate_job_id_is_rejected_with_reason_6_and_the_stored_result(
    sim: StackerPlcSimulator, host: Host
) -> None:
    await host.command(41, 2, (1, 1, 1, 1, 1), STATION)  # empty cell: exception, then cancel
    regs = await host.wait_status(EXC_REQUEST)
    await host.write1(27, regs[IR_EXC_REQ])
    await host.write1(28, 2)
    regs = await host.wait_done(41)
    assert regs[IR_COMPLETION] == 1
    await host.write(27, [0, 0])
    await host.write1(24, 0)
    await host.ack(41)
    await host.wait_status(DONE, on=False)
    sim.put((1, 1, 2, 1, 1), "BOX-A")
    await host.command(42, 2, (1, 1, 2, 1, 1), STATION)
    await host.write1(24, 0)
    await host.wait_done(42)
    await host.ack(42)
    await host.wait_status(DONE, on=False)

    await host.command(41, 2, (1, 1, 1, 1, 1), STATION)

    async def rejected() -> bool:
        return (await host.ir())[IR_REJECT] != 0

    await eventually(rejected)
    regs = await host.ir()
    assert regs[IR_REJECT] == 6
    assert u32(regs, IR_LAST_DONE) == 41
    assert regs[IR_COMPLETION] == 1
    assert regs[IR_STATUS] & ACCEPTED == 0
    assert sim.executions(41) == 1
    await host.write1(24, 0)  # clearing the strobe clears the reject reason
    assert (await host.ir())[IR_REJECT] == 0


async def test_commands_outside_auto_mode_are_rejected_with_reason_1(
    sim: StackerPlcSimulator, host: Host
) -> None:
    from stacker.registers import Mode  # the simulator's knob, not the wire

    sim.set_mode(Mode.MANUAL)
    regs = await host.ir()
    assert regs[IR_MODE] == 1
    assert regs[IR_STATUS] & READY == 0
    await host.command(5, 5, (1, 1, 1, 1, 1), (1, 1, 1, 1, 1))
    assert (await host.ir())[IR_REJECT] == 1
    assert sim.executions(5) == 0


async def test_emergency_stop_latches_a_fault_and_rejects_with_reason_3(
    sim: StackerPlcSimulator, host: Host
) -> None:
    sim.press_estop()
    regs = await host.ir()
    assert regs[IR_STATUS] & E_STOP
    assert regs[IR_STATUS] & SAFETY_OK == 0
    assert regs[IR_STATUS] & FAULT
    assert regs[IR_FAULT] != 0
    await host.command(5, 5, (1, 1, 1, 1, 1), (1, 1, 1, 1, 1))
    assert (await host.ir())[IR_REJECT] == 3
    await host.write1(24, 0)

    sim.release_estop()
    assert (await host.ir())[IR_STATUS] & FAULT  # latched until the host resets it
    await host.write(0, [1, 1 | 2])  # HOST_CTRL b1 fault_reset (rising edge)
    await host.write(0, [2, 1])
    regs = await host.ir()
    assert regs[IR_FAULT] == 0
    assert regs[IR_STATUS] & READY


async def test_open_door_is_reported_per_door_and_rejects_with_reason_5(
    sim: StackerPlcSimulator, host: Host
) -> None:
    sim.open_door(2)
    regs = await host.ir()
    assert regs[IR_DOORS] == 0b10
    assert regs[IR_STATUS] & DOOR_OPEN
    assert regs[IR_STATUS] & READY == 0
    await host.command(5, 5, (1, 1, 1, 1, 1), (1, 1, 1, 1, 1))
    assert (await host.ir())[IR_REJECT] == 5
    sim.close_door(2)
    await host.write1(24, 0)
    assert (await host.ir())[IR_STATUS] & READY


async def test_emergency_stop_during_a_job_ends_it_with_safety_stop(
    sim: StackerPlcSimulator, host: Host
) -> None:
    await retrieve_from_far(sim, host, 8)
    await host.wait_status(BUSY)
    sim.press_estop()
    regs = await host.wait_done(8)
    assert regs[IR_COMPLETION] == 13
    assert sim.model.contents[FAR] == "BOX-FAR"


async def test_second_command_while_busy_is_rejected_with_reason_2(
    sim: StackerPlcSimulator, host: Host
) -> None:
    await retrieve_from_far(sim, host, 9)
    await host.wait_status(ACCEPTED)
    await host.write1(24, 0)
    await host.command(10, 5, (1, 1, 1, 1, 1), (1, 1, 1, 1, 1))
    assert (await host.ir())[IR_REJECT] == 2
    assert sim.executions(10) == 0


async def test_strobe_that_is_not_the_job_id_low_word_is_rejected(host: Host) -> None:
    await host.write(2, [0, 11, 5, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, *box_regs("")])
    await host.write1(24, 12)
    assert (await host.ir())[IR_REJECT] == 7


async def test_invalid_coordinates_are_rejected_with_reason_4(host: Host) -> None:
    await host.command(12, 3, (1, 1, 1, 1, 1), (1, 3, 1, 1, 1))  # the rack has two sides
    assert (await host.ir())[IR_REJECT] == 4


@pytest.mark.parametrize(
    ("kind", "bit", "completion"),
    [
        ("empty retrieval", 1, 1),
        ("double storage", 2, 2),
        ("ID mismatch", 4, 3),
        ("ID read error", 8, 4),
        ("outer cell occupied", 16, 7),
    ],
)
async def test_each_exception_is_requested_and_cancel_ends_the_job_with_its_code(
    sim: StackerPlcSimulator, host: Host, kind: str, bit: int, completion: int
) -> None:
    from stacker.registers import ExcReq  # the injection knob only

    inner, outer = (1, 1, 3, 2, 2), (1, 1, 3, 2, 1)
    if kind == "empty retrieval":
        await host.command(20, 2, (1, 1, 4, 1, 1), STATION)
    elif kind == "double storage":
        sim.put(STATION, "BOX-IN")
        sim.put((1, 2, 2, 2, 1), "BOX-THERE")
        await host.command(20, 1, STATION, (1, 2, 2, 2, 1), box="BOX-IN", verify=True)
    elif kind == "ID mismatch":
        sim.put((1, 1, 4, 1, 1), "BOX-OTHER")
        await host.command(20, 2, (1, 1, 4, 1, 1), STATION, box="BOX-WANTED", verify=True)
    elif kind == "ID read error":
        sim.put((1, 1, 4, 1, 1), "BOX-1")
        sim.inject_exception(ExcReq.ID_READ_ERROR)
        await host.command(20, 2, (1, 1, 4, 1, 1), STATION, box="BOX-1", verify=True)
    else:
        sim.put(inner, "BOX-INNER")
        sim.put(outer, "BOX-OUTER")
        await host.command(20, 2, inner, STATION)

    regs = await host.wait_status(EXC_REQUEST)
    assert regs[IR_EXC_REQ] == bit
    assert u32(regs, IR_ACTIVE) == 20
    if kind == "ID mismatch":
        assert box_text(regs[IR_READ_BOX : IR_READ_BOX + 8]) == "BOX-OTHER"

    await host.write1(28, 2)  # a decision without EXC_ACK is not taken
    assert (await host.ir())[IR_EXC_REQ] == bit
    await host.write1(28, 0)
    await host.write1(27, bit)
    await host.write1(28, 2)
    regs = await host.wait_done(20)
    assert regs[IR_COMPLETION] == completion
    assert regs[IR_EXC_REQ] == 0
    if kind == "double storage":
        assert sim.model.contents[STATION] == "BOX-IN"  # the box went back where it came from


async def test_redirect_decision_places_the_box_at_the_new_destination(
    sim: StackerPlcSimulator, host: Host
) -> None:
    sim.put(STATION, "BOX-IN")
    sim.put((1, 2, 2, 2, 1), "BOX-THERE")
    await host.command(30, 1, STATION, (1, 2, 2, 2, 1))
    regs = await host.wait_status(EXC_REQUEST)
    assert regs[IR_EXC_REQ] == 2
    assert regs[IR_STATUS] & LOAD_ON_FORK
    await host.write1(27, 2)
    await host.write(10, [1, 2, 6, 2, 1])  # new DST
    await host.write1(28, 3)
    await host.wait_status(EXC_REQUEST, on=False)
    await host.write(27, [0, 0])  # the PLC's next check waits for the cleared registers
    regs = await host.wait_done(30)
    assert regs[IR_COMPLETION] == 0
    assert sim.model.contents[(1, 2, 6, 2, 1)] == "BOX-IN"
    assert sim.model.contents[(1, 2, 2, 2, 1)] == "BOX-THERE"


async def test_retry_decision_repeats_the_check_and_a_new_request_waits_for_cleared_registers(
    sim: StackerPlcSimulator, host: Host
) -> None:
    from stacker.registers import ExcReq

    sim.put((1, 1, 4, 1, 1), "BOX-1")
    sim.inject_exception(ExcReq.ID_READ_ERROR)
    sim.inject_exception(ExcReq.EMPTY_RETRIEVAL)
    await host.command(31, 2, (1, 1, 4, 1, 1), STATION, box="BOX-1", verify=True)
    regs = await host.wait_status(EXC_REQUEST)
    assert regs[IR_EXC_REQ] == 1
    await host.write1(27, 1)
    await host.write1(28, 1)  # retry: the check runs again and now fails to read the tag

    async def exc_cleared() -> bool:
        return (await host.ir())[IR_EXC_REQ] == 0

    await eventually(exc_cleared)
    assert (await host.ir())[IR_EXC_REQ] == 0  # held until EXC_ACK and EXC_DECISION are 0
    await host.write(27, [0, 0])
    regs = await host.wait_status(EXC_REQUEST)
    assert regs[IR_EXC_REQ] == 8
    await host.write1(27, 8)
    await host.write1(28, 1)
    await eventually(exc_cleared)
    await host.write(27, [0, 0])
    regs = await host.wait_done(31)
    assert regs[IR_COMPLETION] == 0
    assert sim.executions(31) == 1


async def test_verify_reports_what_it_finds_without_an_exception_request(
    sim: StackerPlcSimulator, host: Host
) -> None:
    sim.put((1, 1, 5, 1, 1), "BOX-5")
    await host.command(50, 5, (1, 1, 5, 1, 1), (1, 1, 5, 1, 1), box="BOX-5", verify=True)
    regs = await host.wait_done(50)
    assert regs[IR_COMPLETION] == 0
    assert box_text(regs[IR_READ_BOX : IR_READ_BOX + 8]) == "BOX-5"
    await host.write1(24, 0)
    await host.ack(50)
    await host.wait_status(DONE, on=False)
    await host.command(51, 5, (1, 1, 6, 1, 1), (1, 1, 6, 1, 1))
    assert (await host.wait_done(51))[IR_COMPLETION] == 1


async def test_host_abort_ends_the_active_job_with_code_10(
    sim: StackerPlcSimulator, host: Host
) -> None:
    await retrieve_from_far(sim, host, 60)
    await host.wait_status(BUSY)
    await host.write(0, [1, 1 | 4])  # HOST_CTRL b2 abort
    regs = await host.wait_done(60)
    assert regs[IR_COMPLETION] == 10


async def test_station_register_shows_an_occupied_station(
    sim: StackerPlcSimulator, host: Host
) -> None:
    assert (await host.ir())[IR_STATION] & 1 == 0
    sim.put(STATION, "BOX-AT-DESK")
    regs = await host.ir()
    assert regs[IR_STATION] & 1
    assert regs[IR_STATION] & 0b110 == 0b110


@pytest.mark.parametrize("plc_settings", [PlcSettings(host_watchdog_s=1.0)])
async def test_host_watchdog_trips_without_heartbeat_and_clears_when_it_resumes(
    host: Host,
) -> None:
    regs = await host.wait_status(WATCHDOG)
    assert regs[IR_STATUS] & READY == 0
    await host.heartbeat()
    regs = await host.ir()
    assert regs[IR_STATUS] & WATCHDOG == 0
    assert regs[IR_STATUS] & READY


@pytest.mark.parametrize("plc_settings", [PlcSettings(host_watchdog_s=0.3, seconds_per_bay=0.1)])
async def test_host_watchdog_holds_motion(sim: StackerPlcSimulator, host: Host) -> None:
    await host.heartbeat()
    await retrieve_from_far(sim, host, 70)
    regs = await host.wait_status(WATCHDOG)
    step = regs[18]
    assert regs[IR_STATUS] & BUSY
    regs = await host.ir()
    assert regs[18] == step
    assert regs[IR_STATUS] & DONE == 0

    async def done_while_beating() -> bool:
        await host.heartbeat()
        regs = await host.ir()
        return bool(regs[IR_STATUS] & DONE) and u32(regs, IR_LAST_DONE) == 70

    await eventually(done_while_beating)


async def test_slow_accept_answers_the_strobe_late(sim: StackerPlcSimulator, host: Host) -> None:
    sim.set_slow_accept(1.0)
    await host.command(80, 5, (1, 1, 1, 1, 1), (1, 1, 1, 1, 1))
    regs = await host.ir()
    assert u32(regs, IR_ACTIVE) == 0
    assert regs[IR_STATUS] & ACCEPTED == 0
    await host.wait_done(80)


async def test_stopped_plc_heartbeat_no_longer_changes(
    sim: StackerPlcSimulator, host: Host
) -> None:
    sim.stop_heartbeat()
    first = (await host.ir())[IR_HEARTBEAT]
    sim.model.step(sim.model.now + 1.0)
    assert (await host.ir())[IR_HEARTBEAT] == first
