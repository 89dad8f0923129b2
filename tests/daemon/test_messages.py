"""Words for people (daemon/messages.py): sentences that pure cores write in English are read
back into their keys without changing a character, and lists of reasons survive JSON."""

from __future__ import annotations

from dataclasses import replace

import pytest

from daemon import messages
from daemon.ledger.whereabouts import Place
from daemon.messages import Message, say
from daemon.reconcile.classify import (
    ItemFacts,
    Sighting,
    UnpairedRecord,
    classify,
    no_paper_original,
    unknown_tag,
)
from sensors.alarms import _WORDS, AlarmChange, sensor_fault
from sensors.profiles import XY_MD02, Rejected
from sensors.schedule import PollSchedule
from sensors.service.climate import climate_words
from stacker import describe
from stacker.cells import CellAddress, CellModel, Occupant, RackGeometry
from stacker.handshake import DecisionRefused, Handshake, Phase, Timing
from stacker.journal import Job, JobKind, JobState
from stacker.registers import (
    IR_COUNT,
    CompletionCode,
    ExcDecision,
    ExcReq,
    RejectReason,
    Status,
    decode_inputs,
)
from stacker.service.errors import CommandRefused
from stacker.service.journal_store import exceptions, job_message, job_words
from stacker.service.room import UNREACHABLE

CELL = CellAddress(1, 1, 2, 3, 1)


def test_every_completion_exception_and_reject_the_plc_reports_has_its_key() -> None:
    texts = [describe.completion_text(code) for code in CompletionCode]
    texts += [describe.reject_text(reason) for reason in RejectReason]
    texts += [describe.exception_text(flag) for flag in ExcReq]
    texts += [describe.completion_text(99), describe.reject_text(99)]
    for text in texts:
        words = messages.job_note(text)
        assert isinstance(words, Message), text
        assert words.english() == text


def test_fault_descriptions_are_read_back_into_their_keys() -> None:
    for text in (
        describe.doors_text([]),
        describe.doors_text([2]),
        describe.doors_text([1, 2, 3]),
        "fault 17",
        "emergency stop is pressed",
        "the PLC tripped its host watchdog",
    ):
        words = messages.fault(text)
        assert isinstance(words, Message), text
        assert words.english() == text
    assert messages.fault("something new") == "something new"
    assert messages.fault(describe.doors_text([1, 2, 3])) == Message(
        "stacker.fault.doors", {"doors": "1, 2", "last": "3"}
    )


@pytest.mark.parametrize("kind", [k for k in _WORDS if k != "sensor-fault"])
@pytest.mark.parametrize("value", [25.04999, 25.05, 61.25, 0.0, -3.456])
def test_a_climate_alarm_keeps_the_cores_english_exactly(kind: str, value: float) -> None:
    raised = _WORDS[kind][0]  # type: ignore[index]
    text = "stack-1: " + raised.format(v=value, lim=25.0)
    change = AlarmChange(
        "raise", kind, "stack-1", "stack-1", "warning", 0.0, text,  # type: ignore[arg-type]
        value=round(value, 3), limit=25.0,
    )  # fmt: skip
    words = climate_words(change)
    assert isinstance(words, Message)
    assert words.key == f"alarm.climate.{kind}"
    assert words.english() == text


def test_a_list_of_reasons_is_said_one_after_the_other_and_survives_json() -> None:
    problems = (
        say("disposal.problem", ref="A-1", problem=say("disposal.problem.permanent")),
        say("disposal.problem", ref="A-2", problem=say("disposal.problem.on_loan", loan_id=7)),
    )
    words = say("disposal.cannot", problems=problems)
    assert words.english() == (
        "cannot be disposed of: A-1: permanent (Y): never disposed of; A-2: on loan (loan 7)"
    )
    assert Message.from_json(words.as_json()) == words
    assert words.as_json()["params"]["problems"][1]["params"]["problem"] == {
        "key": "disposal.problem.on_loan",
        "params": {"loan_id": 7},
    }


def test_a_stacker_job_is_named_by_its_kind_number_and_item() -> None:
    job = Job(42, JobKind.RETRIEVE, CELL, CELL, ref="R-1", exception=ExcReq(0b100101))
    assert job_message(job).english() == job_words(job) == "retrieve job 42 (R-1)"
    assert job_message(job).as_json()["params"]["kind"] == {
        "key": "stacker.kind.retrieve",
        "params": {},
    }
    said = exceptions(job)
    assert [m.key for m in said] == [
        "stacker.exception.empty_retrieval",
        "stacker.exception.id_mismatch",
        "stacker.exception.unknown",
    ]
    assert "; ".join(m.english() for m in said) == describe.exception_text(ExcReq(0b100101))


def test_a_state_without_words_stays_as_it_is() -> None:
    assert messages.state("disposal.state", "approved") == Message("disposal.state.approved")
    assert messages.state("disposal.state", "archived") == "archived"
    assert say("disposal.closed", disposal_id=3, state="archived").english() == (
        "disposal 3 is archived"
    )


def test_every_finding_the_classifier_words_is_read_back_into_a_key_of_its_class() -> None:
    shelf = Place("r1-A-01-01", "level", "r1")
    other = Place("r1-A-02-01", "level", "r1")
    lost = Place("r1-unknown", "unknown", "r1")
    base = ItemFacts(
        item_id=1, ref="BOX-1", kind="file", epc="E2801160600002000000000A", ever_tagged=True,
        home=shelf, current=shelf, since_us=1, source="shelf-read", loan_id=None,
        missing_since_us=None, box_ref=None, box_place=None,
    )  # fmt: skip
    cases = [
        replace(base, epc=None),
        replace(base, epc=None, ever_tagged=False),
        replace(base, missing_since_us=1_700_000_000_000_000),
        replace(base, missing_since_us=1_700_000_000_000_000, current=other),
        replace(base, missing_since_us=1_700_000_000_000_000, home=None, current=lost),
        replace(base, current=lost),
        replace(base, current=other, loan_id=9),
        replace(base, box_ref="BOX-9", box_place=other),
        replace(base, key_fields_differ=("title", "year")),
        replace(base, needs_record=True),
        replace(base, needs_record=True, record_id="ER-1", record_known=False),
        replace(
            base,
            failed_verify="stacker verify job 7 of r1-S11-01-01-1: "
            + messages.verify_result("id_mismatch"),
        ),
    ]
    findings = [finding for facts in cases for finding in classify(facts)]
    findings += [
        no_paper_original(UnpairedRecord("ER-2", "BOX-2", "WS", ref_catalogued=False)),
        no_paper_original(UnpairedRecord("ER-3", "BOX-3", "WS", ref_catalogued=True)),
        unknown_tag(Sighting("E2801160600002000000000B", shelf, 5)),
    ]
    keys = set()
    for found in findings:
        words = messages.finding(found.discrepancy, found.detail)
        assert words is not None, (found.discrepancy, found.detail)
        assert words.key.startswith(f"finding.{found.discrepancy}.")
        assert words.english() == found.detail
        keys.add(words.key)
    assert keys == {key for key in messages.ENGLISH if key.startswith("finding.")}
    assert messages.finding("missing", "a verify job failed: rejected") is None
    failed = messages.finding("missing", "stacker verify job 7 of r1-S11-01-01-1: id_mismatch")
    assert failed == Message(  # a report written before results were said in words
        "finding.missing.failed_verify",
        {"job_id": "7", "location": "r1-S11-01-01-1", "result": "id_mismatch"},
    )


def test_every_result_a_verify_job_can_end_with_has_words_read_back_into_its_key() -> None:
    """``Job.result`` is the name of the PLC's completion code or the job's terminal state; a
    failed verify's finding says it in words, which are read back into ``stacker.result.*``."""
    results = {code.name.lower() for code in CompletionCode}
    results |= {state.value for state in JobState if state.terminal}
    assert results == {
        key.removeprefix("stacker.result.")
        for key in messages.ENGLISH
        if key.startswith("stacker.result.")
    }
    for result in sorted(results):
        words = messages.verify_result(result)
        assert words != result.replace("_", " ") or result in {"done", "cancelled", "rejected"}
        detail = f"stacker verify job 7 of r1-S11-01-01-1: {words}"
        found = messages.finding("missing", detail)
        assert found is not None
        assert found.english() == detail
        assert found.params["result"] == Message(f"stacker.result.{result}"), result
    assert messages.verify_result("something_new") == "something_new"


def test_a_refused_decision_is_read_back_into_its_key() -> None:
    words = messages.decision_words("job 7 is queued: it can only be cancelled")
    assert words == Message("decision.queued", {"job_id": "7"})
    assert messages.decision_words("something new") == "something new"


def test_a_decision_that_does_not_apply_is_read_back_with_its_word_and_the_plcs_exceptions() -> (
    None
):
    handshake = Handshake("s1", Timing(), lambda: 0.0, lambda: 0.0)
    job = Job(7, JobKind.RETRIEVE, CELL, CELL, state=JobState.EXCEPTION,
              exception=ExcReq.EMPTY_RETRIEVAL | ExcReq.ID_MISMATCH)  # fmt: skip
    handshake.job, handshake.phase = job, Phase.RUNNING
    with pytest.raises(DecisionRefused) as refused:
        handshake.decide(7, ExcDecision.REDIRECT)
    text = str(refused.value)
    words = messages.decision_words(text)
    assert isinstance(words, Message)
    assert words.english() == text
    assert words.as_json() == {
        "key": "decision.not_applicable",
        "params": {
            "decision": {"key": "decision.word.redirect", "params": {}},
            "exception": [
                {"key": "stacker.exception.empty_retrieval", "params": {}},
                {"key": "stacker.exception.id_mismatch", "params": {}},
            ],
        },
    }
    # an exception outside the known words stays as its text, the decision still a word
    odd = messages.decision_words("retry does not apply to: x")
    assert odd == Message(
        "decision.not_applicable",
        {"decision": Message("decision.word.retry"), "exception": "x"},
    )
    assert odd.english() == "retry does not apply to: x"


def test_every_destination_a_cell_refuses_is_read_back_into_its_key() -> None:
    cells = CellModel(RackGeometry(1, 2, 4, 3, 2), {"io-1": CellAddress(0, 1, 0, 1, 1)})
    inner, outer = CellAddress(1, 1, 1, 1, 2), CellAddress(1, 1, 1, 1, 1)
    other_inner = CellAddress(1, 1, 2, 1, 2)
    cells.place(outer, Occupant("B1", "R1"))
    cells.reserve(other_inner, 7)
    cells.reserve(CellAddress(1, 1, 3, 1, 1), 8)
    problems = {
        cells.destination_problem(CellAddress(1, 9, 1, 1, 1)): ("stacker.cell.not_here", None),
        cells.destination_problem(outer): ("stacker.cell.occupied", None),
        cells.destination_problem(other_inner): ("stacker.cell.reserved", "7"),
        cells.destination_problem(inner): ("stacker.cell.blocked", None),
        cells.destination_problem(CellAddress(1, 1, 3, 1, 2)): (
            "stacker.cell.will_be_blocked", "8"
        ),
        cells.destination_problem(other_inner.outer()): ("stacker.cell.would_block", "7"),
    }  # fmt: skip
    assert None not in problems
    for text, (key, job_id) in problems.items():
        assert text is not None
        words = messages.stacker_words(text)
        assert isinstance(words, Message), text
        assert (words.key, words.english()) == (key, text)
        assert words.params.get("job_id") == job_id
        assert str(words.params["cell"]) in text
    refused = CommandRefused(cells.destination_problem(outer) or "")
    assert refused.words == Message("stacker.cell.occupied", {"cell": outer.code})


def test_a_stale_heartbeat_and_a_foreign_interface_are_read_back_into_their_keys() -> None:
    clock = [0.0]
    handshake = Handshake("s1", Timing(heartbeat_stale_s=1.5), lambda: clock[0], lambda: 0.0)
    handshake.up = True
    clock[0] = 2.0
    handshake.tick()
    reason = handshake.refusal()
    assert reason == "stacker PLC heartbeat unchanged for 1.5 s"
    assert messages.stacker_words(reason) == Message(
        "stacker.heartbeat_unchanged", {"seconds": "1.5"}
    )
    foreign = messages.stacker_words("stacker PLC speaks interface version 9, this host speaks 2")
    assert foreign == Message(
        "stacker.interface_version", {"plc_version": "9", "host_version": "2"}
    )


@pytest.mark.parametrize(
    ("reason", "key", "inner"),
    [
        ("no response", "sensor.in_a_row", "sensor.reason.no_response"),
        ("exception code 2", "sensor.in_a_row", "sensor.reason.exception_code"),
        ("bad answer: CRC error", "sensor.in_a_row", "sensor.reason.bad_answer"),
        ("rejected out of range", "sensor.in_a_row", "sensor.reason.rejected"),
        ("something new", "sensor.in_a_row", None),
    ],
)
def test_why_a_sensor_is_down_is_read_back_into_its_key(
    reason: str, key: str, inner: str | None
) -> None:
    schedule = PollSchedule()
    schedule.add("t1", interval_s=10.0, lazy_error_count=3, first_due=0.0)
    transition = None
    for n in range(3):
        transition = schedule.failed("t1", 10.0 * (n + 1), reason)
    assert transition is not None
    assert not transition.up
    change = sensor_fault("t1", "stack-1", False, transition.reason, 30.0)
    words = climate_words(change)
    assert isinstance(words, Message)
    assert (words.key, words.english()) == ("alarm.sensor_fault", change.message)
    said = words.params["reason"]
    assert isinstance(said, Message)
    assert (said.key, said.params["count"]) == (key, "3")
    nested = said.params["reason"]
    if inner is None:
        assert nested == reason
    else:
        assert isinstance(nested, Message)
        assert nested.key == inner


def test_a_sensor_whose_values_stopped_changing_is_read_back_into_its_key() -> None:
    schedule = PollSchedule()
    schedule.add("t1", interval_s=1800.0, lazy_error_count=3, first_due=0.0, stuck_after_s=5400)
    transition = None
    for n in range(5):
        outcome = schedule.succeeded("t1", 1800.0 * n, (200, 500))
        transition = outcome.transition or transition
    assert transition is not None
    assert transition.reason == "values unchanged for 1.5 h"
    change = sensor_fault("t1", "stack-1", False, transition.reason, 7200.0)
    words = climate_words(change)
    assert isinstance(words, Message)
    assert words.english() == change.message
    assert words.params["reason"] == Message("sensor.reason.stuck", {"hours": "1.5"})


@pytest.mark.parametrize(
    ("answers", "key", "quantity"),
    [
        ([[0x7FFF, 500]], "sensor.rejected.error_code", "sensor.quantity.temperature"),
        ([[250, 1200]], "sensor.rejected.out_of_range", "sensor.quantity.humidity"),
        ([[250]], "sensor.rejected.registers", None),
        ([], "sensor.rejected.answers", None),
    ],
)
def test_what_a_sensor_profile_rejects_is_read_back_into_its_key(
    answers: list[list[int]], key: str, quantity: str | None
) -> None:
    """The profile's rejection, as the bus words it (``rejected <reason>``), is a message with
    the profile's words as a message of their own, and the quantity as a word."""
    rejected = XY_MD02.decode(answers)
    assert isinstance(rejected, Rejected)
    text = f"rejected {rejected.reason}"
    words = messages.sensor_reason(text)
    assert isinstance(words, Message)
    assert (words.key, words.english()) == ("sensor.reason.rejected", text)
    said = words.params["reason"]
    assert isinstance(said, Message)
    assert said.key == key
    if quantity is not None:
        assert said.params["quantity"] == Message(quantity)
    assert messages.sensor_reason("rejected something new") == Message(
        "sensor.reason.rejected", {"reason": "something new"}
    )


def test_a_stacker_not_yet_connected_unreachable_or_in_an_unknown_mode_is_said_by_key() -> None:
    handshake = Handshake("s1", Timing(), lambda: 0.0, lambda: 0.0)
    assert messages.stacker_words(handshake.refusal() or "") == Message("stacker.not_connected_yet")
    assert messages.stacker_words(UNREACHABLE) == Message("stacker.unreachable")
    handshake.up = True
    handshake.snapshot = replace(
        decode_inputs([0] * IR_COUNT), mode=9, status=Status.SAFETY_OK | Status.HOMED
    )
    reason = handshake.refusal()
    assert reason == "stacker reports an unknown mode (9)"
    words = messages.stacker_words(reason)
    assert words == Message("stacker.mode.unknown", {"mode": "9"})
    assert words.english() == reason
