"""The one thing every reader driver yields: a tag was read on an antenna at a moment."""

from __future__ import annotations

from dataclasses import dataclass


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
