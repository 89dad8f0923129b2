"""``archroom capture READER``: record a reader's live reads for ``archroom replay-gate``.

Gates are tuned on recordings of real crossings at the real door. The reader is driven by the
same driver as in the daemon, so the recording is what the gate engine would have seen; stop
the daemon first if the reader accepts only one connection (LLRP readers do).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from daemon.config import ArchroomConfig
from drivers.tagread import TagRead
from rfid.capture import CaptureWriter
from rfid.config import ReaderConfig
from rfid.service.readers import make_driver


class _CaptureSink:
    def __init__(self, writer: CaptureWriter, stream: TextIO) -> None:
        self.writer = writer
        self.stream = stream

    def reads(self, batch: Sequence[TagRead]) -> None:
        self.writer.write_many(batch)
        self.stream.flush()

    def round_done(self, reader: str, antenna: int, t: float) -> None:
        del reader, antenna, t

    def link_state(self, reader: str, up: bool, reason: str) -> None:
        print(f"{reader}: {'up' if up else 'down'} ({reason})", file=sys.stderr, flush=True)


async def capture(
    config: ArchroomConfig,
    reader: ReaderConfig,
    output: str,
    *,
    duration: float | None,
    epoch: bool,
) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    stream: TextIO = sys.stdout if output == "-" else Path(output).open("w", encoding="utf-8")  # noqa: ASYNC230, SIM115
    try:
        writer = CaptureWriter(stream, timestamp="epoch" if epoch else "iso")
        driver = make_driver(reader, config)
        task = asyncio.create_task(driver.run(_CaptureSink(writer, stream)))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), duration)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        print(f"captured {writer.rows} reads", file=sys.stderr)
        return 0
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        if stream is not sys.stdout:
            stream.close()
