"""Catalogue imports as background jobs (daemon/ledger/imports.py, docs/api.md "Bulk import").

The body is spooled to disk, parsed in a worker thread in chunks and loaded on the loop in
batches; ``GET /api/v1/imports/{id}`` tells how far it got. The parser is driven here with
chunks far smaller than the daemon's so that a small file crosses many chunk boundaries.
"""

from __future__ import annotations

import queue
import threading
from pathlib import Path

import httpx
import pytest

from daemon.audit import AuditChain
from daemon.bus import Bus
from daemon.ledger.imports import ImportJob, produce, run_import
from daemon.ledger.items import Catalogue, ImportReport, RowError, parse_rows, validate_row
from daemon.ledger.pairing import Pairing
from daemon.ledger.uow import Ledger
from daemon.outbox import Outbox
from daemon.store.db import Store
from tests.support.poll import eventually
from tests.support.room import Room


def _csv(n: int, *, bad_every: int = 0, repeat: tuple[int, int] | None = None) -> bytes:
    lines = ["ref,title,retention"]
    for i in range(n):
        retention = "D99" if bad_every and i % bad_every == 0 else "D10"
        lines.append(f"B-{i:05d},Box {i},{retention}")
    if repeat is not None:
        lines.append(f"B-{repeat[0]:05d},again,Y")
    return ("\n".join(lines) + "\n").encode()


async def _wait_done(client: httpx.AsyncClient, job_id: str) -> dict[str, object]:
    async def finished() -> dict[str, object] | None:
        body: dict[str, object] = (await client.get(f"/api/v1/imports/{job_id}")).json()
        return body if body["state"] in ("done", "failed") else None

    return await eventually(finished, timeout=30, interval=0.05, what=f"import {job_id} finished")


async def test_an_import_answers_202_and_reports_its_progress_until_done(
    room: Room, staff: httpx.AsyncClient
) -> None:
    data = _csv(3000, bad_every=1000, repeat=(5, 0))
    r = await staff.post("/api/v1/items/import", content=data, headers={"Content-Type": "text/csv"})
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["state"] in ("queued", "running", "done")
    assert r.headers["location"] == f"/api/v1/imports/{job['id']}"
    assert job["bytes_total"] == len(data)
    body = await _wait_done(staff, job["id"])
    assert body["state"] == "done"
    assert body["loaded"] == 2997
    assert body["error_count"] == 4
    assert body["lines_read"] == 3002
    assert body["bytes_read"] == len(data)
    lines = [e["line"] for e in body["errors"]]  # type: ignore[attr-defined]
    assert lines == [2, 1002, 2002, 3002]
    assert "repeats line 7" in body["errors"][3]["error"]  # type: ignore[index]
    assert (await staff.get("/api/v1/items/B-02999")).status_code == 200
    assert list((room.services.config.state_dir / "imports").iterdir()) == []


async def test_a_file_that_is_not_utf8_fails_as_a_whole_and_loads_nothing(
    staff: httpx.AsyncClient,
) -> None:
    data = _csv(10) + b"B-99999,\xff\xfe,D10\n"
    r = await staff.post("/api/v1/items/import", content=data)
    body = await _wait_done(staff, r.json()["id"])
    assert body["state"] == "failed"
    assert "UTF-8" in str(body["detail"])
    assert body["loaded"] == 0
    assert (await staff.get("/api/v1/items/B-00001")).status_code == 404


async def test_an_unknown_import_is_404(staff: httpx.AsyncClient) -> None:
    r = await staff.get("/api/v1/imports/0123456789abcdef")
    assert r.status_code == 404
    assert "restart" in r.json()["detail"]


@pytest.fixture
def catalogue(store: Store) -> Catalogue:
    return Catalogue(Ledger(store, AuditChain("r1"), Outbox(store, site="t", room="r1"), Bus()))


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
async def test_chunked_parsing_reports_what_parsing_the_whole_text_reports(
    catalogue: Catalogue, tmp_path: Path, fmt: str
) -> None:
    if fmt == "csv":
        data = _csv(500, bad_every=97, repeat=(3, 0))
        data += b'B-77777,"a ""quoted""\nmultiline title",Y\n'
    else:
        data = b"\n".join(
            [b'{"ref": "J-%d", "title": "t", "retention": "Y"}' % i for i in range(300)]
            + [b"not json", b"[1]", b'{"ref": "J-5", "title": "t", "retention": "Y"}', b""]
        )
    whole = ImportReport()
    pending = []
    seen: dict[str, int] = {}
    for number, row in parse_rows(data):
        checked = validate_row(number, row, Pairing(), seen.get)
        if isinstance(checked, RowError):
            whole.add_error(checked)
        else:
            seen[checked.ref] = number
            pending.append(number)
    path = tmp_path / "import.part"
    path.write_bytes(data)
    job = ImportJob("0123456789abcdef", "alice", path)
    seen_progress: list[int] = []
    await run_import(
        job,
        catalogue,
        chunk_rows=7,
        scratch_dir=tmp_path,
        on_progress=lambda j: seen_progress.append(j.lines_read),
    )
    assert job.state == "done", job.detail
    assert job.report.loaded == len(pending)
    assert [(e.line, e.error) for e in job.report.errors] == [
        (e.line, e.error) for e in whole.errors
    ]
    assert seen_progress == sorted(seen_progress)
    assert len(seen_progress) > 10
    assert not list(tmp_path.glob("*.refs"))


def test_the_parser_stops_when_asked_while_its_queue_is_full(tmp_path: Path) -> None:
    path = tmp_path / "big.part"
    path.write_bytes(_csv(2000))
    out: queue.Queue[object] = queue.Queue(maxsize=1)
    stop = threading.Event()
    worker = threading.Thread(
        target=produce,
        args=(path, "csv", Pairing(), out, stop),
        kwargs={"chunk_rows": 10, "scratch_dir": tmp_path},
    )
    worker.start()
    out.get(timeout=30)  # the first chunk; the parser now waits on the full queue
    stop.set()
    worker.join(timeout=30)
    assert not worker.is_alive()
    assert not list(tmp_path.glob("*.refs"))
