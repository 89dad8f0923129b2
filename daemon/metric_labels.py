"""Every labelled metric exported at 0 from the start, for each label value it is known to take.

A Prometheus counter or gauge with labels has no series until its first ``labels(...)`` call:
a healthy room that has never seen a malformed frame, a stacker fault or an unauthorized
removal exports nothing for them, so a dashboard panel says "No data" (which reads as "broken")
and ``increase()`` misses the first event (a series that appears at 1 has not increased).
The daemon knows the label values in advance: readers, gates, sensors and rooms come from the
configuration, job kinds, results and fault codes from the stacker's interface, alarm kinds
from the services that raise them. This module touches each of them once, before any service
starts, and nothing else: the services keep setting and counting as before.

Timestamps exported at 0 mean "never" (the end of the last inventory, of the last
reconciliation run); docs/monitoring.md says how the dashboards show that.
"""

from __future__ import annotations

import typing

from daemon.config import ArchroomConfig
from daemon.metrics import Metrics
from daemon.reconcile.classify import CLASSES
from sensors.alarms import AlarmKind
from stacker.journal import JobKind, JobState
from stacker.registers import CompletionCode, ExcReq

ROOM_ALARM_KINDS = (
    "gate.unauthorized",
    "item.misplaced",
    "item.missing",
    "reader.down",
    "loan.overdue",
    "inventory.due",
)
"""Alarm kinds every daemon can raise, stacker or not."""
STACKER_ALARM_KINDS = (
    "stacker.down",
    "stacker.fault",
    "stacker.journal",
    "stacker.job_timeout",
    "stacker.job_failed",
    "stacker.exception",
    "stacker.accept_timeout",
    "stacker.outcome_unknown",
    "stacker.foreign_result",
    "stacker.station_mismatch",
)
CLIMATE_ALARM_KINDS = tuple(
    "sensor.fault" if kind == "sensor-fault" else f"climate.{kind}"
    for kind in typing.get_args(AlarmKind)
)
ACTUATOR_ALARM_KINDS = ("actuator.fault", "actuator.ineffective")
"""Raised by climate control (sensors/service/control.py) when actuators are configured."""
STACKER_FAULT_CODES = (
    # FaultRaised kinds (stacker/events.py)
    "plc_fault",
    "e_stop",
    "door_open",
    "safety",
    "host_watchdog",
    # exception requests, and what the host itself counts as a fault
    *(flag.name.lower() for flag in ExcReq if flag.name),
    "accept_timeout",
    "execution_timeout",
    "journal_unavailable",
)
STACKER_RESULTS = (
    *(code.name.lower() for code in CompletionCode),
    *(state.value for state in JobState if state.terminal and state is not JobState.DONE),
)
"""What ``Job.result`` can say: a completion code's name or a terminal state's."""
SENSOR_ERRORS = ("timeout", "error-answer")
GATE_DIRECTIONS = ("in", "out")


def preset_labels(metrics: Metrics, config: ArchroomConfig) -> None:
    """Create each known series of ``metrics`` at 0 (see the module docstring)."""
    m = metrics
    for reader in config.readers:
        m.rfid_reads.labels(reader=reader.id)
        m.rfid_frame_errors.labels(reader=reader.id)
        m.rfid_reader_up.labels(reader=reader.id)
    for gate in config.gates:
        m.gate_alarms.labels(gate=gate.id)
        for direction in GATE_DIRECTIONS:
            m.gate_passages.labels(gate=gate.id, direction=direction)
    kinds: list[str] = list(ROOM_ALARM_KINDS)
    if config.stacker is not None:
        kinds += STACKER_ALARM_KINDS
        for job_kind in JobKind:
            for result in STACKER_RESULTS:
                m.stacker_jobs.labels(kind=job_kind.value, result=result)
        for code in STACKER_FAULT_CODES:
            m.stacker_faults.labels(code=code)
    if config.sensors:
        kinds += CLIMATE_ALARM_KINDS
        for sensor in config.sensors:
            m.sensor_readings.labels(sensor=sensor.id)
            m.sensor_rejected.labels(sensor=sensor.id)
            for error in SENSOR_ERRORS:
                m.sensor_errors.labels(sensor=sensor.id, error=error)
    if config.actuators:
        kinds += ACTUATOR_ALARM_KINDS
        for a in config.actuators:
            m.climate_actuator_on.labels(room=a.room, actuator=a.id).set(0)
            m.climate_actuator_runtime.labels(room=a.room, actuator=a.id)
            m.climate_actuator_write_failures.labels(room=a.room, actuator=a.id)
    for kind in kinds:
        m.alarms_active.labels(kind=kind).set(0)
    m.inventory_last.labels(room=config.room).set(0)
    m.inventory_coverage.labels(room=config.room).set(0)
    m.reconciliation_last.labels(room=config.room).set(0)
    for discrepancy in CLASSES:
        m.reconciliation_discrepancies.labels(discrepancy=discrepancy).set(0)
