"""The JSON-lines journal survives restarts and never hands out a job id twice."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from stacker.cells import CellAddress
from stacker.journal import Job, JobKind, JobState, JsonlJournal
from stacker.registers import CompletionCode, ExcReq


def a_job(job_id: int) -> Job:
    return Job(
        job_id=job_id,
        kind=JobKind.STORE,
        source=CellAddress(0, 1, 0, 1, 1),
        destination=CellAddress(1, 2, 3, 4, 2),
        ref="0001-WS·2023-Y-RS-0001",
        box_id="BOX-1",
    )


async def test_jobs_and_ids_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    journal = JsonlJournal(path)
    first = await journal.next_job_id()
    await journal.record(a_job(first))
    second = await journal.next_job_id()  # allocated, never recorded: still never reused
    finished = replace(
        a_job(first),
        state=JobState.DONE,
        completion=CompletionCode.OK,
        plc_completion=0,
        exception=ExcReq.DOUBLE_STORAGE,
        read_box_id="BOX-1",
    )
    await journal.update(finished)
    third_job = a_job(await journal.next_job_id())
    await journal.record(third_job)

    reopened = JsonlJournal(path)
    assert await reopened.get(first) == finished
    assert await reopened.unfinished() == [third_job]
    assert await reopened.next_job_id() > max(first, second, third_job.job_id)


async def test_a_torn_last_line_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    journal = JsonlJournal(path)
    job = a_job(await journal.next_job_id())
    await journal.record(job)
    with path.open("a", encoding="utf-8") as f:
        f.write('{"op": "job", "job": {"job_id": 9')  # the process died mid-write
    assert await JsonlJournal(path).unfinished() == [job]


async def test_ids_never_have_a_zero_low_word(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    path.write_text('{"op": "id", "id": 65535}\n', encoding="utf-8")
    assert await JsonlJournal(path).next_job_id() == 65537
