"""Catalogue imports as background jobs: spooled to disk, parsed off the loop, loaded in batches.

A catalogue transfer can be hundreds of megabytes. Read into memory and parsed on the event
loop, a 200 MB import once took the daemon to 1.6 GB and stalled the loop for seconds, long
enough for a gate reader's LLRP keepalive to go unanswered and its link to be reset. So an
import now goes:

1. to a spool file in the state directory, as it arrives (``Imports.receive``), never whole
   in memory;
2. through a worker thread that decodes, parses and validates it in chunks of rows (the
   CPU-heavy part; the thread yields the GIL every few milliseconds, so the loop keeps its
   pace). Repeated refs are found through a small SQLite table on disk (a scratch file),
   not a dictionary of every ref, so memory stays flat whatever the row count;
3. back to the loop one chunk at a time through a queue of two, where ``Catalogue.load``
   writes it in transactions of 500 rows, each with its audit entry. The queue's bound is the
   back-pressure: the parser never runs more than two chunks ahead of the database.

Progress (bytes and lines read, rows loaded, errors so far, the first 1,000 errors listed) is
on the job while it runs. Jobs run one at a time, in the order they arrived, in a task of the
daemon's own; they live in memory: a restart forgets them and removes their spool files.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import io
import logging
import os
import queue
import secrets
import sqlite3
import tempfile
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from daemon.clock import now_us
from daemon.ledger.errors import NotFound
from daemon.ledger.items import (
    Catalogue,
    ImportReport,
    ItemRecord,
    RowError,
    csv_rows,
    json_lines,
    validate_row,
)
from daemon.ledger.pairing import Pairing

log = logging.getLogger(__name__)

Format = Literal["csv", "jsonl"]
ImportState = Literal["receiving", "queued", "running", "done", "failed"]
CHUNK_ROWS = 2000
LOAD_ROWS = 500
"""Rows written per transaction: the loop's share of a batch (dumping the rows, binding the
statement) runs between awaits, so a smaller batch keeps each stretch short."""
WRITE_BYTES = 1 << 20


@dataclass
class ImportJob:
    id: str
    actor: str
    path: Path
    fmt: Format | None = None
    state: ImportState = "receiving"
    bytes_total: int = 0
    bytes_read: int = 0
    lines_read: int = 0
    report: ImportReport = field(default_factory=ImportReport)
    detail: str = ""
    created_us: int = field(default_factory=now_us)
    finished_us: int | None = None
    finished: asyncio.Event = field(default_factory=asyncio.Event)

    def finish(self, state: ImportState, detail: str = "") -> None:
        self.state = state
        self.detail = detail
        self.finished_us = now_us()
        self.finished.set()


class ImportFailed(Exception):
    """The file as a whole cannot be imported (not UTF-8 text, unreadable)."""


@dataclass(frozen=True, slots=True)
class _Chunk:
    bytes_read: int
    lines_read: int
    records: list[tuple[int, ItemRecord]]
    errors: list[RowError]


_Item = _Chunk | ImportFailed | None


class _Counted(io.FileIO):
    """A file that counts the bytes read from it, under the text decoder's buffers."""

    consumed = 0

    def readinto(self, buffer: bytearray | memoryview) -> int | None:  # type: ignore[override]
        n = super().readinto(buffer)
        self.consumed += n or 0
        return n


def _sniff(path: Path) -> Format:
    with path.open("rb") as f:
        head = f.read(4096).removeprefix(codecs.BOM_UTF8).lstrip()
    return "jsonl" if head.startswith(b"{") else "csv"


def _check_utf8(path: Path, stop: threading.Event) -> None:
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with path.open("rb") as f:
        while block := f.read(WRITE_BYTES):
            if stop.is_set():
                return
            try:
                decoder.decode(block)
            except UnicodeDecodeError as e:
                raise ImportFailed(
                    f"the import must be UTF-8 text (byte {offset + e.start} is not)"
                ) from None
            offset += len(block)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise ImportFailed(
                "the import must be UTF-8 text (it ends inside a character)"
            ) from None


def _put(out: queue.Queue[_Item], stop: threading.Event, item: _Item) -> None:
    while not stop.is_set():
        try:
            out.put(item, timeout=0.2)
        except queue.Full:
            continue
        return


def produce(
    path: Path,
    fmt: Format,
    pairing: Pairing,
    out: queue.Queue[_Item],
    stop: threading.Event,
    *,
    chunk_rows: int = CHUNK_ROWS,
    scratch_dir: Path | None = None,
) -> None:
    """Parse and validate ``path`` in a worker thread, handing chunks to ``out``; ends with
    ``None`` (all read) or an ``ImportFailed``."""
    fd, name = tempfile.mkstemp(prefix="import-", suffix=".refs", dir=scratch_dir)
    os.close(fd)
    refs_path = Path(name)
    seen = sqlite3.connect(refs_path)
    try:
        _check_utf8(path, stop)
        seen.execute("CREATE TABLE seen (ref TEXT PRIMARY KEY, line INTEGER) WITHOUT ROWID")

        def earlier(ref: str) -> int | None:
            row = seen.execute("SELECT line FROM seen WHERE ref = ?", (ref,)).fetchone()
            return None if row is None else int(row[0])

        raw = _Counted(path)
        with io.TextIOWrapper(
            io.BufferedReader(raw), encoding="utf-8-sig", newline="" if fmt == "csv" else "\n"
        ) as text:
            rows = csv_rows(text) if fmt == "csv" else json_lines(text)
            records: list[tuple[int, ItemRecord]] = []
            errors: list[RowError] = []
            last = 0
            for number, row in rows:
                last = number
                checked = validate_row(number, row, pairing, earlier)
                if isinstance(checked, RowError):
                    errors.append(checked)
                else:
                    seen.execute("INSERT INTO seen VALUES (?, ?)", (checked.ref, number))
                    records.append((number, checked))
                if len(records) + len(errors) >= chunk_rows:
                    _put(out, stop, _Chunk(raw.consumed, last, records, errors))
                    records, errors = [], []
                    if stop.is_set():
                        return
            _put(out, stop, _Chunk(raw.consumed, last, records, errors))
        _put(out, stop, None)
    except ImportFailed as e:
        _put(out, stop, e)
    except OSError as e:
        _put(out, stop, ImportFailed(f"the spooled import cannot be read: {e.strerror}"))
    finally:
        seen.close()
        refs_path.unlink(missing_ok=True)


async def run_import(
    job: ImportJob,
    catalogue: Catalogue,
    *,
    chunk_rows: int = CHUNK_ROWS,
    scratch_dir: Path | None = None,
    on_progress: Callable[[ImportJob], None] | None = None,
) -> None:
    """Parse ``job.path`` off the loop and load it here, batch by batch; ``job`` tells how far
    it got. Ends with the job ``done`` or ``failed``."""
    job.state = "running"
    job.bytes_total = (await asyncio.to_thread(job.path.stat)).st_size
    fmt: Format = job.fmt if job.fmt is not None else await asyncio.to_thread(_sniff, job.path)
    out: queue.Queue[_Item] = queue.Queue(maxsize=2)
    stop = threading.Event()
    producer = asyncio.create_task(
        asyncio.to_thread(
            produce,
            job.path,
            fmt,
            catalogue.pairing,
            out,
            stop,
            chunk_rows=chunk_rows,
            scratch_dir=scratch_dir,
        ),
        name=f"import-{job.id}-parser",
    )
    try:
        while True:
            try:
                item = await asyncio.to_thread(out.get, timeout=0.2)
            except queue.Empty:
                if producer.done():
                    producer.result()  # raises what stopped it
                    raise ImportFailed("the import's parser stopped unexpectedly") from None
                continue
            if item is None:
                break
            if isinstance(item, ImportFailed):
                job.finish("failed", str(item))
                return
            for error in item.errors:
                job.report.add_error(error)
            for start in range(0, len(item.records), LOAD_ROWS):
                await catalogue.load(item.records[start : start + LOAD_ROWS], job.report, job.actor)
            job.bytes_read = item.bytes_read
            job.lines_read = item.lines_read
            if on_progress is not None:
                on_progress(job)
        job.finish("done")
    except ImportFailed as e:
        job.finish("failed", str(e))
    except asyncio.CancelledError:
        job.finish("failed", "the daemon stopped before the import was finished")
        raise
    except Exception as e:
        log.exception("import %s failed", job.id)
        job.finish("failed", f"the import failed: {type(e).__name__}")
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await asyncio.shield(producer)


class Imports:
    """The room's import jobs: received into spool files, run one at a time by ``run``."""

    def __init__(self, catalogue: Catalogue, spool_dir: Path, *, keep: int = 100) -> None:
        self.catalogue = catalogue
        self.spool_dir = spool_dir
        self.keep = keep
        self._jobs: OrderedDict[str, ImportJob] = OrderedDict()
        self._queue: asyncio.Queue[ImportJob] = asyncio.Queue()

    def get(self, job_id: str) -> ImportJob:
        job = self._jobs.get(job_id)
        if job is None:
            raise NotFound(f"no import {job_id!r} (imports are forgotten when the daemon restarts)")
        return job

    async def receive(
        self, chunks: AsyncIterator[bytes], *, actor: str, fmt: Format | None
    ) -> ImportJob:
        """Spool a body to disk as it arrives, and queue the job. A body that breaks off
        (the client went away, a size or time limit) leaves no job and no file."""
        await asyncio.to_thread(self.spool_dir.mkdir, parents=True, exist_ok=True)
        job_id = secrets.token_hex(8)
        job = ImportJob(job_id, actor, self.spool_dir / f"{job_id}.part", fmt)
        f = await asyncio.to_thread(job.path.open, "wb")
        try:
            pending: list[bytes] = []
            size = 0
            async for chunk in chunks:
                pending.append(chunk)
                size += len(chunk)
                if size >= WRITE_BYTES:
                    await asyncio.to_thread(f.write, b"".join(pending))
                    job.bytes_total += size
                    pending, size = [], 0
            await asyncio.to_thread(f.write, b"".join(pending))
            job.bytes_total += size
        except BaseException:
            await asyncio.to_thread(f.close)
            await asyncio.to_thread(job.path.unlink, missing_ok=True)
            raise
        await asyncio.to_thread(f.close)
        job.state = "queued"
        self._jobs[job.id] = job
        while len(self._jobs) > self.keep:
            oldest = next(iter(self._jobs.values()))
            if not oldest.finished.is_set():
                break
            self._jobs.popitem(last=False)
        self._queue.put_nowait(job)
        return job

    async def run(self) -> None:
        """Run queued jobs one after the other (a supervised task of the daemon)."""
        await asyncio.to_thread(self._remove_leftovers)
        while True:
            job = await self._queue.get()
            try:
                await run_import(job, self.catalogue, scratch_dir=self.spool_dir)
            finally:
                await asyncio.to_thread(job.path.unlink, missing_ok=True)

    def _remove_leftovers(self) -> None:
        if not self.spool_dir.is_dir():
            return
        queued = {j.path.name for j in self._jobs.values()}
        for path in self.spool_dir.iterdir():
            if path.name.split(".")[0] + ".part" not in queued:
                path.unlink(missing_ok=True)
