"""Words for people, as a key and parameters: the reader's language is the console's business.

A refusal, an alarm or a stacker note is written once, here, as a message key with its English
template. The daemon logs and answers the English rendering (the API's ``detail``, an alarm's
``message``); next to it the API carries the key and the parameters, and the staff console
renders them from its catalogue (``api/console/messages/{en,zh}.json``, key ``msg.<key>``), in
Chinese or English. A parameter is plain data (a reference, a number, a location code),
another message (a reason inside a refusal) or a list of messages (said one after the other,
apart by ``list.separator``); parameters named ``location`` or ending in
``_location`` or ``cell`` hold location codes, which the console shows by their names.

Pure: no I/O, no imports from the rest of the daemon. A test checks that every key here is in
both console catalogues with the same parameters.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

Param: TypeAlias = "str | int | float | Message | tuple[Message, ...] | None"

ENGLISH: Mapping[str, str] = {
    # -- circulation: check-out, return, renewal ---------------------------------------------
    "disposition.destroyed": "destroyed",
    "disposition.transferred": "transferred",
    "item.disposed": "{ref} was {disposition}; it is no longer held",
    "item.not_found": "no catalogue record with ref '{ref}'",
    "loan.already_on_loan": "{ref} is already on loan (loan {loan_id})",
    "loan.already_returned": "loan {loan_id} was already returned",
    "loan.approved_for_other": (
        "loan request {request_id} was approved for {approved}, not {borrower}"
    ),
    "loan.changed_meanwhile": "loan {loan_id} changed meanwhile; try again",
    "loan.concurrent": "{ref} was checked out concurrently by another desk",
    "loan.due_after": "the new due date must be after {due}",
    "loan.needs_approval": (
        "loan rule of category '{category}': a check-out needs a loan request approved by an "
        "approver; none is approved for {ref}"
    ),
    "loan.not_found": "no loan {loan_id}",
    "loan.not_on_loan": "{ref} is not on loan",
    "loan.renewal_days": "{rule}: a renewal extends by at most {days} days",
    "loan.renewals_max": "loan {loan_id} has been renewed {renewals} times, the maximum",
    "loan.renewals_max_rule": (
        "loan {loan_id} has been renewed {renewals} times, the maximum (loan rule of category "
        "'{category}')"
    ),
    "loan_rule.any": "loan rule",
    "loan_rule.category": "loan rule of category '{category}'",
    "loan_rule.due_in_past": "due date {due} is in the past",
    "loan_rule.kind_missing": "{rule}: say the borrower's kind (borrower_kind: one of {allowed})",
    "loan_rule.kind_refused": "{rule}: borrowers of kind '{kind}' may not borrow ({allowed} may)",
    "loan_rule.max_days": "{rule}: a loan lasts at most {days} days (due by {latest})",
    "tag.unbound": "tag {epc} is bound to no item",
    "desk.offline": "desk reader {reader} is offline",
    "desk.failed": "desk reader {reader}: {reason}",
    # -- loan requests ---------------------------------------------------------------------------
    "request.already_open": "loan request {request_id} for {ref} is already open",
    "request.changed_meanwhile": "loan request {request_id} changed meanwhile; look again",
    "request.closed": "loan request {request_id} is {state}",
    "request.not_found": "no loan request {request_id}",
    "request.not_pending": "loan request {request_id} is {state}, not pending",
    "request.own": "loan request {request_id} was filed by {actor}, who cannot decide it",
    "request.state.approved": "approved",
    "request.state.cancelled": "cancelled",
    "request.state.fulfilled": "fulfilled",
    "request.state.pending": "pending",
    "request.state.rejected": "rejected",
    # -- disposal (destruction or transfer) ----------------------------------------------------
    "disposal.already_approved.admin": "disposal {disposal_id} already has its admin's approval",
    "disposal.already_approved.approver": (
        "disposal {disposal_id} already has its approver's approval"
    ),
    "disposal.approval_no": "approval_no: the approver gives the approval number",
    "disposal.cannot": "cannot be disposed of: {problems}",
    "disposal.cannot_more": "cannot be disposed of: {problems} (and {more} more)",
    "disposal.changed_meanwhile": "disposal {disposal_id} changed meanwhile; look again",
    "disposal.closed": "disposal {disposal_id} is {state}",
    "disposal.lent_now": "on loan now, return first: {refs}",
    "disposal.not_approved": (
        "disposal {disposal_id} is {state}; it is carried out once approved by an approver and "
        "an admin"
    ),
    "disposal.not_found": "no disposal {disposal_id}",
    "disposal.not_proposed": "disposal {disposal_id} is {state}, not proposed",
    "disposal.problem": "{ref}: {problem}",
    "disposal.problem.already": "already {disposition}",
    "disposal.problem.in_disposal": "already in disposal {disposal_id}",
    "disposal.problem.no_year": "no year: cannot be appraised",
    "disposal.problem.not_catalogued": "not catalogued",
    "disposal.problem.not_eligible": "not eligible",
    "disposal.problem.on_loan": "on loan (loan {loan_id})",
    "disposal.problem.permanent": "permanent (Y): never disposed of",
    "disposal.problem.retention": "retention runs until {date}",
    "disposal.receiver": "receiver: a transfer names the receiving body",
    "disposal.refs": "refs: 1 to {max} items",
    "disposal.second_person": (
        "disposal {disposal_id} was already approved by {actor}; the second approval must come "
        "from another person"
    ),
    "disposal.state.approved": "approved",
    "disposal.state.carried_out": "carried_out",
    "disposal.state.proposed": "proposed",
    "disposal.state.rejected": "rejected",
    "list.separator": "; ",
    # -- reconciliation findings (daemon/reconcile/classify.py words them; read back by class) --
    "finding.file_outside_box.box_at": "its box {box} is at {location}",
    "finding.key_field_mismatch.fields": "{fields}",
    "finding.misplaced.located": "located at {location} ({source})",
    "finding.missing.left": "left the room without a loan and has not been seen since",
    "finding.missing.failed_verify": "stacker verify job {job_id} of {location}: {result}",
    "finding.missing.unread": (
        "not read in the last full sweeps of {location} (missing since {since})"
    ),
    "finding.missing.unread_elsewhere": (
        "not read in the last full sweeps of {home_location} (missing since {since}); last "
        "located at {location}"
    ),
    "finding.missing.unread_unplaced": (
        "not read in the last full sweeps of its place (missing since {since})"
    ),
    "finding.no_electronic_record.none": "names no electronic record",
    "finding.no_electronic_record.unpushed": (
        "names electronic record {record_id}, which the catalogue has not pushed"
    ),
    "finding.no_paper_original.record": (
        "electronic record {record_id} ({category}) has no paper item"
    ),
    "finding.no_paper_original.record_ref": (
        "electronic record {record_id} ({category}) has no paper item; item {ref} exists but "
        "does not name this record"
    ),
    "finding.on_loan_on_shelf.loan_open": "loan {loan_id} is open",
    "finding.unknown_tag.settled": "settled on a shelf; no record holds this tag",
    "finding.untagged.never": "never tagged",
    "finding.untagged.retired": "tag retired, none bound since",
    # -- alarms --------------------------------------------------------------------------------
    "alarm.gate_unauthorized": "{ref} was carried out through gate {gate} without a loan",
    "alarm.gate_unauthorized_tag": "tag {epc} was carried out through gate {gate} without a loan",
    "alarm.item_misplaced": "{what} is on {seen_location}; its place is {home_location}",
    "alarm.item_missing": "{what} not read at {location} in its last full sweeps",
    "alarm.loan_overdue": "{ref} was due back on {due} from {borrower}",
    "alarm.reader_down": "reader {reader} is unreachable: {reason}",
    "alarm.climate.temperature-high": "{source}: temperature {value} °C above {limit} °C",
    "alarm.climate.temperature-low": "{source}: temperature {value} °C below {limit} °C",
    "alarm.climate.humidity-high": "{source}: humidity {value} % above {limit} %",
    "alarm.climate.humidity-low": "{source}: humidity {value} % below {limit} %",
    "alarm.climate.temperature-fluctuation": (
        "{source}: temperature moved {value} °C within 24 h (limit {limit} °C)"
    ),
    "alarm.climate.humidity-fluctuation": (
        "{source}: humidity moved {value} % within 24 h (limit {limit} %)"
    ),
    "alarm.climate.mould-risk": "{source}: mould risk: humidity {value} % at or above {limit} %",
    "alarm.sensor_fault": "{source}: {reason}",
    # -- why a climate sensor is down (sensors/schedule.py and sensors/bus.py word them) -----
    "sensor.in_a_row": "{reason} ({count} in a row)",
    "sensor.reason.bad_answer": "bad answer: {error}",
    "sensor.reason.exception_code": "exception code {code}",
    "sensor.reason.no_response": "no response",
    "sensor.reason.rejected": "rejected {reason}",
    "sensor.reason.stuck": "values unchanged for {hours} h",
    # what a sensor profile rejects (sensors/profiles.py words it; read back by sensor_reason)
    "sensor.quantity.humidity": "humidity",
    "sensor.quantity.temperature": "temperature",
    "sensor.rejected.answers": "{answers} answers for {requests} requests",
    "sensor.rejected.error_code": "{quantity}: sensor error code {code}",
    "sensor.rejected.not_a_number": "{quantity}: not a number ({raw})",
    "sensor.rejected.out_of_range": "{quantity}: {value} outside {low}..{high}",
    "sensor.rejected.registers": "{registers} registers answered, {asked} asked",
    "sensor.rejected.too_few": "{quantity}: {registers} registers, need {need}",
    "alarm.stacker_down": "stacker {stacker} is unavailable: {reason}",
    "alarm.stacker_fault": "stacker {stacker}: {description}",
    "alarm.stacker_accept_timeout": (
        "{job}: the PLC did not accept it within {seconds} s; it is not resent (decide retry or "
        "cancel)"
    ),
    "alarm.stacker_exception": "{job} waits for a decision: {exception}",
    "alarm.stacker_foreign_result": (
        "stacker {stacker} reported a result for job {job_id} (completion {code}), which this "
        "host never sent"
    ),
    "alarm.stacker_job_failed": "{job} ended: {why}",
    "alarm.stacker_job_timeout": "{job} is still running after {seconds} s",
    "alarm.stacker_journal": (
        "stacker {stacker}: its job journal cannot be written ({reason}); results wait at the PLC "
        "and no command is sent until it can"
    ),
    "alarm.stacker_outcome_unknown": (
        "{job}: outcome unknown ({note}); verify jobs are establishing it, it is not resent"
    ),
    "alarm.stacker_station_mismatch": (
        "stacker {stacker}: station {station} holds a box the stacker did not bring there (its "
        "sensor says occupied, the host's record says empty); retrievals to it wait until it is "
        "clear"
    ),
    # -- the stacker ---------------------------------------------------------------------------
    "stacker.a_box": "a box",
    "stacker.job": "{kind} job {job_id}",
    "stacker.job_ref": "{kind} job {job_id} ({ref})",
    "stacker.kind.relocate": "relocate",
    "stacker.kind.retrieve": "retrieve",
    "stacker.kind.store": "store",
    "stacker.kind.verify": "verify",
    # The PLC's words (stacker/describe.py says them in English; the test keeps both equal).
    "stacker.completion.aborted_by_host": "aborted by the host",
    "stacker.completion.bad_destination": "bad destination cell",
    "stacker.completion.bad_source": "bad source cell",
    "stacker.completion.completed": "completed",
    "stacker.completion.load_on_fork": "a load is already on the fork",
    "stacker.completion.nothing_picked": "nothing was picked",
    "stacker.completion.operator_abort": "aborted or force-finished by an operator",
    "stacker.completion.safety_stop": "stopped by the safety system",
    "stacker.completion.timeout": "the PLC timed the job out",
    "stacker.completion.unknown": "unknown completion code {code}",
    "stacker.reject.bad_command": "bad command code",
    "stacker.reject.busy": "the stacker is busy",
    "stacker.reject.door_or_safety": "a door is open or the safety circuit is not closed",
    "stacker.reject.duplicate_id": "the job id was already used",
    "stacker.reject.fault_active": "a fault is active",
    "stacker.reject.invalid_coordinates": "invalid cell coordinates",
    "stacker.reject.not_in_auto": "the stacker is not in automatic mode",
    "stacker.reject.unknown": "unknown reject reason {code}",
    "stacker.exception.double_storage": "double storage: the destination already holds a box",
    "stacker.exception.empty_retrieval": "empty retrieval: no box in the source cell",
    "stacker.exception.id_mismatch": "the box's RFID does not match the expected box",
    "stacker.exception.id_read_error": "the box's RFID could not be read",
    "stacker.exception.none": "no exception",
    "stacker.exception.outer_cell_occupied": "the outer cell in front is occupied",
    "stacker.exception.unknown": "unknown exception bits {bits}",
    # How a stacker verify job of an inventory ended (Job.result: the PLC's completion code's
    # name, or the job's state when the PLC gave none); a failed verify finding says it.
    "stacker.result.bad_destination": "bad destination cell",
    "stacker.result.bad_source": "bad source cell",
    "stacker.result.cancelled": "cancelled before the stacker ran it",
    "stacker.result.done": "done",
    "stacker.result.double_storage": "double storage: the destination already holds a box",
    "stacker.result.empty_retrieval": "empty: no box in the cell",
    "stacker.result.host_abort": "aborted by the host",
    "stacker.result.id_mismatch": "the box's RFID does not match the expected box",
    "stacker.result.id_read_error": "the box's RFID could not be read",
    "stacker.result.load_already_on_fork": "a load was already on the fork",
    "stacker.result.not_executed": "the stacker never ran it",
    "stacker.result.nothing_picked": "nothing was picked",
    "stacker.result.ok": "completed",
    "stacker.result.operator_abort": "aborted or force-finished by an operator",
    "stacker.result.outer_cell_occupied": "the outer cell in front is occupied",
    "stacker.result.rejected": "refused by the stacker",
    "stacker.result.safety_stop": "stopped by the safety system",
    "stacker.result.timeout": "the PLC timed the job out",
    "stacker.result.unresolved": "its outcome could not be established",
    "stacker.fault.a_door": "a door is open",
    "stacker.fault.door": "door {door} is open",
    "stacker.fault.doors": "doors {doors} and {last} are open",
    "stacker.fault.e_stop": "emergency stop is pressed",
    "stacker.fault.plc": "fault {code}",
    "stacker.fault.watchdog": "the PLC tripped its host watchdog",
    "stacker.already_in": "{ref} is already in the stacker at {cell}",
    "stacker.cell_pending": "cell {cell} already has job {job_id} pending",
    "stacker.cell.blocked": "cell {cell} is blocked by the box in its outer cell",
    "stacker.cell.not_here": "{cell} is not a cell of this stacker",
    "stacker.cell.occupied": "cell {cell} is occupied",
    "stacker.cell.reserved": "cell {cell} is reserved by job {job_id}",
    "stacker.cell.will_be_blocked": "cell {cell} will be blocked by job {job_id}",
    "stacker.cell.would_block": "cell {cell} would block job {job_id} behind it",
    "stacker.job_finished": "job {job_id} is finished; there is nothing to decide",
    "stacker.journal_held": (
        "the stacker's job journal cannot be written (database unavailable); commands wait "
        "until it can"
    ),
    "stacker.no_free_cell": "the stacker has no free cell",
    "stacker.not_connected": "stacker PLC is not connected",
    "stacker.not_connected_yet": "stacker PLC not connected yet",
    "stacker.unreachable": "stacker PLC unreachable",
    "stacker.not_in_stacker": "item {what} is not in the stacker",
    "stacker.e_stop": "emergency stop is pressed",
    "stacker.fault_code": "stacker reports fault {code}",
    "stacker.heartbeat_unchanged": "stacker PLC heartbeat unchanged for {seconds} s",
    "stacker.interface_version": (
        "stacker PLC speaks interface version {plc_version}, this host speaks {host_version}"
    ),
    "stacker.mode.maintenance": "stacker is in maintenance mode",
    "stacker.mode.manual": "stacker is in manual mode",
    "stacker.mode.semi-automatic": "stacker is in semi-automatic mode",
    "stacker.mode.unknown": "stacker reports an unknown mode ({mode})",
    "stacker.not_homed": "stacker is not homed",
    "stacker.not_ready": "stacker is not ready",
    "stacker.not_ready_busy": "stacker is not ready (busy with job {job_id})",
    "stacker.not_ready_exception": "stacker is not ready (an exception request is pending)",
    "stacker.not_ready_result": "stacker is not ready (a result waits for acknowledgement)",
    "stacker.off": "stacker is switched off",
    "stacker.safety_open": "the safety circuit is not closed",
    "stacker.starting": "stacker is starting up (comparing its job journal with the PLC)",
    "stacker.watchdog": "the stacker PLC tripped its host watchdog",
    "stacker.station_holds_box": (
        "station {station} still holds {what}: waiting for it to be taken out or stored"
    ),
    "stacker.station_holds_box_job": (
        "station {station} still holds {what}, retrieved by job {job_id}: waiting for it to be "
        "taken out or stored"
    ),
    "stacker.station_occupied": (
        "station {station} is occupied by a box the stacker did not bring there: waiting for it "
        "to be taken out or stored"
    ),
    # -- a decision on a stacker job refused (the handshake core words them; read back) ------
    "decision.already_sent": "a decision for job {job_id} was already sent",
    "decision.needs_destination": "redirect needs a new destination",
    "decision.not_applicable": "{decision} does not apply to: {exception}",
    "decision.no_exception": "job {job_id} has no exception waiting for a decision",
    "decision.no_free_cell": "no free cell to redirect to",
    "decision.not_in_flight": "job {job_id} is not in flight on the stacker",
    "decision.not_waiting": "job {job_id} is not waiting for a decision",
    "decision.queued": "job {job_id} is queued: it can only be cancelled",
    "decision.rack_cell": "redirect goes to a rack cell",
    "decision.unconfirmed": "an unconfirmed job can only be retried or cancelled",
    "decision.word.cancel": "cancel",
    "decision.word.redirect": "redirect",
    "decision.word.retry": "retry",
    # -- stacker job notes (the journal keeps them in English; see ``note``) -------------------
    "note.abort_requested": "abort requested",
    "note.cancelled_before_sent": "cancelled before it was sent",
    "note.cancelled_unconfirmed": "cancelled unconfirmed: verify outcome",
    "note.decision": "decision: {decision}",
    "note.interrupted_verify": "interrupted verify; its parent is verified again",
    "note.no_accept": "no accept within the accept timeout",
    "note.plc_shows_neither": "PLC shows neither job nor result",
    "note.redirected": "redirected to {cell}",
    "note.restrobed": "re-strobed by operator decision",
    "note.rfid_mismatch": "PLC reported success but read '{read}' instead of '{expected}'",
    "note.unknown_after_restart": "outcome unknown after restart",
}


@dataclass(frozen=True, slots=True)
class Message:
    """A sentence for a person: its key in the catalogues and the values that fill it."""

    key: str
    params: Mapping[str, Param] = field(default_factory=dict)

    def english(self) -> str:
        template = ENGLISH.get(self.key)
        values = {name: _english(value) for name, value in self.params.items()}
        if template is None:
            return self.key + (f" {values}" if values else "")
        try:
            return template.format_map(values)
        except (KeyError, IndexError, ValueError):
            return template

    def __str__(self) -> str:
        return self.english()

    def as_json(self) -> dict[str, Any]:
        """``{"key": ..., "params": {...}}``, a nested message as the same shape."""
        return {"key": self.key, "params": params_json(self.params)}

    @classmethod
    def from_json(cls, data: object) -> Message | None:
        """The message ``as_json`` wrote, or None for anything else (an old or foreign row)."""
        if not isinstance(data, Mapping) or not isinstance(data.get("key"), str):
            return None
        raw = data.get("params")
        params: dict[str, Param] = {}
        if isinstance(raw, Mapping):
            for name, value in raw.items():
                nested = cls.from_json(value)
                if nested is not None:
                    params[str(name)] = nested
                elif isinstance(value, list):
                    listed = [cls.from_json(one) for one in value]
                    params[str(name)] = tuple(one for one in listed if one is not None)
                elif value is None or isinstance(value, str | int | float):
                    params[str(name)] = value
                else:
                    params[str(name)] = str(value)
        return cls(data["key"], params)


def state(prefix: str, value: str) -> Message | str:
    """A state's word (``{prefix}.{value}``) as a message, or the value for an unknown one."""
    key = f"{prefix}.{value}"
    return Message(key) if key in ENGLISH else value


def same(text: str, words: Message) -> str | Message:
    """``words`` when its English is exactly ``text`` (a sentence a pure core wrote), else the
    text: the English in logs and the API never changes by being given a key."""
    return words if words.english() == text else text


def say(key: str, **params: Param) -> Message:
    """The message ``key`` with its parameters; a key without an English text is a bug."""
    if key not in ENGLISH:
        raise KeyError(f"no English text for message {key!r}")
    return Message(key, dict(params))


def params_json(params: Mapping[str, Param]) -> dict[str, Any]:
    return {name: _json(value) for name, value in params.items()}


def _json(value: Param) -> object:
    if isinstance(value, Message):
        return value.as_json()
    if isinstance(value, tuple):
        return [one.as_json() for one in value]
    return value


def english(words: str | Message) -> str:
    return words if isinstance(words, str) else words.english()


def key_and_params(words: str | Message | None) -> tuple[str | None, dict[str, Any] | None]:
    """For an API answer: the key and JSON parameters of a message, or two Nones for text."""
    if isinstance(words, Message):
        return words.key, params_json(words.params)
    return None, None


def _english(value: Param) -> object:
    if isinstance(value, Message):
        return value.english()
    if isinstance(value, tuple):
        return ENGLISH["list.separator"].join(one.english() for one in value)
    return "" if value is None else value


def placeholders(template: str) -> set[str]:
    """The ``{names}`` a template fills (for the catalogue test)."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


# -- sentences written elsewhere in English -------------------------------------------------
# Pure cores older than these keys word some sentences in English: the stacker's handshake
# (refusals, refused decisions, job notes, fault descriptions, the PLC's completions), the
# climate evaluator's alarms and the reconciliation classifier's findings; the journal and the
# report keep them so. They are closed sets of sentences: each is read back into its key by
# matching the English templates above, and the English itself is never rewritten.


def _pattern(template: str) -> re.Pattern[str]:
    out, names = [], set()
    for literal, name, _, _ in string.Formatter().parse(template):
        out.append(re.escape(literal))
        if name:
            out.append(f"(?P<{name}>.+?)" if name not in names else ".+?")
            names.add(name)
    return re.compile("".join(out) + r"\Z", re.DOTALL)


Family: TypeAlias = tuple[tuple[str, re.Pattern[str]], ...]


def family(prefix: str) -> Family:
    """The keys starting with ``prefix`` and their templates as patterns, the most specific
    (the most fixed words) first."""
    found = _FAMILIES.get(prefix)
    if found is None:
        keys = sorted((k for k in ENGLISH if k.startswith(prefix)), key=_specific)
        found = _FAMILIES[prefix] = tuple((key, _pattern(ENGLISH[key])) for key in keys)
    return found


def _specific(key: str) -> int:
    return -sum(len(literal) for literal, _, _, _ in string.Formatter().parse(ENGLISH[key]))


_FAMILIES: dict[str, Family] = {}
_NOTES = family("note.")
_NOT_REFUSALS = {"stacker.a_box", "stacker.job", "stacker.job_ref"}
_NOT_REFUSAL_FAMILIES = (
    "stacker.completion.",
    "stacker.exception.",
    "stacker.fault.",
    "stacker.kind.",
    "stacker.reject.",
    "stacker.result.",
)
_STACKER = tuple(
    (key, pattern)
    for key, pattern in family("stacker.")
    if key not in _NOT_REFUSALS and not key.startswith(_NOT_REFUSAL_FAMILIES)
)
_PLC = family("stacker.completion.") + family("stacker.exception.") + family("stacker.reject.")


def recognise(text: str, known: Family) -> Message | None:
    """The message whose English ``text`` is, read back from the templates, or None."""
    for key, pattern in known:
        found = pattern.match(text)
        if found:
            return Message(key, dict(found.groupdict()))
    return None


def note(text: str) -> Message | None:
    """The message a stacker job's note says, or None for a note outside the known set (a
    reject reason or a completion in words, which the console shows from the job's codes)."""
    return recognise(text, _NOTES) if text else None


def stacker_words(text: str) -> str | Message:
    """A stacker refusal as a message when it is one of the known sentences, else the text."""
    return recognise(text, _STACKER) or recognise(text, family("stacker.fault.")) or text


def job_note(text: str) -> str | Message:
    """A finished job's note in words: a known note, a completion or exception the PLC
    reported, or the text as it is."""
    if not text:
        return text
    return recognise(text, _NOTES) or recognise(text, _PLC) or text


def fault(description: str) -> str | Message:
    """A stacker fault's description (stacker/handshake.py) as a message, or the text."""
    return recognise(description, family("stacker.fault.")) or description


def finding(discrepancy: str, detail: str) -> Message | None:
    """A reconciliation finding's detail (its English as the classifier wrote it) as a
    message of its class, or None for words outside the known set. A failed verify's result
    is a message too when it is one of a verify job's results in words."""
    found = recognise(detail, family(f"finding.{discrepancy}.")) if detail else None
    if found is not None and found.key == "finding.missing.failed_verify":
        result = str(found.params["result"])
        said = recognise(result, family("stacker.result."))
        if said is not None:
            return Message(found.key, {**found.params, "result": said})
    return found


def verify_result(result: str) -> str:
    """How a verify job ended (``Job.result``, such as ``id_mismatch``) in English words, or
    the code itself when it has none."""
    return ENGLISH.get(f"stacker.result.{result}", result)


_DECISIONS = tuple((k, p) for k, p in family("decision.") if not k.startswith("decision.word."))


def decision_words(text: str) -> str | Message:
    """A refused decision on a stacker job as a message when it is a known sentence; in
    ``decision.not_applicable`` the decision is a word and the exception a list of the PLC's
    exceptions (each a message), when they are known ones."""
    found = recognise(text, _DECISIONS)
    if found is None:
        return text
    if found.key == "decision.not_applicable":
        params = dict(found.params)
        params["decision"] = state("decision.word", str(params["decision"]))
        params["exception"] = _exceptions(str(params["exception"]))
        return Message(found.key, params)
    return found


def _exceptions(text: str) -> str | tuple[Message, ...]:
    """``stacker.describe.exception_text`` read back: its parts, each a message; the text
    itself when a part is not a known one."""
    parts = [recognise(part, family("stacker.exception.")) for part in text.split("; ")]
    said = tuple(part for part in parts if part is not None)
    return said if len(said) == len(parts) else text


_IN_A_ROW = (("sensor.in_a_row", _pattern(ENGLISH["sensor.in_a_row"])),)


def sensor_reason(text: str) -> str | Message:
    """Why a climate sensor is down (``sensors.schedule``) as a message when the words are
    known: a failure repeated (``no response (3 in a row)``) or values that stopped changing."""
    repeated = recognise(text, _IN_A_ROW)
    if repeated is not None:
        reason = str(repeated.params["reason"])
        return Message(repeated.key, {**repeated.params, "reason": _sensor_reason(reason)})
    return _sensor_reason(text)


def _sensor_reason(text: str) -> str | Message:
    """One reason a poll failed; a rejected value with what the profile said of it, and the
    quantity as a word."""
    found = recognise(text, family("sensor.reason."))
    if found is None or found.key != "sensor.reason.rejected":
        return found or text
    said = recognise(str(found.params["reason"]), family("sensor.rejected."))
    if said is None:
        return found
    if "quantity" in said.params:
        said = Message(
            said.key,
            {**said.params, "quantity": state("sensor.quantity", str(said.params["quantity"]))},
        )
    return Message(found.key, {"reason": said})
