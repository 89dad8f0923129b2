"""Words for people (daemon/messages.py): sentences that pure cores write in English are read
back into their keys without changing a character, and lists of reasons survive JSON."""

from __future__ import annotations

from dataclasses import replace

import pytest

from daemon import messages
from daemon.messages import Message, say
from daemon.reconcile.classify import (
    ItemFacts,
    Place,
    Sighting,
    UnpairedRecord,
    classify,
    no_paper_original,
    unknown_tag,
)
from sensors.alarms import _WORDS, AlarmChange
from sensors.service.climate import climate_words
from stacker import describe
from stacker.cells import CellAddress
from stacker.journal import Job, JobKind
from stacker.registers import CompletionCode, ExcReq, RejectReason
from stacker.service.journal_store import exceptions, job_message, job_words

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


def test_a_refused_decision_is_read_back_into_its_key() -> None:
    words = messages.decision_words("job 7 is queued: it can only be cancelled")
    assert words == Message("decision.queued", {"job_id": "7"})
    assert messages.decision_words("retry does not apply to: x") == "retry does not apply to: x"
