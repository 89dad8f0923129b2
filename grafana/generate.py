"""Generate the Grafana dashboards in ``grafana/dashboards/`` (``python -m grafana.generate``).

The dashboards are data, but writing five JSON files by hand invites drift between panels;
this module is their single source. It also renders the alert rules of ``grafana/rules.py``
twice: a Prometheus rule file (``grafana/prometheus/``) and Grafana alerting provisioning
(``grafana/provisioning/alerting/``). A test regenerates everything and fails if a committed
file differs, and checks every metric a panel or a rule queries exists in the daemon's
registry.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from grafana.rules import GROUPS

DATASOURCE = {"type": "prometheus", "uid": "archroom-prometheus"}
HERE = Path(__file__).parent


def _target(expr: str, legend: str = "", ref: str = "A") -> dict[str, Any]:
    return {"datasource": DATASOURCE, "expr": expr, "legendFormat": legend, "refId": ref}


ROOM = '{room=~"$room"}'
"""Selector for series that carry a ``room`` label (climate, inventory)."""
IN_ROOM = f" * on (instance, job) group_left (room) archroom_build_info{ROOM}"
"""Appended to a per-target query: keeps the series of the daemons that own the selected rooms
and labels them with the room (readers, gates, the stacker have no ``room`` label)."""


NO_ACTUATOR = (
    ' or on (room) (0 * archroom_climate_temperature_limit_celsius{room=~"$room",bound="max"})'
)
"""Appended to an actuator query: a room without actuators has a line at 0, not "No data"."""


def in_room(expr: str) -> str:
    return f"({expr}{IN_ROOM})"


def count(expr: str) -> str:
    """A count from ``increase()``: rounded, since extrapolation gives "18.4 removals"."""
    return f"round({expr})"


LIMIT_LINES = {
    "matcher": {"id": "byRegexp", "options": r".*(min|max|allowed)$"},
    "properties": [
        {"id": "custom.lineStyle", "value": {"fill": "dash", "dash": [10, 10]}},
        {"id": "custom.lineWidth", "value": 1},
        {"id": "color", "value": {"mode": "fixed", "fixedColor": "red"}},
    ],
}
"""Series whose legend ends in min, max or allowed are limits: drawn as dashed red lines."""


def timeseries(
    title: str,
    targets: list[tuple[str, str]],
    *,
    unit: str = "short",
    decimals: int | None = None,
    thresholds: Sequence[tuple[float | None, str]] | None = None,
    width: int = 12,
    description: str = "",
    stats: bool = False,
    limit_lines: bool = False,
) -> dict[str, Any]:
    steps = [{"color": color, "value": value} for value, color in (thresholds or [(None, "green")])]
    defaults: dict[str, Any] = {
        "unit": unit,
        "thresholds": {"mode": "absolute", "steps": steps},
        "custom": {"thresholdsStyle": {"mode": "line" if thresholds else "off"}},
    }
    if decimals is not None:
        defaults["decimals"] = decimals
    legend: dict[str, Any] = {"displayMode": "list", "placement": "bottom"}
    if stats:
        legend = {"displayMode": "table", "placement": "bottom", "calcs": ["min", "max", "mean"]}
    return {
        "type": "timeseries",
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "gridPos": {"h": 8, "w": width},
        "fieldConfig": {
            "defaults": defaults,
            "overrides": [LIMIT_LINES] if limit_lines else [],
        },
        "options": {"legend": legend},
        "targets": [
            _target(expr, legend, chr(ord("A") + i)) for i, (expr, legend) in enumerate(targets)
        ],
    }


def stat(
    title: str,
    expr: str,
    *,
    legend: str = "",
    unit: str = "short",
    decimals: int | None = None,
    thresholds: Sequence[tuple[float | None, str]] | None = None,
    mappings: list[dict[str, Any]] | None = None,
    width: int = 6,
    description: str = "",
) -> dict[str, Any]:
    steps = [{"color": color, "value": value} for value, color in (thresholds or [(None, "green")])]
    defaults: dict[str, Any] = {
        "unit": unit,
        "thresholds": {"mode": "absolute", "steps": steps},
        "mappings": mappings or [],
    }
    if decimals is not None:
        defaults["decimals"] = decimals
    return {
        "type": "stat",
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "gridPos": {"h": 4, "w": width},
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": {"reduceOptions": {"calcs": ["lastNotNull"]}, "colorMode": "background"},
        "targets": [_target(expr, legend)],
    }


def room_variable(metric: str) -> dict[str, Any]:
    return {
        "name": "room",
        "label": "Room",
        "type": "query",
        "datasource": DATASOURCE,
        "query": {"query": f"label_values({metric}, room)", "refId": "rooms"},
        "refresh": 2,
        "includeAll": True,
        "multi": True,
        "current": {"text": "All", "value": "$__all"},
    }


def dashboard(
    uid: str,
    title: str,
    panels: list[dict[str, Any]],
    *,
    rooms_from: str = "archroom_build_info",
) -> dict[str, Any]:
    """A dashboard whose ``$room`` variable lists the ``room`` values of ``rooms_from``."""
    x = y = 0
    row_height = 0
    for i, panel in enumerate(panels, start=1):
        panel["id"] = i
        w, h = panel["gridPos"]["w"], panel["gridPos"]["h"]
        if x + w > 24:
            x, y = 0, y + row_height
            row_height = 0
        panel["gridPos"].update({"x": x, "y": y})
        x += w
        row_height = max(row_height, h)
    return {
        "uid": uid,
        "title": title,
        "tags": ["archroom"],
        "timezone": "browser",
        "schemaVersion": 39,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-24h", "to": "now"},
        "templating": {"list": [room_variable(rooms_from)]},
        "panels": panels,
    }


UP_MAPPING = [
    {
        "type": "value",
        "options": {"0": {"text": "DOWN", "color": "red"}, "1": {"text": "UP", "color": "green"}},
    }
]
MODE_MAPPING = [
    {
        "type": "value",
        "options": {
            "0": {"text": "off", "color": "red"},
            "1": {"text": "manual", "color": "orange"},
            "2": {"text": "semi-auto", "color": "yellow"},
            "3": {"text": "auto", "color": "green"},
            "4": {"text": "maintenance", "color": "orange"},
        },
    }
]
NEVER_MAPPING = [
    {
        "type": "range",
        "options": {"from": 3650, "to": None, "result": {"text": "never", "color": "red"}},
    }
]
"""An age of ten years or more is a timestamp exported at 0: it never happened."""
DOWN = [(None, "green"), (1, "red")]


def _quantile(q: float, histogram: str, window: str) -> str:
    return f"histogram_quantile({q}, sum by (le) (rate({histogram}_bucket[{window}]){IN_ROOM}))"


def climate() -> dict[str, Any]:
    sel = ROOM
    return dashboard(
        "archroom-climate",
        "archroom: climate",
        [
            timeseries(
                "Temperature",
                [
                    (f"archroom_climate_temperature_celsius{sel}", "{{room}} {{sensor}}"),
                    (
                        'archroom_climate_temperature_limit_celsius{room=~"$room",bound=~"min|max"}',
                        "{{room}} {{bound}}",
                    ),
                ],
                unit="celsius",
                stats=True,
                limit_lines=True,
                description="Dashed lines: each room's own limits (its class, or its overrides).",
            ),
            timeseries(
                "Relative humidity",
                [
                    (f"archroom_climate_humidity_ratio{sel} * 100", "{{room}} {{sensor}}"),
                    (
                        'archroom_climate_humidity_limit_ratio{room=~"$room",bound=~"min|max"}'
                        " * 100",
                        "{{room}} {{bound}}",
                    ),
                ],
                unit="percent",
                stats=True,
                limit_lines=True,
                description="Dashed lines: each room's own limits (its class, or its overrides).",
            ),
            timeseries(
                "Temperature swing over 24 h",
                [
                    (f"archroom_climate_temperature_swing_celsius{sel}", "{{room}}"),
                    (
                        'archroom_climate_temperature_limit_celsius{room=~"$room",bound="swing"}',
                        "{{room}} allowed",
                    ),
                ],
                unit="celsius",
                stats=True,
                limit_lines=True,
                description=(
                    "Highest minus lowest room temperature of the last 24 h, against the room's"
                    " allowed swing (JGJ 25-2010 §5.2.3: ±2 °C)."
                ),
            ),
            timeseries(
                "Humidity swing over 24 h",
                [
                    (f"archroom_climate_humidity_swing_ratio{sel} * 100", "{{room}}"),
                    (
                        'archroom_climate_humidity_limit_ratio{room=~"$room",bound="swing"} * 100',
                        "{{room}} allowed",
                    ),
                ],
                unit="percent",
                stats=True,
                limit_lines=True,
                description=(
                    "Highest minus lowest room RH of the last 24 h, against the room's allowed"
                    " swing (JGJ 25-2010 §5.2.3: ±5 % RH)."
                ),
            ),
            timeseries(
                "Dew point",
                [(f"archroom_climate_dew_point_celsius{sel}", "{{room}} {{sensor}}")],
                unit="celsius",
                stats=True,
            ),
            timeseries(
                "Preservation Index",
                [
                    (f"archroom_climate_preservation_index_years{sel}", "PI {{room}}"),
                    (f"archroom_climate_twpi_years{sel}", "TWPI {{window}} {{room}}"),
                ],
                unit="y",
                thresholds=[(None, "red"), (45, "yellow"), (75, "green")],
                description="Ratings: >= 75 good, 45-75 ok, < 45 risk.",
                stats=True,
            ),
            timeseries(
                "Hours at mould risk",
                [(f"archroom_climate_mould_risk_seconds{sel} / 3600", "{{room}} {{window}}")],
                unit="h",
            ),
            timeseries(
                "Actuators",
                [(f"archroom_climate_actuator_on{sel}{NO_ACTUATOR}", "{{room}} {{actuator}}")],
                decimals=0,
                description=(
                    "Dehumidifiers, humidifiers, cooling and heating switched by climate control:"
                    " 1 on, 0 off, as read back from the relay module. A room without actuators"
                    " shows one line at 0."
                ),
            ),
            timeseries(
                "Actuator duty (1 h)",
                [
                    (
                        f"rate(archroom_climate_actuator_runtime_seconds_total{sel}[1h])"
                        + NO_ACTUATOR,
                        "{{room}} {{actuator}}",
                    )
                ],
                unit="percentunit",
                description="Share of the last hour each actuator ran.",
            ),
            stat(
                "Sensors down",
                f"count(archroom_sensor_up{sel} == 0) or vector(0)",
                decimals=0,
                thresholds=DOWN,
            ),
            stat(
                "Climate alarms",
                'sum(archroom_alarms_active{kind=~"climate.*|sensor.*|actuator.*"}'
                f" and on (instance, job) archroom_climate_temperature_limit_celsius{sel})"
                " or vector(0)",
                decimals=0,
                thresholds=DOWN,
                description=(
                    "Active climate, sensor and actuator alarms of the daemons judging the rooms."
                ),
            ),
            stat(
                "Rejected sensor values (1 h)",
                count(
                    "sum(increase(archroom_sensor_rejected_values_total[1h])"
                    f" and on (instance, job, sensor) archroom_sensor_up{sel})"
                )
                + " or vector(0)",
                decimals=0,
                thresholds=[(None, "green"), (1, "orange")],
            ),
        ],
        rooms_from="archroom_climate_temperature_limit_celsius",
    )


def rfid() -> dict[str, Any]:
    return dashboard(
        "archroom-rfid",
        "archroom: RFID readers and gates",
        [
            timeseries(
                "Reads per second by reader",
                [
                    (
                        f"sum by (room, reader) (rate(archroom_rfid_reads_total[1m]){IN_ROOM})",
                        "{{room}} {{reader}}",
                    )
                ],
                unit="suffix: reads/s",
            ),
            timeseries(
                "Malformed frames per minute",
                [
                    (
                        "sum by (room, reader) "
                        f"(rate(archroom_rfid_frame_errors_total[5m]) * 60{IN_ROOM})",
                        "{{room}} {{reader}}",
                    )
                ],
                unit="suffix: frames/min",
                thresholds=[(None, "green"), (1, "orange")],
            ),
            stat(
                "Readers down",
                f"count({in_room('archroom_rfid_reader_up')} == 0) or vector(0)",
                decimals=0,
                thresholds=DOWN,
            ),
            stat("Readers up", f"sum{in_room('archroom_rfid_reader_up')}", decimals=0),
            stat(
                "Unauthorized removals (24 h)",
                count(f"sum(increase(archroom_gate_alarms_total[24h]){IN_ROOM})") + " or vector(0)",
                decimals=0,
                thresholds=DOWN,
            ),
            stat(
                "Passages (24 h)",
                count(f"sum(increase(archroom_gate_passages_total[24h]){IN_ROOM})")
                + " or vector(0)",
                decimals=0,
            ),
            timeseries(
                "Gate passages per hour",
                [
                    (
                        count(
                            "sum by (room, gate, direction) "
                            f"(increase(archroom_gate_passages_total[1h]){IN_ROOM})"
                        ),
                        "{{room}} {{gate}} {{direction}}",
                    )
                ],
                decimals=0,
            ),
            timeseries(
                "Unauthorized-removal alarms per hour",
                [
                    (
                        count(
                            "sum by (room, gate) "
                            f"(increase(archroom_gate_alarms_total[1h]){IN_ROOM})"
                        ),
                        "{{room}} {{gate}}",
                    )
                ],
                decimals=0,
                thresholds=DOWN,
            ),
        ],
    )


def stacker() -> dict[str, Any]:
    return dashboard(
        "archroom-stacker",
        "archroom: stacker",
        [
            stat("PLC link", in_room("archroom_stacker_up"), mappings=UP_MAPPING),
            stat("Mode", in_room("archroom_stacker_mode"), mappings=MODE_MAPPING),
            stat(
                "Stacker alarms",
                "sum" + in_room('archroom_alarms_active{kind=~"stacker.*"}') + " or vector(0)",
                decimals=0,
                thresholds=DOWN,
            ),
            stat(
                "Jobs (24 h)",
                count(f"sum(increase(archroom_stacker_jobs_total[24h]){IN_ROOM})")
                + " or vector(0)",
                decimals=0,
            ),
            timeseries(
                "Jobs per hour by kind and result",
                [
                    (
                        count(
                            "sum by (room, kind, result) "
                            f"(increase(archroom_stacker_jobs_total[1h]){IN_ROOM})"
                        ),
                        "{{room}} {{kind}} {{result}}",
                    )
                ],
                decimals=0,
            ),
            timeseries(
                "Job duration (strobe to done)",
                [
                    (_quantile(0.5, "archroom_stacker_job_duration_seconds", "1h"), "p50"),
                    (_quantile(0.95, "archroom_stacker_job_duration_seconds", "1h"), "p95"),
                ],
                unit="s",
            ),
            timeseries(
                "Faults and exceptions per hour",
                [
                    (
                        count(
                            "sum by (room, code) "
                            f"(increase(archroom_stacker_faults_total[1h]){IN_ROOM})"
                        ),
                        "{{room}} {{code}}",
                    )
                ],
                decimals=0,
            ),
        ],
    )


def ledger() -> dict[str, Any]:
    return dashboard(
        "archroom-items",
        "archroom: items, loans and inventory",
        [
            timeseries(
                "Items by state",
                [(f"sum by (room, state) {in_room('archroom_items')}", "{{room}} {{state}}")],
                decimals=0,
            ),
            timeseries(
                "Loans",
                [
                    (in_room("archroom_loans_open"), "{{room}} open"),
                    (in_room("archroom_loans_overdue"), "{{room}} overdue"),
                ],
                decimals=0,
            ),
            stat("Open loans", f"sum{in_room('archroom_loans_open')}", decimals=0),
            stat(
                "Overdue loans",
                f"sum{in_room('archroom_loans_overdue')}",
                decimals=0,
                thresholds=[(None, "green"), (1, "orange")],
            ),
            stat(
                "Missing items",
                "sum" + in_room('archroom_items{state="missing"}'),
                decimals=0,
                thresholds=DOWN,
            ),
            stat(
                "Days since the last full inventory",
                f"(time() - max(archroom_inventory_last_timestamp_seconds{ROOM})) / 86400",
                thresholds=[(None, "green"), (150, "orange"), (183, "red")],
                unit="d",
                decimals=0,
                mappings=NEVER_MAPPING,
            ),
            timeseries(
                "Inventory campaign coverage",
                [(f"archroom_inventory_coverage_ratio{ROOM} * 100", "{{room}}")],
                unit="percent",
            ),
            timeseries(
                "Discrepancies in the last reconciliation",
                [
                    (
                        "sum by (room, discrepancy) "
                        f"{in_room('archroom_reconciliation_discrepancies')}",
                        "{{room}} {{discrepancy}}",
                    )
                ],
                decimals=0,
            ),
        ],
    )


def operations() -> dict[str, Any]:
    return dashboard(
        "archroom-operations",
        "archroom: alarms and operations",
        [
            stat(
                "Active alarms",
                f"sum{in_room('archroom_alarms_active')} or vector(0)",
                decimals=0,
                thresholds=DOWN,
            ),
            stat("MQTT broker", in_room("archroom_mqtt_connected"), mappings=UP_MAPPING),
            stat(
                "Events waiting for MQTT",
                f"sum{in_room('archroom_outbox_pending')}",
                decimals=0,
                thresholds=[(None, "green"), (100, "orange")],
            ),
            stat("Version", f"archroom_build_info{ROOM}", legend="{{room}} {{version}}"),
            timeseries(
                "Active alarms by kind",
                [
                    (
                        f"sum by (room, kind) {in_room('archroom_alarms_active')}",
                        "{{room}} {{kind}}",
                    )
                ],
                decimals=0,
            ),
            timeseries(
                "Outbox: events not yet delivered",
                [(in_room("archroom_outbox_pending"), "{{room}} pending")],
                decimals=0,
            ),
            timeseries(
                "Event loop lag (p99 over 5 min)",
                [(_quantile(0.99, "archroom_event_loop_lag_seconds", "5m"), "p99")],
                unit="s",
                thresholds=[(None, "green"), (0.05, "orange"), (0.25, "red")],
            ),
            timeseries(
                "Service restarts per hour",
                [
                    (
                        count(
                            "sum by (room, service) "
                            f"(increase(archroom_service_restarts_total[1h]){IN_ROOM})"
                        ),
                        "{{room}} {{service}}",
                    )
                ],
                decimals=0,
            ),
        ],
    )


DASHBOARDS = {
    "climate.json": climate,
    "rfid.json": rfid,
    "stacker.json": stacker,
    "items.json": ledger,
    "operations.json": operations,
}
PROMETHEUS_RULES = Path("prometheus") / "archroom-rules.yml"
GRAFANA_ALERTING = Path("provisioning") / "alerting" / "archroom.yaml"


# -- alert rules -------------------------------------------------------------------------------


def prometheus_rules() -> dict[str, Any]:
    """The rule file Prometheus loads (``rule_files:``), checked by ``promtool``. Groups follow
    the global ``evaluation_interval``; Grafana's copy carries its own interval."""
    groups = []
    for group in GROUPS:
        rules = []
        for rule in group.rules:
            entry: dict[str, Any] = {"alert": rule.alert, "expr": rule.expr}
            if rule.hold != "0m":
                entry["for"] = rule.hold
            entry["labels"] = {"severity": rule.severity}
            entry["annotations"] = {"summary": rule.summary, "description": rule.description}
            rules.append(entry)
        groups.append({"name": group.name, "rules": rules})
    return {"groups": groups}


def grafana_alerting() -> dict[str, Any]:
    """The same rules as Grafana alerting provisioning: query A (the signal), B its last value,
    C the threshold on B."""
    groups = []
    for group in GROUPS:
        rules = []
        for rule in group.rules:
            rules.append(
                {
                    "uid": rule.uid,
                    "title": rule.alert,
                    "condition": "C",
                    "data": [
                        {
                            "refId": "A",
                            "relativeTimeRange": {"from": 600, "to": 0},
                            "datasourceUid": DATASOURCE["uid"],
                            "model": {
                                "refId": "A",
                                "expr": rule.signal,
                                "instant": True,
                                "intervalMs": 1000,
                                "maxDataPoints": 43200,
                            },
                        },
                        {
                            "refId": "B",
                            "datasourceUid": "__expr__",
                            "model": {
                                "refId": "B",
                                "type": "reduce",
                                "expression": "A",
                                "reducer": "last",
                            },
                        },
                        {
                            "refId": "C",
                            "datasourceUid": "__expr__",
                            "model": {
                                "refId": "C",
                                "type": "threshold",
                                "expression": "B",
                                "conditions": [
                                    {
                                        "evaluator": {
                                            "type": "gt" if rule.op == ">" else "lt",
                                            "params": [rule.threshold],
                                        }
                                    }
                                ],
                            },
                        },
                    ],
                    "noDataState": "OK",
                    "execErrState": "Error",
                    "for": rule.hold,
                    "labels": {"severity": rule.severity},
                    "annotations": {
                        "summary": rule.summary,
                        "description": rule.description.replace("$value", "$values.B.Value"),
                    },
                }
            )
        groups.append(
            {
                "orgId": 1,
                "name": group.name,
                "folder": "archroom",
                "interval": group.interval,
                "rules": rules,
            }
        )
    return {"apiVersion": 1, "groups": groups}


def to_yaml(value: Any, indent: int = 0) -> str:
    """Block-style YAML for dicts, lists, strings, numbers and booleans (enough for rule
    files). Strings are JSON-quoted, which YAML reads as double-quoted scalars."""
    pad = " " * indent
    if isinstance(value, dict):
        if not value:
            return pad + "{}\n"
        out = []
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                out.append(f"{pad}{key}:\n{to_yaml(item, indent + 2)}")
            else:
                out.append(f"{pad}{key}: {to_yaml(item).strip()}\n")
        return "".join(out)
    if isinstance(value, list):
        if not value:
            return pad + "[]\n"
        out = []
        for item in value:
            text = to_yaml(item, indent + 2)
            out.append(f"{pad}- {text[indent + 2 :]}")
        return "".join(out)
    return pad + json.dumps(value, ensure_ascii=False) + "\n"


def render() -> dict[str, str]:
    """Every generated file, by its path under ``grafana/``."""
    files = {
        str(Path("dashboards") / name): json.dumps(build(), indent=2, ensure_ascii=False) + "\n"
        for name, build in DASHBOARDS.items()
    }
    head = (
        "# Generated by `python -m grafana.generate` from grafana/rules.py: edit that, not this.\n"
    )
    files[str(PROMETHEUS_RULES)] = head + to_yaml(prometheus_rules())
    files[str(GRAFANA_ALERTING)] = head + to_yaml(grafana_alerting())
    return files


def main() -> None:
    for name, text in render().items():
        path = HERE / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
