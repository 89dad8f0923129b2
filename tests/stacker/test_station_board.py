"""The station board alone: the host's record of each station against the PLC's sensor."""

from __future__ import annotations

from dataclasses import replace

from stacker.cells import CellAddress
from stacker.journal import Job, JobKind, JobState
from stacker.registers import CompletionCode
from stacker.stations import (
    SETTLE_S,
    BoxTaken,
    MismatchCleared,
    MismatchRaised,
    StationBoard,
)

IO1, IO2 = CellAddress(0, 1, 0, 1, 1), CellAddress(0, 2, 0, 1, 1)
CELL = CellAddress(1, 1, 3, 2, 1)


def board(grace_s: float = 60.0) -> StationBoard:
    return StationBoard({"io-1": IO1, "io-2": IO2}, sensed="io-1", grace_s=grace_s)


def done(kind: JobKind, source: CellAddress, destination: CellAddress, job_id: int = 7) -> Job:
    job = Job(job_id=job_id, kind=kind, source=source, destination=destination, ref="R-7",
              box_id="BOX-7")  # fmt: skip
    return replace(job, state=JobState.DONE, plc_completion=int(CompletionCode.OK))


def test_a_retrieved_box_holds_the_station_until_the_sensor_says_it_was_taken() -> None:
    stations = board()
    stations.job_finished(done(JobKind.RETRIEVE, CELL, IO1))
    wait = stations.waiting_for(IO1)
    assert wait is not None
    assert (wait.key, wait.station, wait.ref, wait.job_id) == (
        "station_holds_box",
        "io-1",
        "R-7",
        7,
    )
    assert "R-7" in wait.text
    assert "job 7" in wait.text
    assert stations.observe(True, 1.0) == []
    changes = stations.observe(False, 2.0)
    assert [type(c) for c in changes] == [BoxTaken]
    assert stations.waiting_for(IO1) is None


def test_a_store_from_the_station_takes_the_box_in() -> None:
    stations = board()
    stations.job_finished(done(JobKind.RETRIEVE, CELL, IO1))
    stations.job_finished(done(JobKind.STORE, IO1, CELL, job_id=8))
    assert stations.waiting_for(IO1) is None
    assert stations.observe(False, 1.0) == []  # nothing recorded, so nothing was taken


def test_an_unknown_box_is_reported_soon_when_a_retrieval_waits_for_the_station() -> None:
    stations = board()
    assert stations.observe(True, 0.0, wanted=[IO1]) == []
    assert stations.waiting_for(IO1) is not None
    raised = stations.observe(True, SETTLE_S, wanted=[IO1])
    assert raised == [MismatchRaised("io-1", stations.views()[0].mismatch or "")]
    assert stations.observe(True, SETTLE_S + 1, wanted=[IO1]) == []  # reported once
    cleared = stations.observe(False, SETTLE_S + 2)
    assert cleared == [MismatchCleared("io-1", "the station is clear")]
    assert stations.waiting_for(IO1) is None


def test_a_box_put_down_to_be_stored_is_no_disagreement_until_the_grace_ends() -> None:
    stations = board(grace_s=30.0)
    assert stations.observe(True, 0.0) == []
    assert stations.observe(True, 29.0) == []
    assert [type(c) for c in stations.observe(True, 31.0)] == [MismatchRaised]
    assert [type(c) for c in stations.observe(True, 32.0, to_be_stored=[IO1])] == [MismatchCleared]
    assert stations.observe(True, 100.0, to_be_stored=[IO1]) == []  # its store is queued


def test_the_sensor_is_not_read_while_a_job_moves_a_box_to_or_from_the_station() -> None:
    stations = board(grace_s=0.0)
    stations.job_finished(done(JobKind.RETRIEVE, CELL, IO1))
    assert stations.observe(False, 1.0, in_motion=[CELL, IO1]) == []
    assert stations.waiting_for(IO1) is not None


def test_a_station_without_a_sensor_holds_no_retrieval_back() -> None:
    stations = board()
    stations.job_finished(done(JobKind.RETRIEVE, CELL, IO2))
    assert stations.waiting_for(IO2) is None
    view = {v.name: v for v in stations.views()}["io-2"]
    assert view.box is not None
    assert view.box.ref == "R-7"
    assert (view.sensed, view.plc_occupied) == (False, None)


def test_a_store_that_did_not_take_its_box_in_leaves_it_at_the_station() -> None:
    stations = board()
    cancelled = replace(
        done(JobKind.STORE, IO1, CELL),
        state=JobState.DONE,
        plc_completion=int(CompletionCode.DOUBLE_STORAGE),
    )
    stations.job_finished(cancelled)
    wait = stations.waiting_for(IO1)
    assert wait is not None
    assert (wait.key, wait.ref, wait.job_id) == ("station_holds_box", "R-7", None)
    empty = replace(cancelled, plc_completion=int(CompletionCode.EMPTY_RETRIEVAL))
    fresh = board()
    fresh.job_finished(empty)
    assert fresh.waiting_for(IO1) is None
