"""Archival storage limits per room class (JGJ 25-2010 §5.2), merged with per-room overrides.

The code for archive buildings sets the climate of a stack by what it holds: paper 14-24 °C at
45-60 % RH; special collections (rare, fragile) 14-20 °C at 45-55 %; audio/video and film
copies 14-24 °C at 40-60 %; film masters, the coldest and driest, 13-15 °C at 35-45 %. Beyond
the ranges it limits how much the climate may move within a day (§5.2.3): ±2 °C and ±5 % RH.
This module reads that as "the highest and lowest value of the last 24 h may differ by at most
2 °C and 5 % RH"; a room that wants the looser reading (a 4 °C band) overrides the swing.

Alarms need two more numbers per quantity: a hysteresis (how far back inside the limit a value
must come before an alarm clears, so a value sitting on the limit does not flap) and a minimum
duration (how long a condition must last before it counts: opening a door for a minute is not
an excursion).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sensors.config import ROOM_CLASSES, LimitsOverride


@dataclass(frozen=True, slots=True)
class ClimateLimits:
    temp_min_c: float
    temp_max_c: float
    rh_min_pct: float
    rh_max_pct: float
    temp_swing_c: float = 2.0
    """Largest allowed max-min of temperature over 24 h."""
    rh_swing_pct: float = 5.0
    """Largest allowed max-min of relative humidity over 24 h."""
    temp_hysteresis_c: float = 0.5
    rh_hysteresis_pct: float = 2.0
    min_duration_s: float = 600.0

    def __post_init__(self) -> None:
        if self.temp_min_c >= self.temp_max_c:
            raise ValueError(
                f"temperature limits {self.temp_min_c:g}..{self.temp_max_c:g} °C are empty"
            )
        if self.rh_min_pct >= self.rh_max_pct:
            raise ValueError(
                f"humidity limits {self.rh_min_pct:g}..{self.rh_max_pct:g} % are empty"
            )


CLASS_LIMITS: dict[str, ClimateLimits] = {
    "paper": ClimateLimits(14.0, 24.0, 45.0, 60.0),
    "special": ClimateLimits(14.0, 20.0, 45.0, 55.0),
    "av": ClimateLimits(14.0, 24.0, 40.0, 60.0),
    "film-copy": ClimateLimits(14.0, 24.0, 40.0, 60.0),
    "film-master": ClimateLimits(13.0, 15.0, 35.0, 45.0),
}
assert set(CLASS_LIMITS) == set(ROOM_CLASSES)


def limits_for(room_class: str, override: LimitsOverride | None = None) -> ClimateLimits:
    """The class limits with the room's overrides applied.

    Raises ValueError for an unknown class or when the overrides leave an empty range.
    """
    try:
        base = CLASS_LIMITS[room_class]
    except KeyError:
        known = ", ".join(ROOM_CLASSES)
        raise ValueError(f"unknown room class {room_class!r} (one of: {known})") from None
    if override is None:
        return base
    changes = {k: v for k, v in override.model_dump().items() if v is not None}
    return replace(base, **changes)
