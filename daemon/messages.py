"""Words for people, as a key and parameters: the reader's language is the console's business.

A refusal, an alarm or a stacker note is written once, here, as a message key with its English
template. The daemon logs and answers the English rendering (the API's ``detail``, an alarm's
``message``); next to it the API carries the key and the parameters, and the staff console
renders them from its catalogue (``api/console/messages/{en,zh}.json``, key ``msg.<key>``), in
Chinese or English. A parameter is plain data (a reference, a number, a location code) or
another message (a reason inside a refusal); parameters named ``location`` or ending in
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

Param: TypeAlias = "str | int | float | Message | None"

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
    "desk.offline": "desk reader {reader} is offline",
    "desk.failed": "desk reader {reader}: {reason}",
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
    "alarm.stacker_down": "stacker {stacker} is unavailable: {reason}",
    "alarm.stacker_fault": "stacker {stacker}: {description}",
    # -- the stacker ---------------------------------------------------------------------------
    "stacker.already_in": "{ref} is already in the stacker at {cell}",
    "stacker.cell_pending": "cell {cell} already has job {job_id} pending",
    "stacker.job_finished": "job {job_id} is finished; there is nothing to decide",
    "stacker.journal_held": (
        "the stacker's job journal cannot be written (database unavailable); commands wait "
        "until it can"
    ),
    "stacker.no_free_cell": "the stacker has no free cell",
    "stacker.not_connected": "stacker PLC is not connected",
    "stacker.not_in_stacker": "item {what} is not in the stacker",
    "stacker.e_stop": "emergency stop is pressed",
    "stacker.fault_code": "stacker reports fault {code}",
    "stacker.mode.maintenance": "stacker is in maintenance mode",
    "stacker.mode.manual": "stacker is in manual mode",
    "stacker.mode.semi-automatic": "stacker is in semi-automatic mode",
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
                elif value is None or isinstance(value, str | int | float):
                    params[str(name)] = value
                else:
                    params[str(name)] = str(value)
        return cls(data["key"], params)


def say(key: str, **params: Param) -> Message:
    """The message ``key`` with its parameters; a key without an English text is a bug."""
    if key not in ENGLISH:
        raise KeyError(f"no English text for message {key!r}")
    return Message(key, dict(params))


def params_json(params: Mapping[str, Param]) -> dict[str, Any]:
    return {
        name: value.as_json() if isinstance(value, Message) else value
        for name, value in params.items()
    }


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
    return "" if value is None else value


def placeholders(template: str) -> set[str]:
    """The ``{names}`` a template fills (for the catalogue test)."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


# -- sentences written elsewhere in English -------------------------------------------------
# The stacker's handshake core (pure, and older than these keys) words its refusals and job
# notes in English, and the journal keeps the notes so. They are a closed set of sentences:
# each is read back into its key by matching the English templates below.


def _pattern(template: str) -> re.Pattern[str]:
    out, names = [], set()
    for literal, name, _, _ in string.Formatter().parse(template):
        out.append(re.escape(literal))
        if name:
            out.append(f"(?P<{name}>.+?)" if name not in names else ".+?")
            names.add(name)
    return re.compile("".join(out) + r"\Z", re.DOTALL)


def _family(prefix: str) -> tuple[tuple[str, re.Pattern[str]], ...]:
    keys = sorted((k for k in ENGLISH if k.startswith(prefix)), key=lambda k: -len(ENGLISH[k]))
    return tuple((key, _pattern(ENGLISH[key])) for key in keys)


_NOTES = _family("note.")
_STACKER = _family("stacker.")


def recognise(text: str, family: tuple[tuple[str, re.Pattern[str]], ...]) -> Message | None:
    for key, pattern in family:
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
    return recognise(text, _STACKER) or text
