"""The stacker's codes in words, for refusals, alarms and the status page.

Staff read these when a command is refused (the API's 409) or an alarm rings, so each says what
is wrong in the room, not which bit is set. Unknown codes (a newer PLC program) are named by
their number rather than dropped.
"""

from __future__ import annotations

from stacker.registers import CompletionCode, ExcReq, Mode, RejectReason, Status

_MODES = {
    Mode.OFF: "off",
    Mode.MANUAL: "manual",
    Mode.SEMI_AUTO: "semi-automatic",
    Mode.AUTO: "automatic",
    Mode.MAINTENANCE: "maintenance",
}

_COMPLETIONS = {
    CompletionCode.OK: "completed",
    CompletionCode.EMPTY_RETRIEVAL: "empty retrieval: no box in the source cell",
    CompletionCode.DOUBLE_STORAGE: "double storage: the destination already holds a box",
    CompletionCode.ID_MISMATCH: "the box's RFID does not match the expected box",
    CompletionCode.ID_READ_ERROR: "the box's RFID could not be read",
    CompletionCode.BAD_SOURCE: "bad source cell",
    CompletionCode.BAD_DESTINATION: "bad destination cell",
    CompletionCode.OUTER_CELL_OCCUPIED: "the outer cell in front is occupied",
    CompletionCode.LOAD_ALREADY_ON_FORK: "a load is already on the fork",
    CompletionCode.NOTHING_PICKED: "nothing was picked",
    CompletionCode.HOST_ABORT: "aborted by the host",
    CompletionCode.OPERATOR_ABORT: "aborted or force-finished by an operator",
    CompletionCode.TIMEOUT: "the PLC timed the job out",
    CompletionCode.SAFETY_STOP: "stopped by the safety system",
}

_REJECTS = {
    RejectReason.NOT_IN_AUTO: "the stacker is not in automatic mode",
    RejectReason.BUSY: "the stacker is busy",
    RejectReason.FAULT_ACTIVE: "a fault is active",
    RejectReason.INVALID_COORDINATES: "invalid cell coordinates",
    RejectReason.DOOR_OR_SAFETY: "a door is open or the safety circuit is not closed",
    RejectReason.DUPLICATE_JOB_ID: "the job id was already used",
    RejectReason.BAD_COMMAND_CODE: "bad command code",
}

_EXCEPTIONS = {
    ExcReq.EMPTY_RETRIEVAL: "empty retrieval: no box in the source cell",
    ExcReq.DOUBLE_STORAGE: "double storage: the destination already holds a box",
    ExcReq.ID_MISMATCH: "the box's RFID does not match the expected box",
    ExcReq.ID_READ_ERROR: "the box's RFID could not be read",
    ExcReq.OUTER_CELL_OCCUPIED: "the outer cell in front is occupied",
}


def mode_name(mode: int) -> str:
    try:
        return _MODES[Mode(mode)]
    except ValueError:
        return f"unknown mode {mode}"


def completion_text(code: int) -> str:
    try:
        return _COMPLETIONS[CompletionCode(code)]
    except ValueError:
        return f"unknown completion code {code}"


def reject_text(reason: int) -> str:
    try:
        return _REJECTS[RejectReason(reason)]
    except (ValueError, KeyError):
        return f"unknown reject reason {reason}"


def exception_text(bits: ExcReq) -> str:
    parts = [text for flag, text in _EXCEPTIONS.items() if flag in bits]
    unknown = int(bits) & ~int(sum(_EXCEPTIONS))
    if unknown:
        parts.append(f"unknown exception bits {unknown:#x}")
    return "; ".join(parts) or "no exception"


def doors_text(doors: list[int]) -> str:
    if not doors:
        return "a door is open"
    if len(doors) == 1:
        return f"door {doors[0]} is open"
    listed = ", ".join(str(d) for d in doors[:-1])
    return f"doors {listed} and {doors[-1]} are open"


def status_words(status: Status) -> list[str]:
    """The set STATUS bits as words, in bit order."""
    return [flag.name.lower() for flag in Status if flag in status and flag.name]
