"""A healthy room exports every labelled series at 0 from the start, for each known label value."""

import re
from pathlib import Path
from typing import Any

from daemon.config import ArchroomConfig
from daemon.metric_labels import (
    ACTUATOR_ALARM_KINDS,
    CLIMATE_ALARM_KINDS,
    ROOM_ALARM_KINDS,
    STACKER_ALARM_KINDS,
    preset_labels,
)
from daemon.metrics import Metrics
from sensors.service import control

ROOT = Path(__file__).resolve().parents[2]
CONFIG: dict[str, Any] = {
    "room": "stack-1",
    "rooms": [{"id": "stack-1"}, {"id": "film-vault", "class": "film-master"}],
    "readers": [
        {"type": "uhfreader18", "id": "shelf-1", "url": "socket://127.0.0.1:1", "role": "shelf"},
        {"type": "llrp", "id": "door-1", "url": "tcp://127.0.0.1:2", "role": "gate"},
    ],
    "gates": [{"id": "door-1", "reader": "door-1", "inside_antenna": 1, "outside_antenna": 2}],
    "stacker": {"id": "stacker-1", "url": "tcp://127.0.0.1:3", "bays": 2, "levels": 2},
    "buses": [{"id": "rs485", "url": "socket://127.0.0.1:4"}],
    "sensors": [
        {"type": "xy-md02", "id": "vault-a", "bus": "rs485", "room": "film-vault", "device_id": 1}
    ],
    "actuators": [
        {
            "id": "dh-9",
            "room": "film-vault",
            "kind": "dehumidifier",
            "url": "tcp://127.0.0.1:5",
            "address": 0,
        }
    ],
}


def samples(metrics: Metrics) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in metrics.registry.collect()
        for s in family.samples
    }


def test_known_label_values_are_exported_at_zero_before_anything_happens() -> None:
    metrics = Metrics(room="stack-1")
    preset_labels(metrics, ArchroomConfig(**CONFIG))
    found = samples(metrics)

    def value(name: str, **labels: str) -> float | None:
        return found.get((name, frozenset(labels.items())))

    assert value("archroom_rfid_reads_total", reader="shelf-1") == 0
    assert value("archroom_rfid_frame_errors_total", reader="door-1") == 0
    assert value("archroom_gate_passages_total", gate="door-1", direction="in") == 0
    assert value("archroom_gate_passages_total", gate="door-1", direction="out") == 0
    assert value("archroom_gate_alarms_total", gate="door-1") == 0
    assert value("archroom_stacker_jobs_total", kind="retrieve", result="ok") == 0
    assert value("archroom_stacker_jobs_total", kind="store", result="empty_retrieval") == 0
    assert value("archroom_stacker_faults_total", code="e_stop") == 0
    assert value("archroom_stacker_faults_total", code="accept_timeout") == 0
    assert value("archroom_sensor_errors_total", sensor="vault-a", error="timeout") == 0
    assert value("archroom_sensor_rejected_values_total", sensor="vault-a") == 0
    assert value("archroom_climate_actuator_on", room="film-vault", actuator="dh-9") == 0
    assert (
        value("archroom_climate_actuator_runtime_seconds_total", room="film-vault", actuator="dh-9")
        == 0
    )
    assert (
        value("archroom_climate_actuator_write_failures_total", room="film-vault", actuator="dh-9")
        == 0
    )
    for kind in (
        *ROOM_ALARM_KINDS,
        *STACKER_ALARM_KINDS,
        *CLIMATE_ALARM_KINDS,
        *ACTUATOR_ALARM_KINDS,
    ):
        assert value("archroom_alarms_active", kind=kind) == 0, kind
    assert value("archroom_alarms_active", kind="climate.mould-risk") == 0
    assert value("archroom_inventory_last_timestamp_seconds", room="stack-1") == 0
    assert value("archroom_reconciliation_discrepancies", discrepancy="missing") == 0
    assert value("archroom_build_info", version=metrics_version(found), room="stack-1") == 1


def metrics_version(found: dict[tuple[str, frozenset[tuple[str, str]]], float]) -> str:
    (version,) = {
        dict(labels)["version"] for name, labels in found if name == "archroom_build_info"
    }
    return version


def test_a_room_without_stacker_or_sensors_exports_none_of_their_series() -> None:
    metrics = Metrics(room="stack-1")
    config = {
        k: v for k, v in CONFIG.items() if k not in ("stacker", "buses", "sensors", "actuators")
    }
    preset_labels(metrics, ArchroomConfig(**config))
    names = {name for name, labels in samples(metrics) if labels}
    assert "archroom_stacker_jobs_total" not in names
    assert "archroom_sensor_errors_total" not in names
    assert "archroom_climate_actuator_on" not in names
    kinds = {
        dict(labels)["kind"]
        for name, labels in samples(metrics)
        if name == "archroom_alarms_active"
    }
    assert kinds == set(ROOM_ALARM_KINDS)


def test_every_alarm_kind_the_code_raises_is_known() -> None:
    """A new alarm kind must join the presets, or its dashboards and rules start empty."""
    raised: set[str] = set()
    for package in ("daemon", "rfid", "stacker", "sensors"):
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            raised |= set(re.findall(r'kind="([a-z_]+\.[a-z_.-]+)"', text))
            raised |= set(re.findall(r'^\s+"(stacker\.[a-z_]+)",$', text, re.MULTILINE))
    known = {*ROOM_ALARM_KINDS, *STACKER_ALARM_KINDS, *CLIMATE_ALARM_KINDS}
    assert raised, "the search found no alarm kinds: the pattern is stale"
    assert sorted(raised - known) == []
    # climate control names its kinds by constant
    assert set(control.ALARM_KINDS) == set(ACTUATOR_ALARM_KINDS)
