"""The alert rules for archroom, written once and rendered for Prometheus and for Grafana.

Each rule is a *signal* (a PromQL query that returns a value per room, reader, sensor...) and a
*condition* on it (above or below a threshold, held for a while). Prometheus gets
``signal > threshold`` with ``for:``; Grafana alerting gets the signal as query A, a reduction
and a threshold expression, which is how its provisioning files express the same thing.
Keeping the signal apart has a second use: the signal must return data on a healthy room (a
rule whose signal is empty can never fire), and tests/test_prometheus.py asks a real
Prometheus scraping the demo for exactly that.

Why these rules (docs/monitoring.md has the table):

- Climate: the daemon alarms on its own judgement (smoothed, with hysteresis, the limits of
  docs/design.md §5.2); these rules watch the same limits from the outside, on the per-room
  limit gauges, so a daemon that stopped judging, or one whose alarms nobody reads, is still
  noticed. "Out of limits" is the room mean beyond the room's own min/max for 15 minutes; the 24
  h swing is compared with the room's allowed swing (JGJ 25-2010 §5.2.3: ±2 °C, ±5 % RH); mould
  risk is RH above 65 % at 2-45 °C (the daemon's mould-risk condition, sensors/alarms.py) for
  half an hour. Climate control (docs/climate.md) judges its own actuators' effect over its
  feedback time, so "control not effective" fires as soon as the daemon's alarm is up; an
  actuator that cannot be switched is reported after 5 minutes of retries.
- Readers, gates, stacker and outbox: what stops the room working (a reader or the PLC link
  down) or what must reach a person at once (an unauthorized removal).

Series without a ``room`` label of their own are joined with ``archroom_build_info`` so that
every alert names the room.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sensors.derived import MOULD_RH_PCT, MOULD_T_MAX_C, MOULD_T_MIN_C

IN_ROOM = " * on (instance, job) group_left (room) archroom_build_info"
"""Appended to a per-target query: gives each series the room its daemon owns."""


@dataclass(frozen=True, slots=True)
class Rule:
    alert: str
    uid: str
    """Grafana's rule uid (at most 40 characters)."""
    signal: str
    op: Literal[">", "<"]
    threshold: float
    hold: str
    """How long the condition must hold (Prometheus ``for``), e.g. ``15m``; ``0m`` fires at once."""
    severity: Literal["critical", "warning"]
    summary: str
    description: str

    @property
    def expr(self) -> str:
        return f"({self.signal}) {self.op} {self.threshold:g}"


@dataclass(frozen=True, slots=True)
class Group:
    name: str
    interval: str
    rules: tuple[Rule, ...]


def _room_mean(metric: str) -> str:
    return f"avg by (room) ({metric})"


def _beyond(metric: str, limit: str, bound: Literal["min", "max"], scale: str = "") -> str:
    """How far the room mean of ``metric`` is beyond the room's ``bound`` (positive = beyond)."""
    mean = _room_mean(metric)
    limit_sel = f'{limit}{{bound="{bound}"}}'
    difference = (
        f"{mean} - on (room) {limit_sel}" if bound == "max" else f"{limit_sel} - on (room) {mean}"
    )
    return f"({difference}){scale}" if scale else difference


def _over_swing(swing: str, limit: str, scale: str = "") -> str:
    difference = f'{swing} - on (room) {limit}{{bound="swing"}}'
    return f"({difference}){scale}" if scale else difference


T = "archroom_climate_temperature_celsius"
T_LIMIT = "archroom_climate_temperature_limit_celsius"
RH = "archroom_climate_humidity_ratio"
RH_LIMIT = "archroom_climate_humidity_limit_ratio"

CLIMATE = Group(
    "archroom-climate",
    "1m",
    (
        Rule(
            "ArchroomTemperatureAboveLimit",
            "archroom-temperature-above-limit",
            _beyond(T, T_LIMIT, "max"),
            ">",
            0,
            "15m",
            "warning",
            "{{ $labels.room }}: temperature above the room's maximum",
            'The room mean has been {{ $value | printf "%.1f" }} °C above the room\'s maximum'
            " for 15 minutes.",
        ),
        Rule(
            "ArchroomTemperatureBelowLimit",
            "archroom-temperature-below-limit",
            _beyond(T, T_LIMIT, "min"),
            ">",
            0,
            "15m",
            "warning",
            "{{ $labels.room }}: temperature below the room's minimum",
            'The room mean has been {{ $value | printf "%.1f" }} °C below the room\'s minimum'
            " for 15 minutes.",
        ),
        Rule(
            "ArchroomHumidityAboveLimit",
            "archroom-humidity-above-limit",
            _beyond(RH, RH_LIMIT, "max", " * 100"),
            ">",
            0,
            "15m",
            "warning",
            "{{ $labels.room }}: relative humidity above the room's maximum",
            'The room mean has been {{ $value | printf "%.1f" }} % RH above the room\'s maximum'
            " for 15 minutes.",
        ),
        Rule(
            "ArchroomHumidityBelowLimit",
            "archroom-humidity-below-limit",
            _beyond(RH, RH_LIMIT, "min", " * 100"),
            ">",
            0,
            "15m",
            "warning",
            "{{ $labels.room }}: relative humidity below the room's minimum",
            'The room mean has been {{ $value | printf "%.1f" }} % RH below the room\'s minimum'
            " for 15 minutes.",
        ),
        Rule(
            "ArchroomTemperatureSwing",
            "archroom-temperature-swing",
            _over_swing("archroom_climate_temperature_swing_celsius", T_LIMIT),
            ">",
            0,
            "10m",
            "warning",
            "{{ $labels.room }}: temperature moved more than allowed within 24 h",
            "Highest minus lowest temperature of the last 24 h exceeds the room's allowed swing"
            ' by {{ $value | printf "%.1f" }} °C.',
        ),
        Rule(
            "ArchroomHumiditySwing",
            "archroom-humidity-swing",
            _over_swing("archroom_climate_humidity_swing_ratio", RH_LIMIT, " * 100"),
            ">",
            0,
            "10m",
            "warning",
            "{{ $labels.room }}: relative humidity moved more than allowed within 24 h",
            "Highest minus lowest RH of the last 24 h exceeds the room's allowed swing"
            ' by {{ $value | printf "%.1f" }} % RH.',
        ),
        Rule(
            "ArchroomClimateSensorDown",
            "archroom-climate-sensor-down",
            "archroom_sensor_up",
            "<",
            1,
            "5m",
            "warning",
            "{{ $labels.room }}: climate sensor {{ $labels.sensor }} does not answer",
            "The sensor has not answered for 5 minutes; its room is judged on the others.",
        ),
        Rule(
            "ArchroomMouldRisk",
            "archroom-mould-risk",
            f"{_room_mean(RH)} * 100"
            f" and on (room) ({_room_mean(T)} >= {MOULD_T_MIN_C:g} <= {MOULD_T_MAX_C:g})",
            ">",
            MOULD_RH_PCT,
            "30m",
            "critical",
            "{{ $labels.room }}: mould risk",
            "The room mean has stayed above 65 % RH at a temperature moulds grow at"
            ' (2-45 °C) for 30 minutes: {{ $value | printf "%.1f" }} % RH.',
        ),
        Rule(
            "ArchroomClimateControlNotEffective",
            "archroom-climate-control-not-effective",
            f'archroom_alarms_active{{kind="actuator.ineffective"}}{IN_ROOM}',
            ">",
            0,
            "0m",
            "warning",
            "{{ $labels.room }}: climate control not effective",
            "An actuator has run for its feedback time without moving the room's temperature or"
            " humidity (a full tank, a tripped breaker, a door left open); see the"
            " actuator.ineffective alarm.",
        ),
        Rule(
            "ArchroomClimateActuatorFault",
            "archroom-climate-actuator-fault",
            f'archroom_alarms_active{{kind="actuator.fault"}}{IN_ROOM}',
            ">",
            0,
            "5m",
            "warning",
            "{{ $labels.room }}: a climate actuator cannot be switched",
            "The relay module or air handler has not answered (or not read back the switch) for"
            " 5 minutes; the daemon keeps trying. See the actuator.fault alarm.",
        ),
    ),
)

ROOM = Group(
    "archroom-room",
    "30s",
    (
        Rule(
            "ArchroomReaderDown",
            "archroom-reader-down",
            f"archroom_rfid_reader_up{IN_ROOM}",
            "<",
            1,
            "5m",
            "warning",
            "{{ $labels.room }}: RFID reader {{ $labels.reader }} is down",
            "The reader's link has been down for 5 minutes: its shelves or gate are blind.",
        ),
        Rule(
            "ArchroomReaderMalformedFrames",
            "archroom-reader-malformed-frames",
            f"rate(archroom_rfid_frame_errors_total[5m]) * 60{IN_ROOM}",
            ">",
            1,
            "15m",
            "warning",
            "{{ $labels.room }}: reader {{ $labels.reader }} sends malformed frames",
            "More than one malformed frame a minute for 15 minutes: check the cable, the"
            " baud rate and the reader's address.",
        ),
        Rule(
            "ArchroomUnauthorizedRemoval",
            "archroom-unauthorized-removal",
            f"increase(archroom_gate_alarms_total[5m]){IN_ROOM}",
            ">",
            0,
            "0m",
            "critical",
            "{{ $labels.room }}: item carried out through {{ $labels.gate }} without a loan",
            "The gate decided an unauthorized removal; see the gate.unauthorized alarm.",
        ),
        Rule(
            "ArchroomStackerDown",
            "archroom-stacker-down",
            f"archroom_stacker_up{IN_ROOM}",
            "<",
            1,
            "2m",
            "critical",
            "{{ $labels.room }}: the stacker PLC is unreachable",
            "No retrieval or storage is possible while the PLC link is down.",
        ),
        Rule(
            "ArchroomStackerFault",
            "archroom-stacker-fault",
            f"increase(archroom_stacker_faults_total[10m]){IN_ROOM}",
            ">",
            0,
            "0m",
            "warning",
            "{{ $labels.room }}: stacker fault or exception {{ $labels.code }}",
            "The stacker reported a fault or held a job for a decision in the last 10 minutes.",
        ),
        Rule(
            "ArchroomEventsNotDelivered",
            "archroom-events-not-delivered",
            f"archroom_outbox_pending{IN_ROOM}",
            ">",
            1000,
            "15m",
            "warning",
            "{{ $labels.room }}: events are piling up for MQTT",
            "More than 1000 events have waited for the broker for 15 minutes.",
        ),
        Rule(
            "ArchroomMqttDisconnected",
            "archroom-mqtt-disconnected",
            f"archroom_mqtt_connected{IN_ROOM}",
            "<",
            1,
            "10m",
            "warning",
            "{{ $labels.room }}: the daemon is not connected to its MQTT broker",
            "Events wait in the outbox (nothing is lost) until the broker is back.",
        ),
    ),
)

GROUPS = (CLIMATE, ROOM)
