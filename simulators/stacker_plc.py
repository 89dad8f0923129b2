"""A stacker PLC that speaks the register map of docs/design.md §4.3 over real Modbus TCP.

It behaves as the PLC program of an AS/RS crane would, so that the host can be tested (and
demonstrated) without the machine: operating modes, motion that takes time (seconds per bay,
per level and per fork cycle), the cells' contents, the strobe / accept / done / ack handshake,
duplicate job ids answered from its job record (reject reason 6) and never executed twice, its
own watchdog on the host heartbeat, and injectable faults: e-stop, open doors, each exception
request, a PLC heartbeat that stops, and a slow accept.

A box stands at a station until something moves it: a retrieval puts it down there, a store from
the station takes it, and a clerk takes it out or puts one down (:meth:`StackerPlcSimulator.
clerk_takes`, :meth:`~StackerPlcSimulator.clerk_puts`). The STATION register (IR27) reports the
first station: b0 occupied while a box stands there. A retrieval to an occupied station raises
double storage, as a real crane would.

Handshake details a PLC integrator must match (see docs/stacker.md):

- a strobe (HR24) is evaluated when it is written with a non-zero value equal to the low word of
  CMD_JOB_ID; the answer is ``accepted`` + ACTIVE_JOB_ID, or a REJECT_REASON; writing 0 to the
  strobe clears ``accepted`` and REJECT_REASON;
- ``done`` is cleared when EVENT_ACK_JOB equals LAST_DONE_JOB_ID;
- an exception request waits for EXC_ACK == EXC_REQ and a non-zero write of EXC_DECISION; a new
  request is raised only once the host has cleared EXC_ACK and EXC_DECISION;
- a verify job (code 5) never raises an exception request: it reports what it found as its
  completion code (0 box present, 1 empty, 3 other box, 4 unreadable, 7 blocked).

The model (:class:`PlcModel`) is pure and fed a clock; :class:`StackerPlcSimulator` serves it
with pymodbus. Run standalone with ``archroom simulate stacker --port N`` (or ``python -m
simulators.stacker_plc --port N``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import enum
import logging
import signal
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import TracebackType

from pymodbus.constants import ExcCodes
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData

from simulators import modbus
from stacker.cells import CellAddress, RackGeometry
from stacker.registers import (
    EXCEPTION_COMPLETION,
    HR,
    HR_COUNT,
    IF_VERSION,
    IR,
    IR_COUNT,
    U16,
    CmdOpts,
    Command,
    CommandCode,
    CompletionCode,
    Coordinates,
    ExcDecision,
    ExcReq,
    HostCtrl,
    Mode,
    RejectReason,
    StationFlags,
    Status,
    decode_command,
    join_u32,
    pack_box_id,
    split_u32,
)

log = logging.getLogger(__name__)

FAULT_E_STOP = 100
FAULT_DOOR = 101
FORCED_MISMATCH_READ = "UNEXPECTED-BOX"
DOUBLE_DEEP_RACK = RackGeometry(depths=2)
"""The simulated crane's rack unless told otherwise: one aisle, two sides, 20 bays, 8 levels."""


@dataclass(frozen=True, slots=True)
class PlcSettings:
    geometry: RackGeometry = DOUBLE_DEEP_RACK
    """The rack cells the crane serves."""
    stations: tuple[Coordinates, ...] = ((0, 1, 0, 1, 1),)
    seconds_per_bay: float = 0.0
    seconds_per_level: float = 0.0
    seconds_per_fork: float = 0.0
    heartbeat_period_s: float = 0.1
    host_watchdog_s: float = 3.0
    history: int = 10_000
    """Job records kept for duplicate detection."""
    device_id: int = 1


class Stage(enum.IntEnum):
    """The STEP register: where the active job is."""

    IDLE = 0
    TO_SOURCE = 1
    PICK_CHECK = 2
    PICKING = 3
    TO_DESTINATION = 4
    PLACE_CHECK = 5
    PLACING = 6
    EXCEPTION = 7


@dataclass
class _Active:
    command: Command
    stage: Stage
    remaining: float
    on_fork: str | None = None
    check: Stage = Stage.IDLE


@dataclass(frozen=True, slots=True)
class JobRecord:
    command: Command
    completion: int
    read_box_id: str


@dataclass
class PlcModel:
    """The PLC program, stepped by a clock. Not thread-safe; one event loop drives it."""

    settings: PlcSettings = field(default_factory=PlcSettings)
    now: float = 0.0
    hr: list[int] = field(default_factory=lambda: [0] * HR_COUNT)
    mode: Mode = Mode.AUTO
    contents: dict[Coordinates, str] = field(default_factory=dict)
    records: OrderedDict[int, JobRecord] = field(default_factory=OrderedDict)
    executions: Counter[int] = field(default_factory=Counter)
    """How many times each job id was started: a job must never run twice."""
    strobes: Counter[int] = field(default_factory=Counter)
    """Non-zero strobe writes per job id (a host must never resend on its own)."""
    forced: set[ExcReq] = field(default_factory=set)
    slow_accept_s: float = 0.0
    heartbeat_running: bool = True
    estop: bool = False
    doors: int = 0
    fault_code: int = 0
    homed: bool = True

    def __post_init__(self) -> None:
        self._plc_heartbeat = 0
        self._next_beat = self.now
        self._host_hb_changed_at = self.now
        self._accepted = False
        self._done = False
        self._last_done = 0
        self._completion = 0
        self._read_box = ""
        self._reject = RejectReason.NONE
        self._exc_req = ExcReq(0)
        self._active: _Active | None = None
        self._position: Coordinates = (1, 1, 1, 1, 0)
        self._pending_strobe_at: float | None = None
        self._last_ctrl = 0

    # -- host side: register writes -----------------------------------------------------------

    def write(self, address: int, values: Sequence[int]) -> None:
        """The host wrote holding registers (FC06 / FC16)."""
        self.step(self.now)
        before = list(self.hr)
        for i, value in enumerate(values):
            if 0 <= address + i < HR_COUNT:
                self.hr[address + i] = value & U16
        touched = range(address, address + len(values))
        if HR.HOST_HEARTBEAT in touched and self.hr[HR.HOST_HEARTBEAT] != before[0]:
            self._host_hb_changed_at = self.now
        if HR.HOST_CTRL in touched:
            self._host_ctrl(self.hr[HR.HOST_CTRL])
        if HR.CMD_STROBE in touched:
            self._strobe_written(self.hr[HR.CMD_STROBE])
        if HR.EVENT_ACK_JOB in touched or HR.EVENT_ACK_JOB + 1 in touched:
            ack = join_u32(self.hr[HR.EVENT_ACK_JOB], self.hr[HR.EVENT_ACK_JOB + 1])
            if self._done and ack == self._last_done:
                self._done = False
        if HR.EXC_DECISION in touched and self.hr[HR.EXC_DECISION]:
            self._decision(self.hr[HR.EXC_DECISION])
        self.step(self.now)

    def _host_ctrl(self, ctrl: int) -> None:
        rising = ctrl & ~self._last_ctrl
        self._last_ctrl = ctrl
        if rising & HostCtrl.FAULT_RESET and not self.estop and not self.doors:
            self.fault_code = 0
        if rising & HostCtrl.ABORT and self._active is not None:
            self._put_back(self._active)
            self._finish(CompletionCode.HOST_ABORT)

    def _strobe_written(self, strobe: int) -> None:
        if strobe == 0:
            self._accepted = False
            self._reject = RejectReason.NONE
            self._pending_strobe_at = None
            return
        self._reject = RejectReason.NONE
        self._pending_strobe_at = self.now + self.slow_accept_s
        job_id = join_u32(self.hr[HR.CMD_JOB_ID], self.hr[HR.CMD_JOB_ID + 1])
        self.strobes[job_id] += 1

    def _evaluate_strobe(self) -> None:
        strobe = self.hr[HR.CMD_STROBE]
        command = decode_command(self.hr[HR.CMD_JOB_ID : HR.CMD_STROBE])
        job_id = command.job_id
        reason = self._reject_reason(strobe, command)
        if reason is RejectReason.DUPLICATE_JOB_ID:
            record = self.records.get(job_id)
            if record is not None:  # report the stored result; never run it again
                self._last_done = job_id
                self._completion = record.completion
                self._read_box = record.read_box_id
        if reason is not RejectReason.NONE:
            self._reject = reason
            log.info("stacker PLC rejects job %d: %s", job_id, reason.name)
            return
        self._accepted = True
        self.executions[job_id] += 1
        self._read_box = ""
        travel = self._travel(self._position, command.source)
        self._active = _Active(command, Stage.TO_SOURCE, travel)
        log.info("stacker PLC accepts job %d (code %d)", job_id, command.code)

    def _reject_reason(self, strobe: int, command: Command) -> RejectReason:
        job_id = command.job_id
        if job_id == 0 or strobe != job_id & U16:
            return RejectReason.BAD_COMMAND_CODE
        if job_id in self.records or (self._active and self._active.command.job_id == job_id):
            return RejectReason.DUPLICATE_JOB_ID
        if self.mode is not Mode.AUTO:
            return RejectReason.NOT_IN_AUTO
        if self.fault_code or self.estop or self.watchdog_tripped:
            return RejectReason.FAULT_ACTIVE
        if self.doors:
            return RejectReason.DOOR_OR_SAFETY
        if self._active is not None or self._done or self._exc_req:
            return RejectReason.BUSY
        if command.code not in {int(c) for c in CommandCode}:
            return RejectReason.BAD_COMMAND_CODE
        code = CommandCode(command.code)
        needs_source = code in (
            CommandCode.STORE,
            CommandCode.RETRIEVE,
            CommandCode.RELOCATE,
            CommandCode.VERIFY,
        )
        needs_destination = code in (
            CommandCode.STORE,
            CommandCode.RETRIEVE,
            CommandCode.RELOCATE,
            CommandCode.MOVE_EMPTY,
        )
        if needs_source and not self.is_valid(command.source):
            return RejectReason.INVALID_COORDINATES
        if needs_destination and not self.is_valid(command.destination):
            return RejectReason.INVALID_COORDINATES
        return RejectReason.NONE

    def _decision(self, decision: int) -> None:
        active = self._active
        if active is None or not self._exc_req or self.hr[HR.EXC_ACK] != int(self._exc_req):
            return
        exc = self._exc_req
        self._exc_req = ExcReq(0)
        if decision == ExcDecision.RETRY:
            active.stage, active.remaining = active.check, 0.0
        elif decision == ExcDecision.REDIRECT and active.on_fork is not None:
            destination = _coords(self.hr[HR.DST : HR.DST + 5])
            if not self.is_valid(destination):
                self._put_back(active)
                self._finish(CompletionCode.BAD_DESTINATION)
                return
            active.command = _with_destination(active.command, destination)
            active.stage = Stage.TO_DESTINATION
            active.remaining = self._travel(self._position, destination)
        else:  # cancel (and redirect of a failed pick, which has nowhere to go)
            self._put_back(active)
            self._finish(EXCEPTION_COMPLETION.get(exc, CompletionCode.OPERATOR_ABORT))

    # -- the scan cycle -------------------------------------------------------------------------

    def step(self, now: float) -> None:
        """Advance to ``now``: heartbeat, pending strobe, motion."""
        dt = max(0.0, now - self.now)
        self.now = max(self.now, now)
        if self.heartbeat_running and self.now >= self._next_beat:
            self._plc_heartbeat = (self._plc_heartbeat + 1) & U16
            self._next_beat = self.now + self.settings.heartbeat_period_s
        if self._pending_strobe_at is not None and self.now >= self._pending_strobe_at:
            self._pending_strobe_at = None
            self._evaluate_strobe()
        active = self._active
        if active is not None and (self.estop or self.doors):
            self.fault_code = self.fault_code or (FAULT_E_STOP if self.estop else FAULT_DOOR)
            self._put_back(active)
            self._finish(CompletionCode.SAFETY_STOP)
            return
        if self.estop and not self.fault_code:
            self.fault_code = FAULT_E_STOP
        budget = dt
        while self._active is not None and not self._held():
            active = self._active
            if active.remaining > budget:
                active.remaining -= budget
                break
            budget -= active.remaining
            active.remaining = 0.0
            self._advance(active)

    def _held(self) -> bool:
        active = self._active
        if active is None:
            return False
        at_check = active.stage in (Stage.PICK_CHECK, Stage.PLACE_CHECK)
        return (
            self.watchdog_tripped
            or self.mode is not Mode.AUTO
            or active.stage is Stage.EXCEPTION
            # a new exception request waits until the host has cleared the last one's registers
            or (at_check and bool(self.hr[HR.EXC_ACK] or self.hr[HR.EXC_DECISION]))
        )

    def _advance(self, active: _Active) -> None:
        command = active.command
        code = command.code
        if active.stage is Stage.TO_SOURCE:
            self._position = _at(command.source)
            if code == CommandCode.VERIFY:
                self._scan(command)
            elif code in (CommandCode.MOVE_EMPTY, CommandCode.HOME):
                self._position = _at(command.destination)
                self._finish(CompletionCode.OK)
            else:
                active.stage = Stage.PICK_CHECK
        elif active.stage is Stage.PICK_CHECK:
            self._fork_unless(self._pick_exception(command), active, Stage.PICKING)
        elif active.stage is Stage.PICKING:
            active.on_fork = self.contents.pop(command.source, "")
            self._read_box = active.on_fork
            active.stage = Stage.TO_DESTINATION
            active.remaining = self._travel(command.source, command.destination)
        elif active.stage is Stage.TO_DESTINATION:
            self._position = _at(command.destination)
            active.stage = Stage.PLACE_CHECK
        elif active.stage is Stage.PLACE_CHECK:
            self._fork_unless(self._place_exception(command), active, Stage.PLACING)
        elif active.stage is Stage.PLACING:
            self.contents[command.destination] = active.on_fork or ""
            active.on_fork = None
            self._finish(CompletionCode.OK)

    def _fork_unless(self, exc: ExcReq | None, active: _Active, fork_stage: Stage) -> None:
        """After a pick or place check: raise its exception, or move the fork for one fork
        time."""
        if exc is not None:
            self._raise(active, exc)
        else:
            active.stage, active.remaining = fork_stage, self.settings.seconds_per_fork

    def _pick_exception(self, command: Command) -> ExcReq | None:
        source = command.source
        if self._take_forced(ExcReq.OUTER_CELL_OCCUPIED, not _is_station(source)):
            return ExcReq.OUTER_CELL_OCCUPIED
        if self._blocked(source):
            return ExcReq.OUTER_CELL_OCCUPIED
        if self._take_forced(ExcReq.EMPTY_RETRIEVAL) or source not in self.contents:
            self._read_box = ""
            return ExcReq.EMPTY_RETRIEVAL
        if CmdOpts.VERIFY_RFID in command.opts:
            if self._take_forced(ExcReq.ID_READ_ERROR):
                self._read_box = ""
                return ExcReq.ID_READ_ERROR
            read = self.contents[source]
            if self._take_forced(ExcReq.ID_MISMATCH):
                read = FORCED_MISMATCH_READ
            self._read_box = read
            if command.box_id and read != command.box_id:
                return ExcReq.ID_MISMATCH
        return None

    def _place_exception(self, command: Command) -> ExcReq | None:
        destination = command.destination
        if self._take_forced(ExcReq.OUTER_CELL_OCCUPIED) or self._blocked(destination):
            return ExcReq.OUTER_CELL_OCCUPIED
        if self._take_forced(ExcReq.DOUBLE_STORAGE) or destination in self.contents:
            return ExcReq.DOUBLE_STORAGE
        return None

    def _scan(self, command: Command) -> None:
        """Verify/scan: report what is in the source cell; never an exception request."""
        source = command.source
        if self._blocked(source):
            self._finish(CompletionCode.OUTER_CELL_OCCUPIED)
        elif source not in self.contents or self._take_forced(ExcReq.EMPTY_RETRIEVAL):
            self._read_box = ""
            self._finish(CompletionCode.EMPTY_RETRIEVAL)
        elif self._take_forced(ExcReq.ID_READ_ERROR):
            self._read_box = ""
            self._finish(CompletionCode.ID_READ_ERROR)
        else:
            self._read_box = self.contents[source]
            if self._take_forced(ExcReq.ID_MISMATCH):
                self._read_box = FORCED_MISMATCH_READ
            mismatch = command.box_id and self._read_box != command.box_id
            self._finish(CompletionCode.ID_MISMATCH if mismatch else CompletionCode.OK)

    def _raise(self, active: _Active, exc: ExcReq) -> None:
        active.check = active.stage
        active.stage = Stage.EXCEPTION
        self._exc_req = exc
        log.info("stacker PLC job %d requests a decision: %s", active.command.job_id, exc)

    def _take_forced(self, exc: ExcReq, applicable: bool = True) -> bool:
        if applicable and exc in self.forced:
            self.forced.discard(exc)
            return True
        return False

    def _blocked(self, cell: Coordinates) -> bool:
        if _is_station(cell) or cell[4] != 2:
            return False
        return (cell[0], cell[1], cell[2], cell[3], 1) in self.contents

    def _put_back(self, active: _Active) -> None:
        if active.on_fork is not None:
            self.contents[active.command.source] = active.on_fork
            active.on_fork = None

    def _finish(self, completion: CompletionCode) -> None:
        active = self._active
        assert active is not None
        job_id = active.command.job_id
        self._active = None
        self._exc_req = ExcReq(0)
        self._done = True
        self._last_done = job_id
        self._completion = int(completion)
        self.records[job_id] = JobRecord(active.command, int(completion), self._read_box)
        while len(self.records) > self.settings.history:
            self.records.popitem(last=False)
        log.info("stacker PLC job %d done: %s", job_id, completion.name)

    def _travel(self, a: Coordinates, b: Coordinates) -> float:
        s = self.settings
        return max(abs(a[2] - b[2]) * s.seconds_per_bay, abs(a[3] - b[3]) * s.seconds_per_level)

    # -- questions --------------------------------------------------------------------------

    @property
    def watchdog_tripped(self) -> bool:
        return self.now - self._host_hb_changed_at >= self.settings.host_watchdog_s

    def is_valid(self, cell: Coordinates) -> bool:
        if cell in self.settings.stations:
            return True
        return self.settings.geometry.contains(CellAddress.from_coordinates(cell))

    def status(self) -> Status:
        flags = Status(0)
        ready = (
            self.mode is Mode.AUTO
            and self._active is None
            and not self._done
            and not self._accepted
            and not self.fault_code
            and not self.estop
            and not self.doors
            and not self.watchdog_tripped
            and self.homed
            and not self._exc_req
        )
        for flag, on in (
            (Status.READY, ready),
            (Status.ACCEPTED, self._accepted),
            (Status.BUSY, self._active is not None),
            (Status.DONE, self._done),
            (Status.FAULT, bool(self.fault_code)),
            (Status.E_STOP, self.estop),
            (Status.DOOR_OPEN, bool(self.doors)),
            (Status.SAFETY_OK, not self.estop and not self.doors),
            (Status.HOMED, self.homed),
            (Status.LOAD_ON_FORK, self._active is not None and self._active.on_fork is not None),
            (Status.HOST_WATCHDOG_TRIPPED, self.watchdog_tripped),
            (Status.EXCEPTION_REQUEST, bool(self._exc_req)),
        ):
            if on:
                flags |= flag
        return flags

    def input_registers(self) -> list[int]:
        regs = [0] * IR_COUNT
        regs[IR.PLC_HEARTBEAT] = self._plc_heartbeat
        regs[IR.IF_VERSION] = IF_VERSION
        regs[IR.MODE] = int(self.mode)
        regs[IR.STATUS] = int(self.status())
        active_id = self._active.command.job_id if self._active is not None else 0
        regs[IR.ACTIVE_JOB_ID : IR.ACTIVE_JOB_ID + 2] = split_u32(active_id)
        regs[IR.LAST_DONE_JOB_ID : IR.LAST_DONE_JOB_ID + 2] = split_u32(self._last_done)
        regs[IR.COMPLETION_CODE] = self._completion
        regs[IR.REJECT_REASON] = int(self._reject)
        regs[IR.FAULT_CODE] = self.fault_code
        regs[IR.EXC_REQ] = int(self._exc_req)
        regs[IR.POSITION : IR.POSITION + 5] = list(self._position)
        regs[IR.STEP] = int(self._active.stage) if self._active is not None else 0
        regs[IR.READ_BOX_ID : IR.READ_BOX_ID + 8] = pack_box_id(_printable(self._read_box))
        station = StationFlags.DOOR_CLOSED | StationFlags.LIGHT_CURTAIN_CLEAR
        if self.settings.stations and self.settings.stations[0] in self.contents:
            station |= StationFlags.OCCUPIED
        regs[IR.STATION] = int(station)
        regs[IR.DOORS] = self.doors & U16
        return regs


def _coords(regs: Sequence[int]) -> Coordinates:
    return (regs[0], regs[1], regs[2], regs[3], regs[4])


def _at(cell: Coordinates) -> Coordinates:
    """POSITION reports aisle, side, bay, level and the fork (0 = centred)."""
    return (cell[0], cell[1], cell[2], cell[3], 0)


def _is_station(cell: Coordinates) -> bool:
    return cell[0] == 0


def _printable(box_id: str) -> str:
    return "".join(c if " " <= c <= "~" else "?" for c in box_id)[:16]


def _with_destination(command: Command, destination: Coordinates) -> Command:
    return Command(
        command.job_id, command.code, command.source, destination, command.opts, command.box_id
    )


class StackerPlcSimulator:
    """Serves a :class:`PlcModel` over Modbus TCP; use as ``async with``."""

    def __init__(
        self,
        settings: PlcSettings | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings or PlcSettings()
        self.model = PlcModel(self.settings, now=clock())
        self._host = host
        self._port = port
        self._clock = clock
        self._server: ModbusTcpServer | None = None
        self._ticker: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("simulator not started")
        return modbus.listening_port(self._server)

    @property
    def url(self) -> str:
        return f"tcp://{self._host}:{self.port}"

    async def start(self) -> None:
        blocks = (
            [SimData(0, count=16, values=False, datatype=DataType.BITS)],
            [SimData(0, count=16, values=False, datatype=DataType.BITS)],
            [SimData(0, count=HR_COUNT, values=0, datatype=DataType.REGISTERS)],
            [SimData(0, count=IR_COUNT, values=0, datatype=DataType.REGISTERS)],
        )
        plc = modbus.device(self.settings.device_id, blocks, self._answer)
        # a restart (stop, start) keeps the port and the model
        self._server, self._port = await modbus.serve([plc], self._host, self._port)
        self._ticker = asyncio.create_task(self._tick(), name="stacker-plc-sim")

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        if self._server is not None:
            await self._server.shutdown()  # type: ignore[no-untyped-call]
            self._server = None

    async def __aenter__(self) -> StackerPlcSimulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _tick(self) -> None:
        while True:
            self.model.step(self._clock())
            await asyncio.sleep(0.005)

    async def _answer(self, request: modbus.Request) -> ExcCodes | None:
        """Before each access: serve reads from the model, feed it writes."""
        model = self.model
        model.step(self._clock())
        if request.function_code == 4:
            request.registers[:IR_COUNT] = model.input_registers()
        elif request.values is not None and request.function_code in (6, 16):
            model.write(request.address, [int(v) for v in request.values])
        elif request.function_code == 3:
            request.registers[:HR_COUNT] = model.hr
        return None

    # -- fault injection (what a commissioning engineer does to a real crane) ------------------

    def set_mode(self, mode: Mode) -> None:
        self.model.mode = mode

    def press_estop(self) -> None:
        self.model.estop = True
        self.model.step(self._clock())

    def release_estop(self) -> None:
        self.model.estop = False

    def open_door(self, door: int) -> None:
        self.model.doors |= 1 << (door - 1)
        self.model.step(self._clock())

    def close_door(self, door: int) -> None:
        self.model.doors &= ~(1 << (door - 1))

    def inject_exception(self, exc: ExcReq) -> None:
        """The next check of that kind fails once (see :class:`PlcModel`)."""
        self.model.forced.add(exc)

    def stop_heartbeat(self) -> None:
        self.model.heartbeat_running = False

    def resume_heartbeat(self) -> None:
        self.model.heartbeat_running = True

    def set_slow_accept(self, seconds: float) -> None:
        self.model.slow_accept_s = seconds

    def put(self, cell: Coordinates, box_id: str) -> None:
        self.model.contents[cell] = box_id

    def take(self, cell: Coordinates) -> str | None:
        return self.model.contents.pop(cell, None)

    # -- the people at the station ---------------------------------------------------------------

    def clerk_takes(self, station: int = 0) -> str | None:
        """A clerk takes the box standing at the station (the ``station``-th configured one);
        its sensor (IR27 b0, first station) reads clear. Returns the box id, None if empty."""
        return self.model.contents.pop(self.settings.stations[station], None)

    def clerk_puts(self, box_id: str, station: int = 0) -> None:
        """A clerk puts a box down at the station, to be stored (sensor: occupied)."""
        self.model.contents[self.settings.stations[station]] = box_id

    def station_box(self, station: int = 0) -> str | None:
        """The box standing at the station, if any."""
        return self.model.contents.get(self.settings.stations[station])

    def executions(self, job_id: int) -> int:
        return self.model.executions[job_id]


def _parse(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="archroom simulate stacker", description="Stacker PLC simulator (Modbus TCP)."
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5020)
    p.add_argument("--device-id", type=int, default=1)
    p.add_argument("--bays", type=int, default=20)
    p.add_argument("--levels", type=int, default=8)
    p.add_argument("--sides", type=int, default=2)
    p.add_argument("--depths", type=int, default=2)
    p.add_argument("--seconds-per-bay", type=float, default=0.5)
    p.add_argument("--seconds-per-level", type=float, default=0.8)
    p.add_argument("--seconds-per-fork", type=float, default=2.0)
    p.add_argument(
        "--box",
        action="append",
        default=[],
        metavar="A,S,B,L,D=BOXID",
        help="initial contents, e.g. 1,1,3,2,1=BOX-0001 (repeatable)",
    )
    return p.parse_args(list(argv))


def settings_from_args(args: argparse.Namespace) -> tuple[PlcSettings, dict[Coordinates, str]]:
    settings = PlcSettings(
        geometry=RackGeometry(
            bays=args.bays, levels=args.levels, sides=args.sides, depths=args.depths
        ),
        seconds_per_bay=args.seconds_per_bay,
        seconds_per_level=args.seconds_per_level,
        seconds_per_fork=args.seconds_per_fork,
        device_id=args.device_id,
    )
    contents: dict[Coordinates, str] = {}
    for spec in args.box:
        where, _, box = spec.partition("=")
        parts = [int(x) for x in where.split(",")]
        if len(parts) != 5 or not box:
            raise SystemExit(f"bad --box {spec!r} (expected A,S,B,L,D=BOXID)")
        contents[(parts[0], parts[1], parts[2], parts[3], parts[4])] = box
    return settings, contents


async def serve(argv: Sequence[str]) -> None:
    args = _parse(argv)
    settings, contents = settings_from_args(args)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with StackerPlcSimulator(settings, host=args.host, port=args.port) as sim:
        sim.model.contents.update(contents)
        log.info("stacker PLC simulator listening on %s", sim.url)
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> int:
    import sys

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    asyncio.run(serve(sys.argv[1:] if argv is None else argv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
