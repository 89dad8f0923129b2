"""The stacker PLC's Modbus register map (docs/design.md §4.3), and nothing else.

The host and the PLC meet only here: every address, bit and code of the interface is named in
this module so that the handshake, the simulator and the integrator's document cannot drift
apart. Addresses are 0-based PDU addresses; 32-bit values are sent high word first; box ids are
16 ASCII characters packed two to a register, first character in the high byte (the order a
PLC's ``STRING`` or ``ARRAY OF CHAR`` lands in when it is copied to words on most platforms).

Decoders never trust the wire: any 29 register values decode into a :class:`Snapshot` (unknown
codes stay as their number), so a PLC with a newer interface or a garbled frame is reported, not
crashed on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum, IntFlag

IF_VERSION = 1
"""The interface version this host speaks (IR ``IF_VERSION``)."""

HR_COUNT = 29
IR_COUNT = 29
BOX_ID_CHARS = 16
BOX_ID_REGS = BOX_ID_CHARS // 2
U16 = 0xFFFF
U32 = 0xFFFF_FFFF


class HR(IntEnum):
    """Holding registers, host -> PLC (FC16 write, FC06 for the strobe, FC03 read-back)."""

    HOST_HEARTBEAT = 0
    HOST_CTRL = 1
    CMD_JOB_ID = 2  # 2-3, uint32
    CMD_CODE = 4
    SRC = 5  # 5-9: aisle, side, bay, level, depth
    DST = 10  # 10-14
    CMD_OPTS = 15
    CMD_BOX_ID = 16  # 16-23
    CMD_STROBE = 24
    EVENT_ACK_JOB = 25  # 25-26, uint32
    EXC_ACK = 27
    EXC_DECISION = 28


class IR(IntEnum):
    """Input registers, PLC -> host (FC04)."""

    PLC_HEARTBEAT = 0
    IF_VERSION = 1
    MODE = 2
    STATUS = 3
    ACTIVE_JOB_ID = 4  # 4-5
    LAST_DONE_JOB_ID = 6  # 6-7
    COMPLETION_CODE = 8
    REJECT_REASON = 9
    FAULT_CODE = 10
    WARNING_CODE = 11
    EXC_REQ = 12
    POSITION = 13  # 13-17: aisle, side, bay, level, fork
    STEP = 18
    READ_BOX_ID = 19  # 19-26
    STATION = 27
    DOORS = 28


class HostCtrl(IntFlag):
    ONLINE = 1 << 0
    FAULT_RESET = 1 << 1  # pulse: the PLC acts on the rising edge
    ABORT = 1 << 2  # pulse: abort the active job (completion HOST_ABORT)
    STOP_AFTER_STEP = 1 << 3


class CommandCode(IntEnum):
    STORE = 1
    RETRIEVE = 2
    RELOCATE = 3
    MOVE_EMPTY = 4
    VERIFY = 5
    HOME = 6


class CmdOpts(IntFlag):
    VERIFY_RFID = 1 << 0


class Mode(IntEnum):
    OFF = 0
    MANUAL = 1
    SEMI_AUTO = 2
    AUTO = 3
    MAINTENANCE = 4


class Status(IntFlag):
    READY = 1 << 0
    ACCEPTED = 1 << 1
    BUSY = 1 << 2
    DONE = 1 << 3
    FAULT = 1 << 4
    E_STOP = 1 << 5
    DOOR_OPEN = 1 << 6
    SAFETY_OK = 1 << 7
    HOMED = 1 << 8
    LOAD_ON_FORK = 1 << 9
    HOST_WATCHDOG_TRIPPED = 1 << 10
    EXCEPTION_REQUEST = 1 << 11


class CompletionCode(IntEnum):
    OK = 0
    EMPTY_RETRIEVAL = 1
    DOUBLE_STORAGE = 2
    ID_MISMATCH = 3
    ID_READ_ERROR = 4
    BAD_SOURCE = 5
    BAD_DESTINATION = 6
    OUTER_CELL_OCCUPIED = 7
    LOAD_ALREADY_ON_FORK = 8
    NOTHING_PICKED = 9
    HOST_ABORT = 10
    OPERATOR_ABORT = 11
    TIMEOUT = 12
    SAFETY_STOP = 13


class RejectReason(IntEnum):
    NONE = 0
    NOT_IN_AUTO = 1
    BUSY = 2
    FAULT_ACTIVE = 3
    INVALID_COORDINATES = 4
    DOOR_OR_SAFETY = 5
    DUPLICATE_JOB_ID = 6
    BAD_COMMAND_CODE = 7


class ExcReq(IntFlag):
    """Exception requests: the PLC holds the job and waits for the host's decision."""

    EMPTY_RETRIEVAL = 1 << 0
    DOUBLE_STORAGE = 1 << 1
    ID_MISMATCH = 1 << 2
    ID_READ_ERROR = 1 << 3
    OUTER_CELL_OCCUPIED = 1 << 4


class ExcDecision(IntEnum):
    NONE = 0
    RETRY = 1
    CANCEL = 2
    REDIRECT = 3


class StationFlags(IntFlag):
    OCCUPIED = 1 << 0
    DOOR_CLOSED = 1 << 1
    LIGHT_CURTAIN_CLEAR = 1 << 2


EXCEPTION_COMPLETION: dict[ExcReq, CompletionCode] = {
    ExcReq.EMPTY_RETRIEVAL: CompletionCode.EMPTY_RETRIEVAL,
    ExcReq.DOUBLE_STORAGE: CompletionCode.DOUBLE_STORAGE,
    ExcReq.ID_MISMATCH: CompletionCode.ID_MISMATCH,
    ExcReq.ID_READ_ERROR: CompletionCode.ID_READ_ERROR,
    ExcReq.OUTER_CELL_OCCUPIED: CompletionCode.OUTER_CELL_OCCUPIED,
}
"""The completion code a job ends with when its exception is answered with ``cancel``."""


Coordinates = tuple[int, int, int, int, int]
"""aisle, side, bay, level, depth (SRC/DST) -- or aisle, side, bay, level, fork (POSITION)."""


def split_u32(value: int) -> tuple[int, int]:
    """A uint32 as (high word, low word), the order it goes on the wire."""
    if not 0 <= value <= U32:
        raise ValueError(f"not a uint32: {value}")
    return value >> 16, value & U16


def join_u32(high: int, low: int) -> int:
    return ((high & U16) << 16) | (low & U16)


def is_valid_job_id(job_id: int) -> bool:
    """Job ids are uint32, never 0, and never have a zero low word.

    The strobe carries the low word and 0 means "no strobe", so an id like 65536 could never be
    announced; such ids are skipped.
    """
    return 0 < job_id <= U32 and job_id & U16 != 0


def next_job_id(after: int) -> int:
    """The smallest valid job id greater than ``after`` (ValueError when the space is spent)."""
    candidate = after + 1
    if candidate & U16 == 0:
        candidate += 1
    if candidate > U32:
        raise ValueError("job id space exhausted")
    return candidate


def strobe_value(job_id: int) -> int:
    if not is_valid_job_id(job_id):
        raise ValueError(f"invalid job id {job_id}")
    return job_id & U16


def pack_box_id(box_id: str) -> list[int]:
    """16 printable ASCII characters at most, NUL-padded, two per register, high byte first."""
    if len(box_id) > BOX_ID_CHARS:
        raise ValueError(f"box id longer than {BOX_ID_CHARS} characters: {box_id!r}")
    if not all(" " <= c <= "~" for c in box_id):
        raise ValueError(f"box id must be printable ASCII: {box_id!r}")
    raw = box_id.encode("ascii").ljust(BOX_ID_CHARS, b"\0")
    return [(raw[i] << 8) | raw[i + 1] for i in range(0, BOX_ID_CHARS, 2)]


def epc_short_form(epc_hex: str) -> str:
    """The box id CMD_BOX_ID carries for a tag: its last 16 hex digits, upper case.

    A 96-bit EPC has 24 hex digits and does not fit the 16 characters of the register; the low
    64 bits hold the serial part of GS1 schemes (and of most factory EPCs), so they identify
    the box within a room. The PLC's reader must report READ_BOX_ID in the same form.
    """
    digits = epc_hex.strip().upper()
    if not digits or any(c not in "0123456789ABCDEF" for c in digits):
        raise ValueError(f"not a hex EPC: {epc_hex!r}")
    return digits[-BOX_ID_CHARS:]


def unpack_box_id(regs: Sequence[int]) -> str:
    """The box id in ``regs``; padding (NUL or space) is stripped, other bytes become '?'."""
    raw = bytearray()
    for reg in regs[:BOX_ID_REGS]:
        raw += bytes(((reg >> 8) & 0xFF, reg & 0xFF))
    text = "".join(chr(b) if 0x20 <= b <= 0x7E else ("\0" if b == 0 else "?") for b in raw)
    return text.split("\0", 1)[0].rstrip(" ")


def pack_coordinates(coords: Coordinates) -> list[int]:
    for value in coords:
        if not 0 <= value <= U16:
            raise ValueError(f"coordinate out of range: {coords}")
    return list(coords)


def encode_host(counter: int, ctrl: HostCtrl) -> list[int]:
    """HR0-1: the heartbeat counter and the control bits, written together."""
    return [counter & U16, int(ctrl) & U16]


def encode_command(
    job_id: int,
    code: CommandCode,
    *,
    source: Coordinates,
    destination: Coordinates,
    opts: CmdOpts,
    box_id: str,
) -> list[int]:
    """HR2-23, the data block written (FC16) before the strobe."""
    if not is_valid_job_id(job_id):
        raise ValueError(f"invalid job id {job_id}")
    return [
        *split_u32(job_id),
        int(code),
        *pack_coordinates(source),
        *pack_coordinates(destination),
        int(opts),
        *pack_box_id(box_id),
    ]


@dataclass(frozen=True, slots=True)
class Command:
    """A command block as the PLC reads it from HR2-23 (the simulator's view)."""

    job_id: int
    code: int
    source: Coordinates
    destination: Coordinates
    opts: CmdOpts
    box_id: str


def decode_command(block: Sequence[int]) -> Command:
    """Decode HR2-23 (22 registers)."""
    if len(block) != 22:
        raise ValueError(f"command block has {len(block)} registers, expected 22")
    return Command(
        job_id=join_u32(block[0], block[1]),
        code=block[2],
        source=_coords(block[3:8]),
        destination=_coords(block[8:13]),
        opts=CmdOpts(block[13] & U16),
        box_id=unpack_box_id(block[14:22]),
    )


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One FC04 read of IR0-28, decoded. Codes that this host does not know stay numeric."""

    plc_heartbeat: int
    if_version: int
    mode: int
    status: Status
    active_job_id: int
    last_done_job_id: int
    completion_code: int
    reject_reason: int
    fault_code: int
    warning_code: int
    exc_req: ExcReq
    position: Coordinates
    step: int
    read_box_id: str
    station: StationFlags
    doors: int

    def has(self, flag: Status) -> bool:
        return flag in self.status

    @property
    def doors_open(self) -> list[int]:
        """Open access doors, numbered from 1 (bit 0 = door 1)."""
        return [i + 1 for i in range(16) if self.doors >> i & 1]


def decode_inputs(regs: Sequence[int]) -> Snapshot:
    """Decode IR0-28; raises ValueError only for a block of the wrong shape."""
    if len(regs) != IR_COUNT:
        raise ValueError(f"input block has {len(regs)} registers, expected {IR_COUNT}")
    if any(not 0 <= r <= U16 for r in regs):
        raise ValueError("input register value out of 0..65535")
    return Snapshot(
        plc_heartbeat=regs[IR.PLC_HEARTBEAT],
        if_version=regs[IR.IF_VERSION],
        mode=regs[IR.MODE],
        status=Status(regs[IR.STATUS]),
        active_job_id=join_u32(regs[IR.ACTIVE_JOB_ID], regs[IR.ACTIVE_JOB_ID + 1]),
        last_done_job_id=join_u32(regs[IR.LAST_DONE_JOB_ID], regs[IR.LAST_DONE_JOB_ID + 1]),
        completion_code=regs[IR.COMPLETION_CODE],
        reject_reason=regs[IR.REJECT_REASON],
        fault_code=regs[IR.FAULT_CODE],
        warning_code=regs[IR.WARNING_CODE],
        exc_req=ExcReq(regs[IR.EXC_REQ]),
        position=_coords(regs[IR.POSITION : IR.POSITION + 5]),
        step=regs[IR.STEP],
        read_box_id=unpack_box_id(regs[IR.READ_BOX_ID : IR.READ_BOX_ID + BOX_ID_REGS]),
        station=StationFlags(regs[IR.STATION]),
        doors=regs[IR.DOORS],
    )


def encode_inputs(snapshot: Snapshot) -> list[int]:
    """The inverse of :func:`decode_inputs` (used by the simulator and by tests)."""
    regs = [0] * IR_COUNT
    regs[IR.PLC_HEARTBEAT] = snapshot.plc_heartbeat & U16
    regs[IR.IF_VERSION] = snapshot.if_version
    regs[IR.MODE] = snapshot.mode
    regs[IR.STATUS] = int(snapshot.status) & U16
    regs[IR.ACTIVE_JOB_ID : IR.ACTIVE_JOB_ID + 2] = split_u32(snapshot.active_job_id)
    regs[IR.LAST_DONE_JOB_ID : IR.LAST_DONE_JOB_ID + 2] = split_u32(snapshot.last_done_job_id)
    regs[IR.COMPLETION_CODE] = snapshot.completion_code
    regs[IR.REJECT_REASON] = snapshot.reject_reason
    regs[IR.FAULT_CODE] = snapshot.fault_code
    regs[IR.WARNING_CODE] = snapshot.warning_code
    regs[IR.EXC_REQ] = int(snapshot.exc_req) & U16
    regs[IR.POSITION : IR.POSITION + 5] = pack_coordinates(snapshot.position)
    regs[IR.STEP] = snapshot.step
    regs[IR.READ_BOX_ID : IR.READ_BOX_ID + BOX_ID_REGS] = pack_box_id(snapshot.read_box_id)
    regs[IR.STATION] = int(snapshot.station) & U16
    regs[IR.DOORS] = snapshot.doors
    return regs


def _coords(regs: Sequence[int]) -> Coordinates:
    return (regs[0], regs[1], regs[2], regs[3], regs[4])
