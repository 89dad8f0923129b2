"""The one thing every reader driver yields: a tag was read on an antenna at a moment."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class TagRead:
    reader: str
    """Reader id from the configuration."""
    antenna: int
    """Antenna port, 1-based as printed on the reader."""
    epc: str
    """EPC as upper-case hex, no separators."""
    rssi: float | None
    """Signal strength, larger is stronger (dBm for LLRP, the reader's own scale otherwise)."""
    t: float
    """Wall-clock time of the read, seconds since the epoch."""


class ReadSink(Protocol):
    """Where a reader service delivers what it sees. Called from the event loop; must not block."""

    def reads(self, batch: Sequence[TagRead]) -> None:
        """A batch of reads (one inventory round, one RO_ACCESS_REPORT)."""

    def link_state(self, reader: str, up: bool, reason: str) -> None:
        """The link to ``reader`` came up (``up``) or went down, with a reason in words."""

    def round_done(self, reader: str, antenna: int, t: float) -> None:
        """One inventory round of ``antenna`` finished, whether or not it saw tags.

        The shelf engine counts sweeps with it: a tag is missing only after rounds that ran.
        """
