"""When a climate alarm is raised and when it clears: once each, never flapping.

A room's climate sits near its limits for long stretches, and sensors are noisy, so a naive
"value > limit" alarm would toggle with every reading. Three things prevent that:

- the value judged is the mean of the last few minutes (``smoothing_s``), not one reading;
- a condition must hold *without interruption* for ``min_duration_s`` before it is raised, and
  its end must hold as long before it clears;
- the alarm clears only once the value is back inside the limit by the hysteresis margin
  (RH 60 % raises above 60, clears at 58 or below); in between nothing changes.

Each condition is a ``Threshold`` (pure, fed times and values); ``ClimateAlarms`` runs the
conditions of one room or one sensor: the four limits, the 24 h fluctuation of temperature and
humidity, and mould risk (RH ≥ 65 % between 2 and 45 °C). The evaluator only decides; the
daemon records, acknowledges and publishes the ``AlarmChange`` values it returns.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from enum import Enum
from typing import Literal

from sensors.derived import MOULD_RH_PCT, MOULD_T_MAX_C, MOULD_T_MIN_C
from sensors.fluctuation import RollingRange
from sensors.limits import ClimateLimits

AlarmKind = Literal[
    "temperature-high",
    "temperature-low",
    "humidity-high",
    "humidity-low",
    "temperature-fluctuation",
    "humidity-fluctuation",
    "mould-risk",
    "sensor-fault",
]
Severity = Literal["warning", "critical"]
Action = Literal["raise", "clear"]


@dataclass(frozen=True, slots=True)
class AlarmChange:
    action: Action
    kind: AlarmKind
    source: str
    """The room id for room alarms, the sensor id for sensor alarms."""
    room: str
    severity: Severity
    t: float
    message: str
    value: float | None = None
    """The judged value when the decision was made (smoothed value, 24 h spread, ...)."""
    limit: float | None = None


class _State(Enum):
    IDLE = 0
    ARMING = 1
    ACTIVE = 2
    DISARMING = 3


class Threshold:
    """One alarm condition with hysteresis and a minimum duration."""

    def __init__(
        self,
        *,
        limit: float,
        above: bool,
        hysteresis: float,
        min_duration_s: float,
        inclusive: bool = False,
    ) -> None:
        if hysteresis < 0 or min_duration_s < 0:
            raise ValueError("hysteresis and minimum duration cannot be negative")
        self.limit = limit
        self.above = above
        self.hysteresis = hysteresis
        self.min_duration_s = min_duration_s
        self.inclusive = inclusive
        self._state = _State.IDLE
        self._since = 0.0

    @property
    def active(self) -> bool:
        return self._state in (_State.ACTIVE, _State.DISARMING)

    def beyond(self, value: float) -> bool:
        if self.above:
            return value >= self.limit if self.inclusive else value > self.limit
        return value <= self.limit if self.inclusive else value < self.limit

    def back(self, value: float) -> bool:
        """Inside the limit by at least the hysteresis margin."""
        if self.above:
            edge = self.limit - self.hysteresis
            return value < edge if self.inclusive else value <= edge
        edge = self.limit + self.hysteresis
        return value > edge if self.inclusive else value >= edge

    def update(self, t: float, value: float) -> Action | None:
        """Feed one value; returns "raise" or "clear" exactly when the alarm changes."""
        state = self._state
        if state is _State.IDLE:
            if self.beyond(value):
                self._state, self._since = _State.ARMING, t
                return self._settle(t)
        elif state is _State.ARMING:
            if not self.beyond(value):
                self._state = _State.IDLE
            else:
                return self._settle(t)
        elif state is _State.ACTIVE:
            if self.back(value):
                self._state, self._since = _State.DISARMING, t
                return self._settle(t)
        elif not self.back(value):
            self._state = _State.ACTIVE
        else:
            return self._settle(t)
        return None

    def _settle(self, t: float) -> Action | None:
        if t - self._since < self.min_duration_s:
            return None
        if self._state is _State.ARMING:
            self._state = _State.ACTIVE
            return "raise"
        self._state = _State.IDLE
        return "clear"


class MovingMean:
    """Mean of the values of the last ``window_s`` seconds (the newest value alone if 0)."""

    def __init__(self, window_s: float) -> None:
        self._window_s = window_s
        self._values: deque[tuple[float, float]] = deque()

    def add(self, t: float, value: float) -> float:
        values = self._values
        values.append((t, value))
        while len(values) > 1 and values[0][0] <= t - self._window_s:
            values.popleft()
        return math.fsum(v for _, v in values) / len(values)


@dataclass(frozen=True, slots=True)
class _Condition:
    kind: AlarmKind
    severity: Severity
    quantity: Literal["temperature", "humidity", "temperature-spread", "humidity-spread", "mould"]
    threshold: Threshold


class ClimateAlarms:
    """The climate alarms of one source (a room, or one sensor), judged on its readings."""

    def __init__(
        self, source: str, room: str, limits: ClimateLimits, *, smoothing_s: float = 300.0
    ) -> None:
        self.source = source
        self.room = room
        self.limits = limits
        d = limits.min_duration_s
        th, rh = limits.temp_hysteresis_c, limits.rh_hysteresis_pct
        self._conditions = (
            _Condition("temperature-high", "warning", "temperature",
                       Threshold(limit=limits.temp_max_c, above=True, hysteresis=th,
                                 min_duration_s=d)),
            _Condition("temperature-low", "warning", "temperature",
                       Threshold(limit=limits.temp_min_c, above=False, hysteresis=th,
                                 min_duration_s=d)),
            _Condition("humidity-high", "warning", "humidity",
                       Threshold(limit=limits.rh_max_pct, above=True, hysteresis=rh,
                                 min_duration_s=d)),
            _Condition("humidity-low", "warning", "humidity",
                       Threshold(limit=limits.rh_min_pct, above=False, hysteresis=rh,
                                 min_duration_s=d)),
            _Condition("temperature-fluctuation", "warning", "temperature-spread",
                       Threshold(limit=limits.temp_swing_c, above=True,
                                 hysteresis=min(th, limits.temp_swing_c / 4), min_duration_s=d)),
            _Condition("humidity-fluctuation", "warning", "humidity-spread",
                       Threshold(limit=limits.rh_swing_pct, above=True,
                                 hysteresis=min(rh, limits.rh_swing_pct / 4), min_duration_s=d)),
            _Condition("mould-risk", "critical", "mould",
                       Threshold(limit=MOULD_RH_PCT, above=True, hysteresis=rh,
                                 min_duration_s=d, inclusive=True)),
        )  # fmt: skip
        self._temperature = MovingMean(smoothing_s)
        self._humidity = MovingMean(smoothing_s)
        self._temperature_range = RollingRange()
        self._humidity_range = RollingRange()
        self._smoothed: tuple[float, float] | None = None

    def smoothed(self) -> tuple[float, float] | None:
        """(temperature, humidity) as last judged: the means over ``smoothing_s``."""
        return self._smoothed

    def active(self) -> tuple[AlarmKind, ...]:
        return tuple(c.kind for c in self._conditions if c.threshold.active)

    def spreads(self, t: float) -> tuple[float | None, float | None]:
        """(temperature, humidity) max - min over the 24 h before ``t``, of smoothed values."""
        return self._temperature_range.spread(t), self._humidity_range.spread(t)

    def observe(self, t: float, temperature_c: float, humidity_pct: float) -> list[AlarmChange]:
        temperature = self._temperature.add(t, temperature_c)
        humidity = self._humidity.add(t, humidity_pct)
        self._smoothed = (temperature, humidity)
        self._temperature_range.add(t, temperature)
        self._humidity_range.add(t, humidity)
        t_spread, h_spread = self.spreads(t)
        mould = humidity if MOULD_T_MIN_C <= temperature <= MOULD_T_MAX_C else 0.0
        values = {
            "temperature": temperature,
            "humidity": humidity,
            "temperature-spread": t_spread or 0.0,
            "humidity-spread": h_spread or 0.0,
            "mould": mould,
        }
        changes: list[AlarmChange] = []
        for c in self._conditions:
            value = values[c.quantity]
            action = c.threshold.update(t, value)
            if action is not None:
                changes.append(
                    AlarmChange(
                        action=action,
                        kind=c.kind,
                        source=self.source,
                        room=self.room,
                        severity=c.severity,
                        t=t,
                        message=_message(action, c, value, self.source),
                        value=round(value, 3),
                        limit=c.threshold.limit,
                    )
                )
        return changes


_WORDS: dict[AlarmKind, tuple[str, str]] = {
    "temperature-high": (
        "temperature {v:.1f} °C above {lim:g} °C",
        "temperature back at {v:.1f} °C",
    ),
    "temperature-low": (
        "temperature {v:.1f} °C below {lim:g} °C",
        "temperature back at {v:.1f} °C",
    ),
    "humidity-high": ("humidity {v:.1f} % above {lim:g} %", "humidity back at {v:.1f} %"),
    "humidity-low": ("humidity {v:.1f} % below {lim:g} %", "humidity back at {v:.1f} %"),
    "temperature-fluctuation": (
        "temperature moved {v:.1f} °C within 24 h (limit {lim:g} °C)",
        "temperature steady again ({v:.1f} °C within 24 h)",
    ),
    "humidity-fluctuation": (
        "humidity moved {v:.1f} % within 24 h (limit {lim:g} %)",
        "humidity steady again ({v:.1f} % within 24 h)",
    ),
    "mould-risk": ("mould risk: humidity {v:.1f} % at or above {lim:g} %", "mould risk over"),
    "sensor-fault": ("sensor fault", "sensor answering again"),
}


def _message(action: Action, c: _Condition, value: float, source: str) -> str:
    raised, cleared = _WORDS[c.kind]
    text = raised if action == "raise" else cleared
    return f"{source}: " + text.format(v=value, lim=c.threshold.limit)


def sensor_fault(sensor: str, room: str, up: bool, reason: str, t: float) -> AlarmChange:
    """The sensor-fault decision for an up/down edge of a sensor (the edge is already debounced)."""
    return AlarmChange(
        action="clear" if up else "raise",
        kind="sensor-fault",
        source=sensor,
        room=room,
        severity="warning",
        t=t,
        message=f"{sensor}: " + (_answering(reason) if up else reason),
    )


def _answering(reason: str) -> str:
    return "sensor answering again" + ("" if reason == "answering" else f" ({reason})")
