"""A host that restarts mid-job compares its journal with the PLC and never runs a job twice."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from simulators.stacker_plc import PlcSettings, StackerPlcSimulator
from stacker.cells import CellAddress, Occupant
from stacker.events import JobAccepted, OutcomeUnknown
from stacker.journal import Job, JobKind, JobPurpose, JobState, JsonlJournal
from stacker.recovery import Recovery, assess, resolve, scan_plan
from stacker.registers import (
    HR,
    CmdOpts,
    CommandCode,
    CompletionCode,
    Mode,
    Snapshot,
    Status,
    encode_command,
    split_u32,
)
from stacker.service.controller import StackerController
from tests.stacker.conftest import STATION, Recorder, running, stacker_config, stock
from tests.support.fixtures import PLC_SETTINGS
from tests.support.poll import eventually
from tests.support.stacker import plc_snapshot

FAR = CellAddress(1, 1, 9, 1, 1)
STATION_CELL = CellAddress(*STATION)


def controller(
    sim: StackerPlcSimulator, path: Path, recorder: Recorder, occupancy: dict[CellAddress, Occupant]
) -> StackerController:
    """A fresh controller process: new journal object on the same file, same rack beliefs."""
    return StackerController(
        stacker_config(sim.url),
        JsonlJournal(path),
        on_event=recorder,
        occupancy=occupancy.items(),
    )


@pytest.fixture
def plc_settings() -> PlcSettings:
    """Motion takes about a second each way, so a job can be caught running."""
    return replace(PLC_SETTINGS, seconds_per_bay=0.1)


@pytest.fixture
def journal_path(tmp_path: Path) -> Path:
    return tmp_path / "journal.jsonl"


async def test_restart_while_the_crane_runs_the_job_waits_for_it_and_records_the_result(
    sim: StackerPlcSimulator, journal_path: Path
) -> None:
    occupancy = stock(sim, FAR, "BOX-K", "R-K")
    first = Recorder()
    async with running(controller(sim, journal_path, first, occupancy)) as ctl:
        job = await ctl.submit("retrieve", ref="R-K")
        await first.wait_for(JobAccepted, lambda e: e.job.job_id == job.job_id)
        sim.set_mode(Mode.MANUAL)  # the crane holds the job while the host is away
    second = Recorder()
    restarted = controller(sim, journal_path, second, occupancy)
    async with running(restarted, ready=False):
        await eventually(lambda: restarted.status().active_job is not None, timeout=10)
        active = restarted.status().active_job
        assert active is not None
        assert active.job_id == job.job_id
        sim.set_mode(Mode.AUTO)
        done = await second.finished(job.job_id)
        assert done.state is JobState.DONE
        assert done.result == "ok"
    assert sim.executions(job.job_id) == 1
    assert sim.model.strobes[job.job_id] == 1
    assert sim.model.contents[STATION] == "BOX-K"
    assert await JsonlJournal(journal_path).unfinished() == []


async def test_restart_after_the_plc_finished_records_its_result_and_acknowledges_it(
    sim: StackerPlcSimulator, journal_path: Path
) -> None:
    occupancy = stock(sim, FAR, "BOX-K", "R-K")
    first = Recorder()
    sim.set_slow_accept(0.0)
    async with running(controller(sim, journal_path, first, occupancy)) as ctl:
        sim.set_mode(Mode.AUTO)
        job = await ctl.submit("retrieve", ref="R-K")
        await first.wait_for(JobAccepted, lambda e: e.job.job_id == job.job_id)
        sim.set_mode(Mode.MANUAL)
    sim.set_mode(Mode.AUTO)  # the crane finishes while no host is running
    await eventually(lambda: Status.DONE in sim.model.status(), timeout=10)
    second = Recorder()
    async with running(controller(sim, journal_path, second, occupancy), ready=False):
        done = await second.finished(job.job_id)
        assert done.result == "ok"
        await eventually(lambda: Status.DONE not in sim.model.status(), timeout=10)  # acknowledged
    assert sim.executions(job.job_id) == 1
    assert sim.model.strobes[job.job_id] == 1


async def record_sent(path: Path, job_id: int, source: CellAddress, box: str) -> Job:
    """What a host leaves behind when it dies between its journal write and the PLC's answer."""
    journal = JsonlJournal(path)
    assert await journal.next_job_id() < job_id
    job = Job(
        job_id=job_id,
        kind=JobKind.RETRIEVE,
        source=source,
        destination=STATION_CELL,
        ref="R-U",
        box_id=box,
        state=JobState.SENDING,
    )
    await journal.record(job)
    return job


async def test_job_of_unknown_outcome_that_never_ran_is_verified_not_resent(
    sim: StackerPlcSimulator, journal_path: Path
) -> None:
    cell = CellAddress(1, 2, 3, 2, 1)
    occupancy = stock(sim, cell, "BOX-U", "R-U")
    job = await record_sent(journal_path, 7, cell, "BOX-U")
    recorder = Recorder()
    async with running(controller(sim, journal_path, recorder, occupancy)):
        unknown = await recorder.wait_for(OutcomeUnknown)
        assert unknown.job.job_id == job.job_id
        resolved = await recorder.finished(job.job_id)
        assert resolved.state is JobState.NOT_EXECUTED
    verifies = [j for j in await JsonlJournal(journal_path).all() if j.parent_id == job.job_id]
    assert [v.kind for v in verifies] == [JobKind.VERIFY, JobKind.VERIFY]
    assert [v.source for v in verifies] == [STATION_CELL, cell]  # destination first, then source
    assert all(v.purpose is JobPurpose.RECOVERY for v in verifies)
    assert sim.executions(job.job_id) == 0
    assert sim.model.strobes[job.job_id] == 0
    assert sim.model.contents[cell.coordinates()] == "BOX-U"


async def test_job_the_plc_ran_while_the_host_was_away_is_found_done_by_verify(
    sim: StackerPlcSimulator, journal_path: Path
) -> None:
    cell = CellAddress(1, 2, 3, 2, 1)
    sim.put(cell.coordinates(), "BOX-U")
    job = await record_sent(journal_path, 7, cell, "BOX-U")
    # The strobe did reach the PLC; the job ran and someone else acknowledged it, and a later
    # job has replaced LAST_DONE_JOB_ID: only looking can tell what happened.
    model = sim.model
    for job_id, code, src, dst in (
        (7, CommandCode.RETRIEVE, cell, STATION_CELL),
        (9, CommandCode.VERIFY, CellAddress(1, 1, 1, 1, 1), CellAddress(1, 1, 1, 1, 1)),
    ):
        block = encode_command(
            job_id,
            code,
            source=src.coordinates(),
            destination=dst.coordinates(),
            opts=CmdOpts(0),
            box_id="",
        )
        model.write(HR.HOST_HEARTBEAT, [job_id])
        model.write(HR.CMD_JOB_ID, block)
        model.write(HR.CMD_STROBE, [job_id])
        model.write(HR.CMD_STROBE, [0])
        await eventually(lambda: Status.DONE in model.status(), timeout=10)
        model.write(HR.EVENT_ACK_JOB, list(split_u32(job_id)))
    assert model.contents[STATION] == "BOX-U"
    recorder = Recorder()
    async with running(controller(sim, journal_path, recorder, {cell: Occupant("BOX-U", "R-U")})):
        resolved = await recorder.finished(job.job_id)
        assert resolved.state is JobState.DONE
        assert resolved.completion is CompletionCode.OK
    assert sim.executions(job.job_id) == 1
    assert sim.model.strobes[job.job_id] == 1


async def test_host_killed_with_sigkill_mid_job_is_recovered_without_running_the_job_twice(
    plc_settings: PlcSettings, journal_path: Path
) -> None:
    async with StackerPlcSimulator(plc_settings) as sim:
        sim.put(FAR.coordinates(), "BOX-K")
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.stacker.host_process",
            sim.url,
            str(journal_path),
            cwd=Path(__file__).resolve().parents[2],
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            assert proc.stdout is not None
            async with asyncio.timeout(30):
                line = (await proc.stdout.readline()).decode()
            assert line.startswith("ACCEPTED "), line
            job_id = int(line.split()[1])
            sim.set_mode(Mode.MANUAL)  # hold the crane mid-job
            proc.send_signal(signal.SIGKILL)
        finally:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
        assert proc.returncode == -signal.SIGKILL

        recorder = Recorder()
        ctl = controller(sim, journal_path, recorder, {FAR: Occupant("BOX-K", "R-K")})
        async with running(ctl, ready=False):
            await eventually(lambda: ctl.status().active_job is not None, timeout=10)
            sim.set_mode(Mode.AUTO)
            done = await recorder.finished(job_id)
            assert done.result == "ok"
        assert sim.executions(job_id) == 1
        assert sim.model.strobes[job_id] == 1
        assert sim.model.contents[STATION] == "BOX-K"


# -- the pure rules ---------------------------------------------------------------------------


def plc(active: int = 0, last_done: int = 0) -> Snapshot:
    return plc_snapshot(
        status=Status.SAFETY_OK | Status.HOMED, active_job_id=active, last_done_job_id=last_done
    )


def a_job(state: JobState, purpose: JobPurpose = JobPurpose.REQUEST) -> Job:
    return Job(
        job_id=5,
        kind=JobKind.STORE,
        source=STATION_CELL,
        destination=FAR,
        box_id="B",
        state=state,
        purpose=purpose,
    )


@pytest.mark.parametrize(
    ("state", "snapshot", "expected"),
    [
        (JobState.QUEUED, plc(), Recovery.REQUEUE),
        (JobState.QUEUED, plc(last_done=5), Recovery.REQUEUE),
        (JobState.SENDING, plc(active=5), Recovery.ADOPT),
        (JobState.UNCONFIRMED, plc(last_done=5), Recovery.ADOPT),
        (JobState.ACCEPTED, plc(active=5), Recovery.ADOPT),
        (JobState.EXCEPTION, plc(active=5), Recovery.ADOPT),
        (JobState.SENDING, plc(), Recovery.VERIFY),
        (JobState.ACCEPTED, plc(last_done=4), Recovery.VERIFY),
        (JobState.VERIFYING, plc(last_done=5), Recovery.VERIFY),
    ],
)
def test_each_unfinished_job_is_compared_with_the_plc(
    state: JobState, snapshot: Snapshot, expected: Recovery
) -> None:
    assert assess(a_job(state), snapshot) is expected


def test_an_interrupted_recovery_verify_is_superseded() -> None:
    assert assess(a_job(JobState.SENDING, JobPurpose.RECOVERY), plc()) is Recovery.SUPERSEDE


def scan(cell: CellAddress, code: CompletionCode, read: str) -> Job:
    return Job(
        job_id=90,
        kind=JobKind.VERIFY,
        source=cell,
        destination=cell,
        state=JobState.DONE,
        plc_completion=int(code),
        read_box_id=read,
    )


def test_scans_look_at_the_destination_first_then_the_source() -> None:
    parent = a_job(JobState.VERIFYING)
    assert scan_plan(parent) == [FAR, STATION_CELL]
    found = resolve(parent, scan(FAR, CompletionCode.OK, "B"))
    assert found is not None
    assert (found.state, found.completion) == (JobState.DONE, CompletionCode.OK)
    assert resolve(parent, scan(FAR, CompletionCode.EMPTY_RETRIEVAL, "")) is None
    assert resolve(parent, scan(FAR, CompletionCode.ID_MISMATCH, "OTHER")) is None
    still = resolve(parent, scan(STATION_CELL, CompletionCode.OK, "B"))
    assert still is not None
    assert still.state is JobState.NOT_EXECUTED
    lost = resolve(parent, scan(STATION_CELL, CompletionCode.EMPTY_RETRIEVAL, ""))
    assert lost is not None
    assert lost.state is JobState.UNRESOLVED
