"""Reader signal strength in one unit: dBm.

Readers report a tag's strength in their own scale. LLRP readers (Impinj and others) give dBm;
the UHFReader288 dialect of the serial family gives a raw byte, 0-255; Alien-style readers give
a linear magnitude (hundreds to thousands). The engines compare strengths in decibels (a
difference of 6 dB is the same evidence wherever it lies on the scale), so each reader's
configuration names its unit (``rssi_unit``) and the reads are converted here.

Only differences matter to the engines, so the offsets below are conventions that put values
in a familiar range, not calibrations:

- ``dbm``: as reported;
- ``linear``: an amplitude, so 20 log10(value) dB (a value twice as large is 6 dB stronger),
  shifted by -124 dB (a magnitude of 500 reads as about -70 dBm); zero or negative values carry
  no strength;
- ``raw``: a byte where one step is taken as 1 dB, shifted by -128 (255 reads as -1 dBm, 0 as
  -128 dBm). A reader whose steps are another size is tuned with the gate's ``rssi_doubling``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal, get_args

RssiUnit = Literal["dbm", "linear", "raw"]
RSSI_UNITS: tuple[str, ...] = get_args(RssiUnit)

LINEAR_OFFSET_DB = -124.0
"""dBm of a linear magnitude of 1 (so 500 is about -70 dBm, 4,000 about -52 dBm)."""
RAW_OFFSET_DB = -128.0
"""dBm of a raw reading of 0."""


def _linear(value: float) -> float | None:
    if not value > 0.0 or not math.isfinite(value):
        return None
    return 20.0 * math.log10(value) + LINEAR_OFFSET_DB


def _raw(value: float) -> float | None:
    if not math.isfinite(value):
        return None
    return value + RAW_OFFSET_DB


def _dbm(value: float) -> float | None:
    return value if math.isfinite(value) else None


_CONVERTERS: dict[str, Callable[[float], float | None]] = {
    "dbm": _dbm,
    "linear": _linear,
    "raw": _raw,
}


def converter(unit: str) -> Callable[[float], float | None]:
    """The function that turns a reading in ``unit`` into dBm (None: the reading carries no
    strength, e.g. a linear magnitude of 0). ValueError for an unknown unit."""
    try:
        return _CONVERTERS[unit]
    except KeyError:
        raise ValueError(f"unknown RSSI unit {unit!r} (one of: {', '.join(RSSI_UNITS)})") from None


def to_dbm(value: float, unit: str) -> float | None:
    """One reading in ``unit`` as dBm (None if it carries no strength)."""
    return converter(unit)(value)
