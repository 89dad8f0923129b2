"""The controller against the simulated PLC over Modbus TCP: jobs end to end."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from simulators.stacker_plc import PlcSettings, StackerPlcSimulator
from stacker.cells import CellAddress, Occupant, RackGeometry
from stacker.events import (
    AcceptTimeout,
    JobAccepted,
    JobException,
    JobQueued,
    JournalRestored,
    JournalUnavailable,
    StackerDown,
    StackerUp,
)
from stacker.handshake import DecisionRefused
from stacker.journal import Job, JobPurpose, JobState, JsonlJournal
from stacker.registers import IR, CompletionCode, ExcReq, Mode, Status, join_u32
from stacker.service.controller import CommandRefused, StackerController
from tests.stacker.conftest import (
    STATION,
    Recorder,
    running,
    stacker_config,
    stock,
)
from tests.support.poll import eventually

STATION_CELL = CellAddress(*STATION)
FAR = CellAddress(1, 1, 9, 1, 1)
"""The cell furthest from the station: a job there runs long enough to be interrupted."""


RACK = RackGeometry(bays=10, levels=5, depths=2)
"""The simulated PLC's rack: 2 sides x 10 bays x 5 levels, double-deep."""


@pytest.fixture
def plc_settings() -> PlcSettings:
    return PlcSettings(geometry=RACK, heartbeat_period_s=0.05)


def controller(
    sim: StackerPlcSimulator,
    journal: JsonlJournal,
    recorder: Recorder,
    occupancy: dict[CellAddress, Occupant] | None = None,
    **config: object,
) -> StackerController:
    return StackerController(
        stacker_config(sim.url, **config),
        journal,
        on_event=recorder,
        occupancy=(occupancy or {}).items(),
    )


async def test_store_then_retrieve_moves_the_box_and_reports_each_result(
    sim: StackerPlcSimulator, journal: JsonlJournal, recorder: Recorder
) -> None:
    sim.put(STATION, "BOX-0001")
    async with running(controller(sim, journal, recorder)) as ctl:
        store = await ctl.submit("store", ref="0001-WS-2023-Y-RS-0001", box_id="BOX-0001")
        assert not store.destination.is_station
        done = await recorder.finished(store.job_id)
        assert done.state is JobState.DONE
        assert done.completion is CompletionCode.OK
        assert sim.model.contents[store.destination.coordinates()] == "BOX-0001"
        assert STATION not in sim.model.contents
        assert ctl.cells.occupant(store.destination) == Occupant(
            "BOX-0001", "0001-WS-2023-Y-RS-0001"
        )

        retrieve = await ctl.submit("retrieve", ref="0001-WS-2023-Y-RS-0001")
        assert retrieve.source == store.destination
        assert retrieve.destination == STATION_CELL
        assert retrieve.box_id == "BOX-0001"
        done = await recorder.finished(retrieve.job_id)
        assert done.result == "ok"
        assert done.read_box_id == "BOX-0001"
        assert sim.model.contents[STATION] == "BOX-0001"
        assert ctl.cells.locate(ref="0001-WS-2023-Y-RS-0001") is None
    assert sim.executions(store.job_id) == 1
    assert sim.executions(retrieve.job_id) == 1
    recorded = {j.job_id: j for j in await journal.all()}
    assert recorded[store.job_id].state is JobState.DONE
    assert recorded[retrieve.job_id].state is JobState.DONE


@pytest.mark.parametrize("plc_settings", [PlcSettings(geometry=RACK, seconds_per_bay=0.05)])
async def test_urgent_jobs_go_first_and_others_keep_their_order(
    sim: StackerPlcSimulator, journal: JsonlJournal, recorder: Recorder
) -> None:
    cells = [CellAddress(1, 1, bay, 1, 1) for bay in (9, 2, 3, 4)]
    for i, cell in enumerate(cells):
        sim.put(cell.coordinates(), f"BOX-{i}")
    occupancy = {cell: Occupant(f"BOX-{i}", f"REF-{i}") for i, cell in enumerate(cells)}
    async with running(controller(sim, journal, recorder, occupancy)) as ctl:
        first = await ctl.submit("verify", ref="REF-0")
        await recorder.wait_for(JobAccepted, lambda e: e.job.job_id == first.job_id)
        second = await ctl.submit("verify", ref="REF-1")
        third = await ctl.submit("verify", ref="REF-2")
        urgent = await ctl.submit("verify", ref="REF-3", urgent=True)
        assert [j.job_id for j in ctl.queue()] == [urgent.job_id, second.job_id, third.job_id]
        for job in (first, second, third, urgent):
            await recorder.finished(job.job_id)
    accepted = [e.job.job_id for e in recorder.of(JobAccepted)]
    assert accepted == [first.job_id, urgent.job_id, second.job_id, third.job_id]


async def test_rfid_mismatch_is_raised_and_never_accepted_silently(
    sim: StackerPlcSimulator, journal: JsonlJournal, recorder: Recorder
) -> None:
    cell = CellAddress(1, 2, 4, 3, 1)
    sim.put(cell.coordinates(), "BOX-OTHER")  # the rack holds another box than the host thinks
    occupancy = {cell: Occupant("BOX-WANTED", "REF-W")}
    async with running(controller(sim, journal, recorder, occupancy)) as ctl:
        job = await ctl.submit("retrieve", ref="REF-W")
        exc = await recorder.wait_for(JobException, lambda e: e.job.job_id == job.job_id)
        assert exc.exception is ExcReq.ID_MISMATCH
        assert exc.job.read_box_id is None or exc.job.read_box_id != "BOX-WANTED"
        with pytest.raises(DecisionRefused):
            await ctl.decide(job.job_id, "redirect")
        await ctl.decide(job.job_id, "cancel")
        done = await recorder.finished(job.job_id)
        assert done.completion is CompletionCode.ID_MISMATCH
        assert done.read_box_id == "BOX-OTHER"
        assert ctl.cells.occupant(cell) == Occupant("BOX-OTHER", None)
    assert sim.model.contents[cell.coordinates()] == "BOX-OTHER"
    assert STATION not in sim.model.contents


async def test_double_storage_is_redirected_to_a_free_cell(
    sim: StackerPlcSimulator, journal: JsonlJournal, recorder: Recorder
) -> None:
    taken = CellAddress(1, 1, 2, 2, 1)
    sim.put(taken.coordinates(), "BOX-UNKNOWN")  # the host believes this cell is free
    sim.put(STATION, "BOX-NEW")
    async with running(controller(sim, journal, recorder)) as ctl:
        job = await ctl.submit("store", ref="REF-NEW", box_id="BOX-NEW", destination=taken)
        exc = await recorder.wait_for(JobException, lambda e: e.job.job_id == job.job_id)
        assert exc.exception is ExcReq.DOUBLE_STORAGE
        redirected = await ctl.decide(job.job_id, "redirect")
        assert redirected.destination != taken
        done = await recorder.finished(job.job_id)
        assert done.result == "ok"
        assert done.destination == redirected.destination
        assert sim.model.contents[redirected.destination.coordinates()] == "BOX-NEW"
        assert ctl.cells.occupant(taken) == Occupant()
        assert ctl.cells.occupant(redirected.destination) == Occupant("BOX-NEW", "REF-NEW")


async def test_empty_retrieval_can_be_retried_after_the_box_is_put_back(
    sim: StackerPlcSimulator, journal: JsonlJournal, recorder: Recorder
) -> None:
    cell = CellAddress(1, 1, 5, 2, 1)
    async with running(controller(sim, journal, recorder, {cell: Occupant("BOX-5", "R5")})) as ctl:
        job = await ctl.submit("retrieve", ref="R5")
        exc = await recorder.wait_for(JobException, lambda e: e.job.job_id == job.job_id)
        assert exc.exception is ExcReq.EMPTY_RETRIEVAL
        sim.put(cell.coordinates(), "BOX-5")  # someone finds the box and puts it back
        await ctl.decide(job.job_id, "retry")
        done = await recorder.finished(job.job_id)
        assert done.result == "ok"
    assert sim.model.contents[STATION] == "BOX-5"
    assert sim.executions(job.job_id) == 1


async def test_retrieval_behind_an_occupied_outer_cell_shuffles_the_outer_box_first(
    sim: StackerPlcSimulator, journal: JsonlJournal, recorder: Recorder
) -> None:
    inner, outer = CellAddress(1, 1, 3, 2, 2), CellAddress(1, 1, 3, 2, 1)
    occupancy = stock(sim, inner, "BOX-IN", "R-IN") | stock(sim, outer, "BOX-OUT", "R-OUT")
    async with running(controller(sim, journal, recorder, occupancy)) as ctl:
        job = await ctl.submit("retrieve", ref="R-IN")
        done = await recorder.finished(job.job_id)
        assert done.result == "ok"
        shuffles = [e.job for e in recorder.of(JobQueued) if e.job.purpose is JobPurpose.SHUFFLE]
        assert len(shuffles) == 1
        shuffle = shuffles[0]
        assert (shuffle.source, shuffle.parent_id, shuffle.ref) == (outer, job.job_id, "R-OUT")
        assert (await recorder.finished(shuffle.job_id)).result == "ok"
        moved_to = ctl.cells.locate(ref="R-OUT")
        assert moved_to == shuffle.destination
        assert moved_to is not None
        assert sim.model.contents[moved_to.coordinates()] == "BOX-OUT"
    assert sim.model.contents[STATION] == "BOX-IN"
    assert outer.coordinates() not in sim.model.contents


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ("manual", "stacker is in manual mode"),
        ("door", "door 2 is open"),
        ("estop", "emergency stop is pressed"),
    ],
)
async def test_commands_are_refused_with_the_reason_while_the_stacker_is_unavailable(
    sim: StackerPlcSimulator, journal: JsonlJournal, recorder: Recorder, fault: str, reason: str
) -> None:
    sim.put(STATION, "BOX-1")
    async with running(controller(sim, journal, recorder)) as ctl:
        if fault == "manual":
            sim.set_mode(Mode.MANUAL)
        elif fault == "door":
            sim.open_door(2)
        else:
            sim.press_estop()
        await eventually(lambda: ctl.status().refusal is not None, timeout=10)
        with pytest.raises(CommandRefused) as refused:
            await ctl.submit("store", ref="R1", box_id="BOX-1")
        assert refused.value.reason == reason
        assert ctl.status().refusal == reason
    assert not await journal.all()  # nothing recorded, nothing sent
    assert not sim.model.strobes


async def test_fault_reset_clears_a_latched_emergency_stop(
    sim: StackerPlcSimulator, journal: JsonlJournal, recorder: Recorder
) -> None:
    async with running(controller(sim, journal, recorder)) as ctl:
        sim.press_estop()
        await eventually(lambda: ctl.status().refusal == "emergency stop is pressed", timeout=10)
        sim.release_estop()
        await eventually(lambda: ctl.status().refusal == "stacker reports fault 100", timeout=10)
        await ctl.reset_faults()
        await eventually(lambda: ctl.status().refusal is None, timeout=10)


async def test_accept_timeout_raises_an_alarm_and_the_strobe_is_not_resent(
    sim: StackerPlcSimulator, journal: JsonlJournal, recorder: Recorder
) -> None:
    sim.set_slow_accept(3600.0)
    occupancy = stock(sim, CellAddress(1, 1, 1, 1, 1), "BOX-1", "R1")
    ctl = controller(sim, journal, recorder, occupancy, accept_timeout_s=0.3)
    async with running(ctl):
        job = await ctl.submit("verify", ref="R1")
        alarm = await recorder.wait_for(AcceptTimeout)
        assert alarm.job.job_id == job.job_id
        assert alarm.job.state is JobState.UNCONFIRMED
        assert sim.model.strobes[job.job_id] == 1
        assert sim.executions(job.job_id) == 0
        sim.set_slow_accept(0.0)
        await ctl.decide(job.job_id, "retry")  # an operator's decision: same id, same content
        done = await recorder.finished(job.job_id)
        assert done.result == "ok"
    assert sim.model.strobes[job.job_id] == 2
    assert sim.executions(job.job_id) == 1


async def test_stale_plc_heartbeat_takes_the_stacker_down_until_it_beats_again(
    sim: StackerPlcSimulator, journal: JsonlJournal, recorder: Recorder
) -> None:
    async with running(controller(sim, journal, recorder, heartbeat_stale_s=0.5)) as ctl:
        sim.stop_heartbeat()
        down = await recorder.wait_for(StackerDown)
        assert "heartbeat" in down.reason
        assert not ctl.metrics.up
        with pytest.raises(CommandRefused, match="heartbeat"):
            await ctl.submit("verify", source=CellAddress(1, 1, 1, 1, 1))
        ups = len(recorder.of(StackerUp))
        sim.resume_heartbeat()
        await recorder.wait_for(StackerUp, lambda _: len(recorder.of(StackerUp)) > ups)
        assert ctl.metrics.up


async def test_controller_survives_a_plc_restart_and_reconnects(
    plc_settings: PlcSettings, journal: JsonlJournal, recorder: Recorder
) -> None:
    sim = StackerPlcSimulator(plc_settings)
    await sim.start()
    port = sim.port
    ctl = controller(sim, journal, recorder)
    try:
        async with running(ctl):
            await sim.stop()
            await recorder.wait_for(StackerDown)
            assert ctl.status().refusal is not None
            sim = StackerPlcSimulator(plc_settings, port=port)
            await sim.start()
            sim.put((1, 1, 1, 1, 1), "BOX-1")
            await eventually(lambda: ctl.status().refusal is None, timeout=10)
            job = await ctl.submit("verify", source=CellAddress(1, 1, 1, 1, 1), box_id="BOX-1")
            assert (await recorder.finished(job.job_id)).result == "ok"
    finally:
        await sim.stop()
    assert ctl.metrics.reconnects_total >= 1


async def test_queued_job_can_be_cancelled_and_running_one_aborted(
    plc_settings: PlcSettings, journal: JsonlJournal, recorder: Recorder
) -> None:
    slow = PlcSettings(geometry=RACK, seconds_per_bay=1.0)
    async with StackerPlcSimulator(slow) as sim:
        near = CellAddress(1, 1, 1, 1, 1)
        occupancy = stock(sim, FAR, "BOX-F", "RF") | stock(sim, near, "BOX-N", "RN")
        async with running(controller(sim, journal, recorder, occupancy)) as ctl:
            running_job = await ctl.submit("retrieve", ref="RF")
            await recorder.wait_for(JobAccepted, lambda e: e.job.job_id == running_job.job_id)
            queued = await ctl.submit("retrieve", ref="RN")
            cancelled = await ctl.decide(queued.job_id, "cancel")
            assert cancelled.state is JobState.CANCELLED
            await ctl.decide(running_job.job_id, "cancel")
            aborted = await recorder.finished(running_job.job_id)
            assert aborted.completion is CompletionCode.HOST_ABORT
        assert sim.executions(queued.job_id) == 0
        assert sim.model.contents[FAR.coordinates()] == "BOX-F"


async def test_submitting_for_an_item_not_in_the_stacker_is_refused(
    sim: StackerPlcSimulator, journal: JsonlJournal, recorder: Recorder
) -> None:
    async with running(controller(sim, journal, recorder)) as ctl:
        with pytest.raises(CommandRefused, match="not in the stacker"):
            await ctl.submit("retrieve", ref="NOWHERE")


async def test_status_reports_mode_position_and_metrics(
    sim: StackerPlcSimulator, journal: JsonlJournal, recorder: Recorder
) -> None:
    occupancy = stock(sim, CellAddress(1, 2, 6, 4, 1), "BOX-S", "RS")
    async with running(controller(sim, journal, recorder, occupancy)) as ctl:
        job = await ctl.submit("verify", ref="RS")
        await recorder.finished(job.job_id)
        await eventually(lambda: "ready" in ctl.status().status, timeout=10)
        status = ctl.status()
        assert status.up
        assert status.mode_name == "automatic"
        assert "ready" in status.status
        assert status.position == (1, 2, 6, 4, 0)
        assert status.faults == ()
        assert ctl.metrics.jobs_total[("verify", "ok")] == 1
        assert ctl.metrics.mode == Mode.AUTO


@pytest.mark.parametrize("plc_settings", [PlcSettings(geometry=RACK, seconds_per_bay=0.1)])
async def test_link_drop_mid_job_is_survived_and_the_job_runs_once(
    sim: StackerPlcSimulator, journal: JsonlJournal, recorder: Recorder
) -> None:
    occupancy = stock(sim, FAR, "BOX-F", "RF")
    async with running(controller(sim, journal, recorder, occupancy)) as ctl:
        job = await ctl.submit("retrieve", ref="RF")
        await recorder.wait_for(JobAccepted, lambda e: e.job.job_id == job.job_id)
        await sim.stop()  # the PLC's Modbus server goes away mid-job, the crane keeps its state
        down = await recorder.wait_for(StackerDown)
        assert "stacker PLC" in down.reason
        await sim.start()
        done = await recorder.finished(job.job_id)
        assert done.result == "ok"
    assert sim.executions(job.job_id) == 1
    assert sim.model.strobes[job.job_id] == 1
    assert sim.model.contents[STATION] == "BOX-F"


async def test_store_behind_an_unexpected_outer_box_is_redirected_and_the_obstacle_noted(
    sim: StackerPlcSimulator, journal: JsonlJournal, recorder: Recorder
) -> None:
    inner = CellAddress(1, 1, 1, 1, 2)
    sim.put(inner.outer().coordinates(), "BOX-STRAY")  # the host does not know about it
    sim.put(STATION, "BOX-NEW")
    async with running(controller(sim, journal, recorder)) as ctl:
        job = await ctl.submit("store", ref="R-NEW", box_id="BOX-NEW", destination=inner)
        exc = await recorder.wait_for(JobException, lambda e: e.job.job_id == job.job_id)
        assert exc.exception is ExcReq.OUTER_CELL_OCCUPIED
        assert "redirect" in [d.name.lower() for d in exc.decisions]
        new = CellAddress(1, 2, 2, 1, 1)
        await ctl.decide(job.job_id, "redirect", new)
        done = await recorder.finished(job.job_id)
        assert done.result == "ok"
        assert ctl.cells.occupant(inner.outer()) == Occupant()
        assert ctl.cells.occupant(new) == Occupant("BOX-NEW", "R-NEW")
        assert ctl.cells.occupant(inner) is None
    assert sim.model.contents[new.coordinates()] == "BOX-NEW"


class _OutageJournal(JsonlJournal):
    """The durable JSON-lines journal, whose state updates fail while ``down`` is set (the way
    the daemon's journal fails while its database is unreachable)."""

    down = False

    async def update(self, job: Job) -> None:
        if self.down:
            raise OSError("journal storage unreachable")
        await super().update(job)


@contextlib.asynccontextmanager
async def _far_retrieval_unrecorded(
    sim: StackerPlcSimulator, journal: _OutageJournal, recorder: Recorder
) -> AsyncIterator[tuple[StackerController, Job]]:
    """A controller running a retrieval of box ``BOX-F`` (item ``RF``) from the far cell
    ``FAR``; once the PLC has accepted it, the journal can no longer record updates."""
    occupancy = stock(sim, FAR, "BOX-F", "RF")
    async with running(controller(sim, journal, recorder, occupancy)) as ctl:
        job = await ctl.submit("retrieve", ref="RF")
        await recorder.wait_for(JobAccepted, lambda e: e.job.job_id == job.job_id)
        journal.down = True
        yield ctl, job


@pytest.mark.parametrize(
    "plc_settings",
    [PlcSettings(geometry=RACK, seconds_per_bay=0.1, heartbeat_period_s=0.05, host_watchdog_s=1.0)],
)
async def test_a_result_is_held_at_the_plc_while_the_journal_cannot_record_it(
    sim: StackerPlcSimulator, tmp_path: Path, recorder: Recorder
) -> None:
    journal = _OutageJournal(tmp_path / "journal.jsonl")
    async with _far_retrieval_unrecorded(sim, journal, recorder) as (ctl, job):
        await recorder.wait_for(JournalUnavailable)
        await recorder.finished(job.job_id)  # the PLC reported it; the journal could not take it

        async def result_waits() -> bool:
            status = sim.model.status()
            last_done = sim.model.input_registers()[IR.LAST_DONE_JOB_ID : IR.LAST_DONE_JOB_ID + 2]
            return bool(status & Status.DONE) and join_u32(*last_done) == job.job_id

        await eventually(result_waits)
        refusal = ctl.status().refusal
        assert refusal is not None
        assert "journal" in refusal
        with pytest.raises(CommandRefused, match="journal"):
            await ctl.submit("verify", destination=FAR)
        await asyncio.sleep(2.0)  # twice the PLC's host watchdog: heartbeats must go on
        assert await result_waits()  # not acknowledged before it is recorded
        assert not sim.model.status() & Status.HOST_WATCHDOG_TRIPPED
        assert recorder.of(StackerDown) == []
        stored = await journal.get(job.job_id)
        assert stored is not None
        assert stored.state is JobState.ACCEPTED
        assert ctl.journal_held > 0

        journal.down = False
        restored = await recorder.wait_for(JournalRestored)
        assert restored.written >= 1
        await eventually(lambda: _not(result_waits))
        stored = await journal.get(job.job_id)
        assert stored is not None
        assert stored.state is JobState.DONE
        assert stored.result == "ok"
        assert ctl.journal_held == 0
        assert ctl.status().refusal is None
        back = await ctl.submit("store", ref="RF", box_id="BOX-F")
        assert (await recorder.finished(back.job_id)).result == "ok"
    assert sim.executions(job.job_id) == 1
    assert sim.model.strobes[job.job_id] == 1
    assert len(recorder.of(JournalUnavailable)) == 1


async def _not(check: Callable[[], Awaitable[bool]]) -> bool:
    return not await check()


@pytest.mark.parametrize(
    "plc_settings",
    [PlcSettings(geometry=RACK, seconds_per_bay=0.1, heartbeat_period_s=0.05)],
)
async def test_held_records_are_written_while_the_plc_is_away_and_acknowledged_on_its_return(
    sim: StackerPlcSimulator, tmp_path: Path, recorder: Recorder
) -> None:
    journal = _OutageJournal(tmp_path / "journal.jsonl")
    async with _far_retrieval_unrecorded(sim, journal, recorder) as (ctl, job):
        await recorder.finished(job.job_id)
        assert ctl.journal_held > 0
        await sim.stop()  # the PLC's Modbus server goes away too
        await recorder.wait_for(StackerDown)
        journal.down = False
        await recorder.wait_for(JournalRestored)  # without waiting for the PLC
        stored = await journal.get(job.job_id)
        assert stored is not None
        assert stored.state is JobState.DONE
        assert bool(sim.model.status() & Status.DONE)  # still unacknowledged

        await sim.start()
        await eventually(lambda: _not(lambda: _done_flag(sim)))
        assert ctl.status().refusal is None
    assert sim.executions(job.job_id) == 1


async def _done_flag(sim: StackerPlcSimulator) -> bool:
    return bool(sim.model.status() & Status.DONE)
