"""Climate control of one room: which actuators to switch, decided from the room's readings.

The standard asks for a stack kept within its limits (sensors/limits.py), not only watched.
A room may have four kinds of actuator, each an on/off output (a relay, or a run command to
the air handler): a dehumidifier, a humidifier, cooling and heating. This controller is the
pure part: fed the room's judged values and a clock, it returns the switches to make and the
alarms to raise; carrying them out (Modbus writes, audit, MQTT, metrics) belongs to a service.

How it decides, and why:

- **Inside the limits, with a deadband.** An actuator switches on before its limit is
  reached (``margin`` inside it) and off once the value is back ``deadband`` further in, so a
  value hovering near a threshold does not chatter the relay. Both shrink to a quarter of a
  narrow band (the film vault's 13-15 °C) so heating and cooling never overlap.
- **Minimum on and off times.** Compressors and humidifier elements are worn by short cycles;
  once switched, an actuator keeps its state ``min_on_s`` / ``min_off_s`` unless safety or a
  person says otherwise.
- **Interlocks.** Never humidify and dehumidify at once, never heat and cool at once: when
  both of a pair would run, the one asked last wins and the other is switched off.
- **No action on stale readings.** Without a judged value newer than ``stale_after_s`` nothing
  is switched on, and what runs is switched off (after its minimum on time): running blind is
  how a humidifier floods a room.
- **Condensation guard.** When the room's air is within ``condensation_margin_c`` of its dew
  point, cooling (cold coils, cold walls) and humidifying would wet the files: neither runs.
- **Manual override with expiry.** A person may force an actuator on or off until a time;
  the override beats the deadband, minimum times, stale readings and the condensation guard
  (they are the person's call), but not the interlock: forcing the humidifier on switches the
  dehumidifier off. When it expires, automatic control resumes.
- **Feedback.** An actuator that has run ``feedback_after_s`` without moving its quantity by
  ``feedback_min_change`` in its direction (a dehumidifier with a full tank, a heater whose
  breaker tripped) raises "control not effective"; it clears when the value moves or the
  actuator stops.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from sensors.limits import ClimateLimits

ActuatorKind = Literal["dehumidifier", "humidifier", "cooling", "heating"]
OPPOSITE: dict[ActuatorKind, ActuatorKind] = {
    "dehumidifier": "humidifier",
    "humidifier": "dehumidifier",
    "cooling": "heating",
    "heating": "cooling",
}
_QUANTITY: dict[ActuatorKind, Literal["temperature", "humidity"]] = {
    "dehumidifier": "humidity",
    "humidifier": "humidity",
    "cooling": "temperature",
    "heating": "temperature",
}
_LOWERS: frozenset[ActuatorKind] = frozenset({"dehumidifier", "cooling"})


@dataclass(frozen=True, slots=True)
class ControlSettings:
    temp_margin_c: float = 1.0
    """Switch cooling/heating on this far inside the temperature limit."""
    temp_deadband_c: float = 1.0
    """... and off again this much further in."""
    rh_margin_pct: float = 2.0
    rh_deadband_pct: float = 3.0
    min_on_s: float = 300.0
    min_off_s: float = 300.0
    stale_after_s: float = 120.0
    condensation_margin_c: float = 2.0
    """No cooling or humidifying while the air is less than this above its dew point."""
    feedback_after_s: float = 1800.0
    feedback_min_temp_c: float = 0.3
    feedback_min_rh_pct: float = 1.0


@dataclass(frozen=True, slots=True)
class Actuator:
    id: str
    kind: ActuatorKind


@dataclass(frozen=True, slots=True)
class RoomClimate:
    """What the controller judges: the room's (smoothed) values and when they were read."""

    t: float | None
    temperature_c: float | None
    humidity_pct: float | None
    dew_point_c: float | None


@dataclass(frozen=True, slots=True)
class Switch:
    actuator: str
    kind: ActuatorKind
    on: bool
    t: float
    reason: str
    by: str = "archroom"
    """Who switched: ``archroom`` for automatic control, a user name for an override."""


@dataclass(frozen=True, slots=True)
class Ineffective:
    """Raise (``active``) or clear the "control not effective" alarm of one actuator."""

    actuator: str
    kind: ActuatorKind
    active: bool
    t: float
    message: str


Decision = Switch | Ineffective


@dataclass(frozen=True, slots=True)
class Override:
    on: bool
    until: float
    by: str


@dataclass(slots=True)
class _State:
    actuator: Actuator
    on: bool = False
    since: float = float("-inf")
    started_value: float | None = None
    ineffective: bool = False
    override: Override | None = None


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Where an actuator switches on and off (in its quantity's unit)."""

    on_at: float
    off_at: float


def thresholds(kind: ActuatorKind, limits: ClimateLimits, s: ControlSettings) -> Thresholds:
    if _QUANTITY[kind] == "temperature":
        low, high = limits.temp_min_c, limits.temp_max_c
        margin, deadband = s.temp_margin_c, s.temp_deadband_c
    else:
        low, high = limits.rh_min_pct, limits.rh_max_pct
        margin, deadband = s.rh_margin_pct, s.rh_deadband_pct
    quarter = (high - low) / 4
    margin, deadband = min(margin, quarter), min(deadband, quarter)
    if kind in _LOWERS:
        return Thresholds(on_at=high - margin, off_at=high - margin - deadband)
    return Thresholds(on_at=low + margin, off_at=low + margin + deadband)


@dataclass
class RoomController:
    """The actuators of one room and the decisions about them."""

    room: str
    limits: ClimateLimits
    actuators: Sequence[Actuator]
    settings: ControlSettings = field(default_factory=ControlSettings)

    def __post_init__(self) -> None:
        self._states = {a.id: _State(a) for a in self.actuators}
        if len(self._states) != len(self.actuators):
            raise ValueError(f"room {self.room}: actuator ids repeat")

    def is_on(self, actuator: str) -> bool:
        return self._states[actuator].on

    def override(self, actuator: str, *, on: bool, until: float, by: str, now: float) -> None:
        """Force ``actuator`` on or off until ``until``; the next ``step`` carries it out."""
        if actuator not in self._states:
            raise KeyError(f"room {self.room} has no actuator {actuator!r}")
        if until <= now:
            raise ValueError("an override must end in the future")
        self._states[actuator].override = Override(on, until, by)

    def cancel_override(self, actuator: str) -> None:
        self._states[actuator].override = None

    def overrides(self) -> dict[str, Override]:
        return {i: s.override for i, s in self._states.items() if s.override is not None}

    def step(self, climate: RoomClimate, now: float) -> list[Decision]:
        """The switches and alarms due at ``now`` given the room's latest judged climate."""
        decisions: list[Decision] = []
        fresh = climate.t is not None and now - climate.t <= self.settings.stale_after_s
        wanted: dict[str, tuple[bool, str, str]] = {}  # id -> (on, reason, by)
        for state in self._states.values():
            if state.override is not None and state.override.until <= now:
                state.override = None
            wanted[state.actuator.id] = self._want(state, climate, fresh, now)
        self._interlock(wanted)
        for state in self._states.values():
            on, reason, by = wanted[state.actuator.id]
            if on != state.on:
                state.on, state.since = on, now
                state.started_value = self._value(state.actuator.kind, climate) if on else None
                a = state.actuator
                decisions.append(Switch(a.id, a.kind, on, now, reason, by))
            decisions += self._feedback(state, climate, now)
        return decisions

    # -- deciding ------------------------------------------------------------------------------

    def _want(
        self, state: _State, climate: RoomClimate, fresh: bool, now: float
    ) -> tuple[bool, str, str]:
        kind = state.actuator.kind
        if state.override is not None:
            o = state.override
            return o.on, f"manual override until {o.until:.0f}", o.by
        held = now - state.since < (self.settings.min_on_s if state.on else self.settings.min_off_s)
        if not fresh:
            if state.on and not held:
                return False, "no current reading", "archroom"
            return state.on, "no current reading", "archroom"
        if kind in ("cooling", "humidifier") and self._near_dew_point(climate):
            if state.on:
                return False, "condensation guard: the air is close to its dew point", "archroom"
            return False, "condensation guard", "archroom"
        if held:
            return state.on, "minimum on/off time", "archroom"
        value = self._value(kind, climate)
        if value is None:
            return state.on, "no value", "archroom"
        th = thresholds(kind, self.limits, self.settings)
        lowers = kind in _LOWERS
        if not state.on and (value >= th.on_at if lowers else value <= th.on_at):
            return True, f"{_QUANTITY[kind]} {value:.1f} reached {th.on_at:g}", "archroom"
        if state.on and (value <= th.off_at if lowers else value >= th.off_at):
            return False, f"{_QUANTITY[kind]} {value:.1f} back to {th.off_at:g}", "archroom"
        return state.on, "within the deadband", "archroom"

    def _interlock(self, wanted: dict[str, tuple[bool, str, str]]) -> None:
        """Of two opposite actuators wanted on together, an override or the one that was
        not running already wins (it is the newer need); the other is switched off."""
        for kind, opposite in (("humidifier", "dehumidifier"), ("heating", "cooling")):
            mine = [s for s in self._states.values() if s.actuator.kind == kind]
            theirs = [s for s in self._states.values() if s.actuator.kind == opposite]
            on_mine = [s for s in mine if wanted[s.actuator.id][0]]
            on_theirs = [s for s in theirs if wanted[s.actuator.id][0]]
            if not on_mine or not on_theirs:
                continue
            mine_wins = any(s.override is not None for s in on_mine) or (
                not any(s.override is not None for s in on_theirs)
                and not all(s.on for s in on_mine)
            )
            losers = on_theirs if mine_wins else on_mine
            for s in losers:
                wanted[s.actuator.id] = (
                    False,
                    f"interlock: never {kind} and {opposite} at once",
                    "archroom",
                )

    def _near_dew_point(self, climate: RoomClimate) -> bool:
        if climate.temperature_c is None or climate.dew_point_c is None:
            return False
        return climate.temperature_c - climate.dew_point_c < self.settings.condensation_margin_c

    @staticmethod
    def _value(kind: ActuatorKind, climate: RoomClimate) -> float | None:
        return climate.temperature_c if _QUANTITY[kind] == "temperature" else climate.humidity_pct

    def _feedback(self, state: _State, climate: RoomClimate, now: float) -> list[Decision]:
        a = state.actuator
        if not state.on:
            if state.ineffective:
                state.ineffective = False
                return [Ineffective(a.id, a.kind, False, now, f"{a.id} is off")]
            return []
        value = self._value(a.kind, climate)
        if value is None or state.started_value is None:
            if value is not None:
                state.started_value = value
            return []
        moved = state.started_value - value if a.kind in _LOWERS else value - state.started_value
        needed = (
            self.settings.feedback_min_temp_c
            if _QUANTITY[a.kind] == "temperature"
            else self.settings.feedback_min_rh_pct
        )
        if state.ineffective and moved >= needed:
            state.ineffective = False
            return [Ineffective(a.id, a.kind, False, now, f"{a.id}: {_QUANTITY[a.kind]} moves")]
        if (
            not state.ineffective
            and now - state.since >= self.settings.feedback_after_s
            and moved < needed
        ):
            state.ineffective = True
            minutes = (now - state.since) / 60
            return [
                Ineffective(
                    a.id,
                    a.kind,
                    True,
                    now,
                    f"{a.id} ({a.kind}) has run {minutes:.0f} min and the room's "
                    f"{_QUANTITY[a.kind]} moved {moved:+.1f} (needs {needed:g})",
                )
            ]
        return []
