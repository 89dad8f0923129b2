"""Recording reads in the replay format, so that a site can tune its gates on its own traffic.

Gate parameters are best tuned on recordings of real crossings at the real door: walk through
with a tagged box both ways, walk past, stop in the doorway, and replay the file with
``archroom replay-gate`` while changing the parameters. This module writes what
``archroom capture READER`` records, in exactly the format replay reads: a CSV file with the
header ``epc,timestamp,antenna,rssi``, one read a row, the timestamp in ISO 8601 UTC (to the
microsecond; epoch seconds on request) and the RSSI empty when the reader reports none.

Formatting is separate from writing: ``format_reads`` turns a batch into text, so a caller in
the event loop can hand one write per batch to a thread.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Literal, TextIO

from drivers.tagread import TagRead

HEADER = ("epc", "timestamp", "antenna", "rssi")
TimestampFormat = Literal["iso", "epoch"]


def format_timestamp(t: float, timestamp: TimestampFormat = "iso") -> str:
    """ISO 8601 UTC to the microsecond (``2024-11-26T05:46:40.123456Z``), or epoch seconds."""
    if timestamp == "epoch":
        return repr(float(t))
    return (
        datetime.fromtimestamp(t, tz=UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
    )


def _row(read: TagRead, timestamp: TimestampFormat) -> tuple[str, str, str, str]:
    rssi = "" if read.rssi is None else repr(float(read.rssi))
    return (read.epc, format_timestamp(read.t, timestamp), str(read.antenna), rssi)


def format_reads(
    reads: Iterable[TagRead], timestamp: TimestampFormat = "iso", *, header: bool = False
) -> str:
    """The CSV text of a batch of reads (with the header line first if ``header``)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if header:
        writer.writerow(HEADER)
    writer.writerows(_row(read, timestamp) for read in reads)
    return buffer.getvalue()


class CaptureWriter:
    """Writes reads to a text stream in the replay format, header first."""

    def __init__(self, stream: TextIO, *, timestamp: TimestampFormat = "iso") -> None:
        self._stream = stream
        self._timestamp: TimestampFormat = timestamp
        self.rows = 0
        """Reads written so far."""
        stream.write(format_reads((), timestamp, header=True))

    def write(self, read: TagRead) -> None:
        self.write_many((read,))

    def write_many(self, reads: Iterable[TagRead]) -> None:
        batch = list(reads)
        if batch:
            self._stream.write(format_reads(batch, self._timestamp))
            self.rows += len(batch)
