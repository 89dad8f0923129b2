"""The handshake state machine with an injected clock: no network, every rule checked."""

from __future__ import annotations

from dataclasses import replace

import pytest

from stacker import events as ev
from stacker.cells import CellAddress
from stacker.handshake import (
    Action,
    DecisionRefused,
    Emit,
    Handshake,
    Persist,
    Phase,
    Timing,
    Write,
)
from stacker.journal import Job, JobKind, JobState
from stacker.registers import CompletionCode, ExcDecision, ExcReq, Mode, Status
from tests.support.clock import ManualClock
from tests.support.stacker import plc_snapshot as snap

IDLE_OK = Status.READY | Status.SAFETY_OK | Status.HOMED
CELL = CellAddress(1, 2, 3, 4, 1)
STATION = CellAddress(0, 1, 0, 1, 1)


class Driver:
    """Feeds snapshots with a ticking PLC heartbeat."""

    def __init__(self, **timing: float) -> None:
        self.clock = ManualClock()
        self.hs = Handshake("s1", Timing(**timing), self.clock, self.clock)
        self.beat = 0

    def feed(self, **changes: object) -> list[Action]:
        self.beat += 1
        self.clock.advance(0.1)
        return self.hs.observe(snap(plc_heartbeat=self.beat, **changes))

    def up(self) -> None:
        self.feed()
        self.feed()
        assert self.hs.up
        self.hs.recovered = True


def job(job_id: int = 0x0001_0005, box_id: str = "BOX-1", kind: JobKind = JobKind.RETRIEVE) -> Job:
    return Job(job_id=job_id, kind=kind, source=CELL, destination=STATION, box_id=box_id)


def phase(d: Driver) -> Phase:
    return d.hs.phase


def events(actions: list[Action]) -> list[object]:
    return [a.event for a in actions if isinstance(a, Emit)]


def writes(actions: list[Action]) -> list[Write]:
    return [a for a in actions if isinstance(a, Write)]


def persisted(actions: list[Action]) -> list[Job]:
    return [a.job for a in actions if isinstance(a, Persist)]


@pytest.fixture
def d() -> Driver:
    return Driver()


def sent(d: Driver, j: Job | None = None) -> Job:
    d.up()
    j = j or job()
    d.hs.send(j)
    return j


def accepted(d: Driver, j: Job | None = None) -> Job:
    j = sent(d, j)
    d.feed(
        status=Status.ACCEPTED | Status.BUSY | Status.SAFETY_OK | Status.HOMED,
        active_job_id=j.job_id,
    )
    return j


RUNNING = Status.BUSY | Status.SAFETY_OK | Status.HOMED
DONE = Status.DONE | Status.SAFETY_OK | Status.HOMED


def report_done(d: Driver, job_id: int, **changes: object) -> list[Action]:
    """The PLC reports ``job_id`` done; ``changes`` are its completion code and the box it read."""
    return d.feed(status=DONE, last_done_job_id=job_id, **changes)


# -- link state ----------------------------------------------------------------------------


def test_stacker_is_up_only_once_the_plc_heartbeat_changes(d: Driver) -> None:
    first = d.hs.observe(snap(plc_heartbeat=7))
    assert not d.hs.up
    assert not any(isinstance(e, ev.StackerUp) for e in events(first))
    assert d.hs.refusal() == "stacker PLC not connected yet"
    d.clock.advance(0.1)
    assert any(isinstance(e, ev.StackerUp) for e in events(d.hs.observe(snap(plc_heartbeat=8))))
    assert d.hs.up


def test_stale_plc_heartbeat_marks_the_stacker_down_and_refuses_commands(d: Driver) -> None:
    d.up()
    d.clock.advance(2.9)
    assert d.hs.tick() == []
    d.clock.advance(0.2)
    down = [e for e in events(d.hs.tick()) if isinstance(e, ev.StackerDown)]
    assert len(down) == 1
    assert "heartbeat" in down[0].reason
    assert not d.hs.up
    assert not d.hs.can_send()
    assert "heartbeat" in (d.hs.refusal() or "")
    d.hs.observe(snap(plc_heartbeat=d.beat))  # frozen value: still down
    assert not d.hs.up
    assert any(isinstance(e, ev.StackerUp) for e in events(d.feed()))


def test_unsupported_interface_version_keeps_the_stacker_down(d: Driver) -> None:
    d.feed(if_version=2)
    d.feed(if_version=2)
    assert not d.hs.up
    assert "interface version 2" in (d.hs.refusal() or "")


def test_lost_link_marks_the_stacker_down(d: Driver) -> None:
    d.up()
    down = events(d.hs.link_lost("connection refused"))
    assert [type(e) for e in down] == [ev.StackerDown]
    assert d.hs.refusal() == "connection refused"


def test_mode_changes_are_reported(d: Driver) -> None:
    d.up()
    changes = [e for e in events(d.feed(mode=Mode.MANUAL)) if isinstance(e, ev.ModeChanged)]
    assert [(c.mode_name, c.previous) for c in changes] == [("manual", Mode.AUTO)]


# -- refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"mode": Mode.MANUAL}, "stacker is in manual mode"),
        ({"mode": Mode.SEMI_AUTO}, "stacker is in semi-automatic mode"),
        ({"mode": Mode.MAINTENANCE}, "stacker is in maintenance mode"),
        ({"mode": Mode.OFF}, "stacker is switched off"),
        ({"mode": 9}, "stacker reports an unknown mode (9)"),
        ({"doors": 0b10, "status": Status.DOOR_OPEN | Status.HOMED}, "door 2 is open"),
        ({"doors": 0b101, "status": Status.DOOR_OPEN | Status.HOMED}, "doors 1 and 3 are open"),
        ({"status": Status.E_STOP | Status.HOMED | Status.FAULT}, "emergency stop is pressed"),
        ({"status": Status.FAULT | Status.SAFETY_OK | Status.HOMED, "fault_code": 17},
         "stacker reports fault 17"),
        ({"status": Status.HOMED}, "the safety circuit is not closed"),
        ({"status": Status.HOST_WATCHDOG_TRIPPED | Status.SAFETY_OK | Status.HOMED},
         "the stacker PLC tripped its host watchdog"),
        ({"status": Status.READY | Status.SAFETY_OK}, "stacker is not homed"),
        ({"status": Status.SAFETY_OK | Status.HOMED}, "stacker is not ready"),
        ({"status": RUNNING, "active_job_id": 77}, "stacker is not ready (busy with job 77)"),
    ],
)  # fmt: skip
def test_commands_are_refused_with_the_reason_in_words(
    d: Driver, changes: dict[str, object], reason: str
) -> None:
    d.up()
    d.feed(**changes)
    assert d.hs.refusal() == reason
    assert not d.hs.can_send()
    with pytest.raises(RuntimeError):
        d.hs.send(job())


def test_commands_wait_for_the_journal_comparison_after_a_start(d: Driver) -> None:
    d.feed()
    d.feed()
    assert d.hs.refusal() is None
    assert not d.hs.can_send()
    d.hs.recovered = True
    assert d.hs.can_send()


def test_a_stale_reject_reason_blocks_sending_until_cleared(d: Driver) -> None:
    d.up()
    d.feed(reject_reason=2)
    assert not d.hs.can_send()
    d.feed()
    assert d.hs.can_send()


# -- sending -------------------------------------------------------------------------------


def test_send_records_the_job_then_writes_the_data_block_then_the_strobe(d: Driver) -> None:
    d.up()
    actions = d.hs.send(job(0x0001_0005))
    assert isinstance(actions[0], Persist)
    assert actions[0].job.state is JobState.SENDING
    assert actions[1:] == [
        Write(
            2,
            (
                0x0001, 0x0005,  # CMD_JOB_ID high word first
                2,  # retrieve
                1, 2, 3, 4, 1,  # SRC
                0, 1, 0, 1, 1,  # DST: station in aisle 0
                1,  # verify RFID at pick
                0x424F, 0x582D, 0x3100, 0, 0, 0, 0, 0,  # "BOX-1"
            ),
        ),
        Write(24, (0x0005,), single=True),
    ]  # fmt: skip
    assert phase(d) is Phase.AWAIT_ACCEPT


def test_job_without_box_id_does_not_ask_for_an_rfid_check(d: Driver) -> None:
    d.up()
    data = writes(d.hs.send(job(box_id="")))[0]
    assert data.values[13] == 0


def test_accept_clears_the_strobe_and_is_recorded(d: Driver) -> None:
    j = sent(d)
    actions = d.feed(status=Status.ACCEPTED | RUNNING, active_job_id=j.job_id)
    assert persisted(actions)[0].state is JobState.ACCEPTED
    assert Write(24, (0,), single=True) in writes(actions)
    kinds = [type(e) for e in events(actions)]
    assert kinds == [ev.JobAccepted, ev.JobStarted]


def test_accept_timeout_raises_an_alarm_and_never_resends(d: Driver) -> None:
    d = Driver(accept_timeout_s=5.0, heartbeat_stale_s=100.0)
    j = sent(d)
    all_actions: list[Action] = []
    for _ in range(49):
        all_actions += d.feed()
    assert not any(isinstance(e, ev.AcceptTimeout) for e in events(all_actions))
    for _ in range(100):
        all_actions += d.feed()
    alarms = [e for e in events(all_actions) if isinstance(e, ev.AcceptTimeout)]
    assert len(alarms) == 1
    assert alarms[0].job.state is JobState.UNCONFIRMED
    assert writes(all_actions) == []  # nothing resent, not even the strobe
    # a late accept is still followed
    late = d.feed(status=Status.ACCEPTED | RUNNING, active_job_id=j.job_id)
    assert any(isinstance(e, ev.JobAccepted) for e in events(late))


def test_execution_timeout_raises_an_alarm_once(d: Driver) -> None:
    d = Driver(execution_timeout_s=600.0, heartbeat_stale_s=1000.0)
    j = accepted(d)
    d.clock.advance(599.0)
    assert not any(
        isinstance(e, ev.ExecutionTimeout)
        for e in events(d.feed(status=RUNNING, active_job_id=j.job_id))
    )
    d.clock.advance(1.0)
    first = events(d.feed(status=RUNNING, active_job_id=j.job_id))
    again = events(d.feed(status=RUNNING, active_job_id=j.job_id))
    assert [type(e) for e in first] == [ev.ExecutionTimeout]
    assert again == []


def test_done_is_recorded_before_it_is_acknowledged(d: Driver) -> None:
    j = accepted(d)
    actions = report_done(d, j.job_id, completion_code=0, read_box_id="BOX-1")
    kinds = [type(a) for a in actions]
    persist_at = kinds.index(Persist)
    ack_at = actions.index(Write(25, (0x0001, 0x0005)))
    finished = [e for e in events(actions) if isinstance(e, ev.JobFinished)]
    assert persist_at < ack_at < actions.index(Emit(finished[0]))
    done = persisted(actions)[0]
    assert done.state is JobState.DONE
    assert done.completion is CompletionCode.OK
    assert done.read_box_id == "BOX-1"
    assert finished[0].job.result == "ok"
    assert phase(d) is Phase.AWAIT_CLEAR
    assert not d.hs.can_send()
    d.feed()  # PLC cleared done
    assert phase(d) is Phase.IDLE
    assert d.hs.can_send()


def test_an_unanswered_acknowledgement_is_repeated(d: Driver) -> None:
    j = accepted(d)
    report_done(d, j.job_id, read_box_id="BOX-1")
    assert writes(report_done(d, j.job_id, read_box_id="BOX-1")) == []
    d.clock.advance(1.0)
    assert Write(25, (0x0001, 0x0005)) in writes(report_done(d, j.job_id, read_box_id="BOX-1"))


def test_rejection_is_final_reported_in_words_and_clears_the_strobe(d: Driver) -> None:
    j = sent(d)
    actions = d.feed(reject_reason=5)
    finished = [e for e in events(actions) if isinstance(e, ev.JobFinished)]
    assert finished[0].job.state is JobState.REJECTED
    assert finished[0].job.reject_reason == 5
    assert "door" in finished[0].description
    assert Write(24, (0,), single=True) in writes(actions)
    assert finished[0].job.job_id == j.job_id
    d.feed()
    assert phase(d) is Phase.IDLE


def test_duplicate_job_id_rejection_records_the_plcs_stored_result(d: Driver) -> None:
    j = sent(d)
    actions = d.feed(reject_reason=6, last_done_job_id=j.job_id, completion_code=1)
    done = persisted(actions)[-1]
    assert done.state is JobState.DONE
    assert done.completion is CompletionCode.EMPTY_RETRIEVAL


def test_rfid_mismatch_reported_as_success_is_never_accepted(d: Driver) -> None:
    j = accepted(d)
    actions = report_done(d, j.job_id, completion_code=0, read_box_id="BOX-2")
    done = persisted(actions)[0]
    assert done.completion is CompletionCode.ID_MISMATCH
    assert done.plc_completion == 0
    mismatch = [e for e in events(actions) if isinstance(e, ev.IdMismatch)]
    assert (mismatch[0].expected, mismatch[0].read) == ("BOX-1", "BOX-2")
    finished = [e for e in events(actions) if isinstance(e, ev.JobFinished)]
    assert finished[0].job.result == "id_mismatch"
    assert finished[0].alarm


def test_unknown_completion_code_leaves_the_job_unresolved(d: Driver) -> None:
    j = accepted(d)
    actions = report_done(d, j.job_id, completion_code=99)
    assert persisted(actions)[0].state is JobState.UNRESOLVED


def test_job_neither_active_nor_done_becomes_of_unknown_outcome(d: Driver) -> None:
    accepted(d)
    assert persisted(d.feed()) == []  # one odd read is not enough
    actions = d.feed()
    assert persisted(actions)[0].state is JobState.VERIFYING
    assert any(isinstance(e, ev.OutcomeUnknown) for e in events(actions))
    assert writes(actions) == []  # and nothing is resent


# -- exceptions and decisions --------------------------------------------------------------


def exception_raised(d: Driver, exc: ExcReq, on_fork: bool = False) -> tuple[Job, list[Action]]:
    j = accepted(d)
    status = RUNNING | Status.EXCEPTION_REQUEST | (Status.LOAD_ON_FORK if on_fork else 0)
    return j, d.feed(status=status, active_job_id=j.job_id, exc_req=exc)


def test_exception_request_is_acknowledged_and_waits_for_a_decision(d: Driver) -> None:
    _, actions = exception_raised(d, ExcReq.EMPTY_RETRIEVAL)
    assert persisted(actions)[0].state is JobState.EXCEPTION
    assert writes(actions) == [Write(27, (1,), single=True)]
    raised = [e for e in events(actions) if isinstance(e, ev.JobException)]
    assert raised[0].description.startswith("empty retrieval")
    assert raised[0].decisions == (ExcDecision.RETRY, ExcDecision.CANCEL)


@pytest.mark.parametrize(
    ("exc", "decision", "code"),
    [
        (ExcReq.EMPTY_RETRIEVAL, ExcDecision.RETRY, 1),
        (ExcReq.ID_MISMATCH, ExcDecision.CANCEL, 2),
        (ExcReq.ID_READ_ERROR, ExcDecision.RETRY, 1),
        (ExcReq.DOUBLE_STORAGE, ExcDecision.CANCEL, 2),
        (ExcReq.OUTER_CELL_OCCUPIED, ExcDecision.CANCEL, 2),
    ],
)
def test_decision_is_recorded_then_written_to_exc_decision(
    d: Driver, exc: ExcReq, decision: ExcDecision, code: int
) -> None:
    j, _ = exception_raised(d, exc)
    actions = d.hs.decide(j.job_id, decision)
    assert isinstance(actions[0], Persist)
    assert writes(actions) == [Write(27, (int(exc),), single=True), Write(28, (code,), single=True)]
    with pytest.raises(DecisionRefused):
        d.hs.decide(j.job_id, decision)  # one decision per request


def test_redirect_writes_the_new_destination_before_the_decision(d: Driver) -> None:
    j, _ = exception_raised(d, ExcReq.DOUBLE_STORAGE, on_fork=True)
    new = CellAddress(1, 1, 7, 2, 1)
    actions = d.hs.decide(j.job_id, ExcDecision.REDIRECT, new)
    assert persisted(actions)[0].destination == new
    assert writes(actions) == [
        Write(10, (1, 1, 7, 2, 1)),
        Write(27, (2,), single=True),
        Write(28, (3,), single=True),
    ]


def test_redirect_cannot_answer_a_failed_pick(d: Driver) -> None:
    j, _ = exception_raised(d, ExcReq.ID_MISMATCH)
    with pytest.raises(DecisionRefused):
        d.hs.decide(j.job_id, ExcDecision.REDIRECT, CellAddress(1, 1, 7, 2, 1))


def test_decision_for_a_job_without_exception_is_refused(d: Driver) -> None:
    j = accepted(d)
    with pytest.raises(DecisionRefused):
        d.hs.decide(j.job_id, ExcDecision.RETRY)
    with pytest.raises(DecisionRefused):
        d.hs.decide(999, ExcDecision.CANCEL)


def test_taken_decision_clears_exc_ack_and_exc_decision(d: Driver) -> None:
    j, _ = exception_raised(d, ExcReq.EMPTY_RETRIEVAL)
    d.hs.decide(j.job_id, ExcDecision.RETRY)
    actions = d.feed(status=RUNNING, active_job_id=j.job_id)
    assert writes(actions) == [Write(27, (0, 0))]
    cleared = [e for e in events(actions) if isinstance(e, ev.ExceptionCleared)]
    assert cleared[0].decision is ExcDecision.RETRY
    assert persisted(actions)[0].state is JobState.ACCEPTED


def test_a_decision_not_yet_taken_is_written_again_after_a_resync(d: Driver) -> None:
    j, _ = exception_raised(d, ExcReq.DOUBLE_STORAGE, on_fork=True)
    new = CellAddress(1, 1, 7, 2, 1)
    d.hs.decide(j.job_id, ExcDecision.REDIRECT, new)  # its writes were lost (link, journal)
    assert writes(d.hs.resync_writes()) == [
        Write(24, (0,), single=True),  # the strobe, cleared as after any reconnect
        Write(10, (1, 1, 7, 2, 1)),
        Write(27, (int(ExcReq.DOUBLE_STORAGE),), single=True),
        Write(28, (3,), single=True),
    ]
    d.feed(status=RUNNING, active_job_id=j.job_id)  # the PLC took it
    assert Write(28, (3,), single=True) not in writes(d.hs.resync_writes())


def test_cancelling_a_running_job_pulses_host_abort(d: Driver) -> None:
    j = accepted(d)
    actions = d.hs.decide(j.job_id, ExcDecision.CANCEL)
    assert writes(actions) == [Write(1, (0b101,))]
    assert d.hs.heartbeat(8) == Write(0, (8, 0b001))


def unconfirmed() -> tuple[Driver, Job]:
    """A driver whose sent job was never accepted: its accept timeout has passed."""
    d = Driver(accept_timeout_s=1.0, heartbeat_stale_s=100.0)
    j = sent(d)
    for _ in range(12):
        d.feed()
    return d, j


def test_operator_retry_of_an_unconfirmed_job_restrobes_the_same_id() -> None:
    d, j = unconfirmed()
    actions = d.hs.decide(j.job_id, ExcDecision.RETRY)
    w = writes(actions)
    assert w[0] == Write(24, (0,), single=True)
    assert w[1].values[:2] == (0x0001, 0x0005)
    assert w[2] == Write(24, (0x0005,), single=True)


def test_cancelling_an_unconfirmed_job_leads_to_verification_not_forgetting() -> None:
    d, j = unconfirmed()
    actions = d.hs.decide(j.job_id, ExcDecision.CANCEL)
    assert persisted(actions)[0].state is JobState.VERIFYING
    assert any(isinstance(e, ev.OutcomeUnknown) for e in events(actions))


def test_failed_data_block_write_returns_the_job_to_the_queue(d: Driver) -> None:
    sent(d)
    actions = d.hs.send_failed()
    assert persisted(actions)[0].state is JobState.QUEUED
    assert phase(d) is Phase.IDLE


def test_a_result_left_by_someone_else_is_acknowledged_and_reported(d: Driver) -> None:
    d.up()
    actions = report_done(d, 4242, completion_code=3)
    reports = [e for e in events(actions) if isinstance(e, ev.ForeignResultAcknowledged)]
    assert (reports[0].job_id, reports[0].completion_code) == (4242, 3)
    assert Write(25, (0, 4242)) in writes(actions)


def test_adopted_job_is_finished_from_the_plcs_result(d: Driver) -> None:
    d.up()
    j = replace(job(), state=JobState.ACCEPTED)
    d.hs.adopt(j)
    actions = report_done(d, j.job_id, read_box_id="BOX-1")
    assert persisted(actions)[0].state is JobState.DONE
    assert Write(25, (0x0001, 0x0005)) in writes(actions)
