"""The stacker's journal on the room's database (``SqlJournal``), without the PLC or HTTP:
ids, the record of each job, the item's place when a job ends, and the alarms a job rings;
each on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from daemon.ledger.alarms import Alarms
from daemon.metrics import Metrics
from daemon.services import Services
from daemon.store.db import Store
from stacker.cells import CellAddress
from stacker.journal import Job, JobKind, JobState
from stacker.registers import CompletionCode
from stacker.service.journal_store import SqlJournal
from stacker.service.room import StackerService
from tests.support.ledger import audit_actions, catalogued, room_config, room_services
from tests.support.room import RACKS
from tests.support.stacker import STACKER_TABLE, STATION_CODE, stacker_toml

CELL = CellAddress(1, 1, 3, 2, 1)
CELL_CODE = "r1-S11-03-02-1"
STATION = CellAddress(0, 1, 0, 1, 1)


@pytest.fixture
async def services(tmp_path: Path, db_url: str, store: Store) -> Services:
    """The room's services with the stacker of ``tests.support.stacker`` (its PLC never runs:
    the journal does not talk to it)."""
    toml = RACKS + stacker_toml("tcp://127.0.0.1:9")
    return await room_services(room_config(tmp_path / "r1", db_url, toml), store)


def _stacker(services: Services) -> StackerService:
    assert services.stacker is not None
    return services.stacker


def _store_job(job_id: int, ref: str | None = "BOX-1") -> Job:
    return Job(job_id, JobKind.STORE, STATION, CELL, ref=ref, box_id="F7194E4000001A85")


async def test_job_ids_grow_and_continue_after_a_restart(services: Services) -> None:
    stacker = _stacker(services)
    journal = stacker.journal
    first = await journal.next_job_id()
    second = await journal.next_job_id()
    assert 0 < first < second
    await journal.record(_store_job(second, ref=None))
    restarted = SqlJournal(services.ledger, services.locations, services.alarms, stacker.places)
    assert await restarted.next_job_id() > second


async def test_a_store_job_is_recorded_and_its_end_moves_the_item_into_the_cell(
    services: Services,
) -> None:
    await catalogued(services, "BOX-1")
    journal = _stacker(services).journal
    job = _store_job(await journal.next_job_id())
    await journal.record(job)
    assert await journal.unfinished() == [job]
    assert await journal.get(job.job_id) == job

    await journal.update(replace(job, state=JobState.ACCEPTED))
    assert (await services.whereabouts.locate_one("BOX-1")).location.code == "unknown"
    await journal.update(replace(job, state=JobState.DONE, completion=CompletionCode.OK))

    assert await journal.unfinished() == []
    where = await services.whereabouts.locate_one("BOX-1")
    assert (where.location.code, where.source) == (CELL_CODE, "stacker")
    assert await audit_actions(services.store, "BOX-1") == [
        "item.created",
        "stacker.job.created",
        "stacker.job.finished",
        "item.moved",
    ]
    assert await services.alarms.list() == []


async def test_a_failed_job_rings_an_alarm_and_leaves_the_records_as_they_were(
    services: Services,
) -> None:
    await catalogued(services, "BOX-2")
    journal = _stacker(services).journal
    job = _store_job(await journal.next_job_id(), ref="BOX-2")
    await journal.record(job)
    note = "the crane read another box"
    failed = replace(job, state=JobState.DONE, completion=CompletionCode.ID_MISMATCH, note=note)
    await journal.update(failed)

    (alarm,) = await services.alarms.list()
    assert (alarm.kind, alarm.subject) == ("stacker.job_failed", "BOX-2")
    assert "the crane read another box" in alarm.message
    assert (await services.whereabouts.locate_one("BOX-2")).location.code == "unknown"
    reloaded = Alarms(services.ledger, Metrics(room="r1"))
    await reloaded.load()
    assert reloaded.is_active(alarm.key)


async def test_a_job_never_recorded_cannot_be_updated_and_a_station_has_its_code(
    services: Services,
) -> None:
    stacker = _stacker(services)
    with pytest.raises(KeyError, match="never recorded"):
        await stacker.journal.update(_store_job(4242))
    assert stacker.places.code(STATION) == STATION_CODE
    assert stacker.places.cell(CELL_CODE) == CELL
    assert stacker.places.is_our_cell_code(STATION_CODE) is None
    assert STACKER_TABLE["id"] == stacker.journal.stacker
