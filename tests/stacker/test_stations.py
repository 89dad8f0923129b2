"""The controller and its station against the simulated PLC: a retrieval never jams on a box."""

from __future__ import annotations

from simulators.stacker_plc import StackerPlcSimulator
from stacker.cells import CellAddress, Occupant
from stacker.events import (
    JobAccepted,
    JobException,
    StationBoxTaken,
    StationMismatch,
    StationMismatchCleared,
)
from stacker.journal import JobState, JsonlJournal
from stacker.service.controller import StackerController
from tests.stacker.conftest import STATION, Recorder, running, stacker_config
from tests.support.poll import eventually

A, B = CellAddress(1, 1, 4, 2, 1), CellAddress(1, 2, 6, 3, 1)


def controller(
    sim: StackerPlcSimulator, journal: JsonlJournal, recorder: Recorder
) -> StackerController:
    sim.put(A.coordinates(), "BOX-A")
    sim.put(B.coordinates(), "BOX-B")
    occupancy = {A: Occupant("BOX-A", "R-A"), B: Occupant("BOX-B", "R-B")}
    return StackerController(
        stacker_config(sim.url), journal, on_event=recorder, occupancy=occupancy.items()
    )


async def test_two_retrievals_one_after_the_other_are_both_served_in_order(
    sim: StackerPlcSimulator, journal: JsonlJournal, recorder: Recorder
) -> None:
    async with running(controller(sim, journal, recorder)) as ctl:
        first = await ctl.submit("retrieve", ref="R-A")
        second = await ctl.submit("retrieve", ref="R-B")
        assert (await recorder.finished(first.job_id)).result == "ok"
        assert sim.station_box() == "BOX-A"

        await eventually(lambda: second.job_id in ctl.status().waiting, timeout=10)
        wait = ctl.status().waiting[second.job_id]
        assert (wait.key, wait.station, wait.ref, wait.job_id) == (
            "station_holds_box", "io-1", "R-A", first.job_id
        )  # fmt: skip
        assert [j.job_id for j in ctl.queue()] == [second.job_id]
        assert sim.executions(second.job_id) == 0

        assert sim.clerk_takes() == "BOX-A"
        taken = await recorder.wait_for(StationBoxTaken)
        assert (taken.station, taken.ref, taken.job_id) == ("io-1", "R-A", first.job_id)
        done = await recorder.finished(second.job_id)
        assert done.result == "ok"
        assert sim.station_box() == "BOX-B"
    accepted = [e.job.job_id for e in recorder.of(JobAccepted)]
    assert accepted == [first.job_id, second.job_id]
    assert recorder.of(JobException) == []
    assert recorder.of(StationMismatch) == []


async def test_a_store_from_the_station_clears_it_for_the_waiting_retrieval(
    sim: StackerPlcSimulator, journal: JsonlJournal, recorder: Recorder
) -> None:
    async with running(controller(sim, journal, recorder)) as ctl:
        first = await ctl.submit("retrieve", ref="R-A")
        await recorder.finished(first.job_id)
        waiting = await ctl.submit("retrieve", ref="R-B")
        store = await ctl.submit("store", ref="R-A", box_id="BOX-A")  # queued behind, goes first
        assert (await recorder.finished(store.job_id)).result == "ok"
        assert (await recorder.finished(waiting.job_id)).result == "ok"
        assert sim.station_box() == "BOX-B"
    assert recorder.of(JobException) == []


async def test_a_box_the_host_did_not_bring_holds_the_retrieval_and_raises_the_alarm(
    sim: StackerPlcSimulator, journal: JsonlJournal, recorder: Recorder
) -> None:
    async with running(controller(sim, journal, recorder)) as ctl:
        sim.clerk_puts("BOX-STRAY")  # the host's record says the station is empty
        job = await ctl.submit("retrieve", ref="R-A")
        mismatch = await recorder.wait_for(StationMismatch)
        assert mismatch.station == "io-1"
        assert "did not bring" in mismatch.message
        status = ctl.status()
        assert status.waiting[job.job_id].key == "station_occupied"
        assert status.stations[0].mismatch is not None
        assert status.stations[0].plc_occupied is True
        assert sim.executions(job.job_id) == 0

        sim.clerk_takes()
        await recorder.wait_for(StationMismatchCleared)
        assert (await recorder.finished(job.job_id)).result == "ok"
    assert recorder.of(JobException) == []


async def test_a_job_waiting_for_a_decision_says_the_queue_is_blocked(
    sim: StackerPlcSimulator, journal: JsonlJournal, recorder: Recorder
) -> None:
    async with running(controller(sim, journal, recorder)) as ctl:
        taken = CellAddress(1, 1, 2, 2, 1)
        sim.put(taken.coordinates(), "BOX-UNKNOWN")  # the host believes this cell is free
        sim.put(STATION, "BOX-NEW")
        job = await ctl.submit("store", ref="R-NEW", box_id="BOX-NEW", destination=taken)
        behind = await ctl.submit("retrieve", ref="R-B")
        await recorder.wait_for(JobException, lambda e: e.job.job_id == job.job_id)
        await eventually(lambda: ctl.status().blocked is not None, timeout=10)
        status = ctl.status()
        assert status.blocked_job == job.job_id
        blocked = status.blocked or ""
        assert f"job {job.job_id} waits for a decision" in blocked
        assert "1 queued job(s) wait behind it" in blocked
        await ctl.decide(job.job_id, "cancel")
        await recorder.finished(job.job_id)
        await eventually(lambda: ctl.status().blocked is None, timeout=10)
        # the cancelled store left its box at the station: the retrieval waits for it
        await eventually(lambda: behind.job_id in ctl.status().waiting, timeout=10)
        assert ctl.status().waiting[behind.job_id].ref == "R-NEW"
        assert sim.clerk_takes() == "BOX-NEW"
        assert (await recorder.finished(behind.job_id)).state is JobState.DONE
    assert recorder.of(StationMismatch) == []
